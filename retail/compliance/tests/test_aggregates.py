"""Rules from windowed aggregates: the cost of evaluating an operation does not depend on the
holder's history, and what the rules find is what they found reading history."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from retail.compliance.models import Alert, HolderActivity, HolderInstrument, IdentityUse
from retail.compliance.tests.conftest import deliver

pytestmark = pytest.mark.django_db


def queries_to_pay(shop, customer_id, at):
    """The SQL of recording and evaluating one order and its capture of ``customer_id``."""
    with CaptureQueriesContext(connection) as context:
        shop.paid(customer_id, 1_000, at)
    return [query["sql"] for query in context.captured_queries]


def reads_history(sql):
    return 'FROM "compliance_operation_record"' in sql and '."customer_id" = ' in sql


def test_a_customer_with_a_long_history_costs_what_a_new_customer_costs(shop, now):
    hot = shop.customer()
    for day in range(60):  # two orders a day for two months, under every rule's radar
        for hour in (9, 15):
            shop.paid(hot, 1_000, now - timedelta(days=day + 1, hours=hour))
    shop.paid(shop.customer(), 1_000, now - timedelta(minutes=1))  # warm any lookup cache
    hot_queries = queries_to_pay(shop, hot, now)
    assert len(hot_queries) == len(queries_to_pay(shop, shop.customer(), now))
    assert not [sql for sql in hot_queries if reads_history(sql)]  # aggregates, not history
    assert not Alert.objects.exists()


def test_velocity_fires_from_the_counts_of_its_window_only(shop, now):
    customer_id = shop.customer()
    for minute in range(10):  # ten attempts two hours ago: out of the 60-minute window
        shop.paid(customer_id, 1_000, now - timedelta(hours=2, minutes=minute))
    for minute in range(10):  # ten attempts within the window: still at the limit
        shop.paid(customer_id, 1_000, now - timedelta(minutes=50 - minute))
    assert not Alert.objects.filter(rule__code="velocity").exists()
    order_id = shop.paid(customer_id, 1_000, now)  # the eleventh in 60 minutes
    alert = Alert.objects.get(rule__code="velocity")
    assert alert.evidence["operations"] == 11
    assert alert.operations.filter(order_id=order_id).exists()
    assert sum(HolderActivity.objects.values_list("attempts", flat=True)) == 21


def test_many_instruments_in_the_window_fire_velocity(shop, now):
    customer_id = shop.customer()
    for n in range(4):
        shop.paid(customer_id, 1_000, now - timedelta(minutes=10 - n), token=f"tok_card_{n}")
    assert HolderInstrument.objects.filter(customer_id=customer_id).count() == 4
    assert Alert.objects.get(rule__code="velocity").evidence["instruments"] == 4


def test_a_payment_recorded_before_its_order_is_counted_once_for_its_holder(shop, now):
    customer_id = shop.customer()
    event = shop.order_event(customer_id, 1_000, token="tok_early")
    shop.captured(event.order_id, 1_000, now)  # the capture's event overtook the order's
    assert not HolderActivity.objects.exists()  # holder unknown yet
    deliver(event, at=now - timedelta(seconds=5))
    assert list(HolderActivity.objects.values_list("customer_id", "attempts")) == [(customer_id, 1)]
    assert HolderInstrument.objects.filter(customer_id=customer_id).count() == 1


def test_a_known_shared_address_never_links_customers(shop, now, settings):
    settings.COMPLIANCE_SHARED_ADDRESSES = ["203.0.113.0/24"]
    for _ in range(5):
        shop.order(shop.customer(), 1_000, now, ip="203.0.113.9")
    assert not IdentityUse.objects.filter(attribute="client_ip").exists()
    assert not Alert.objects.filter(rule__code="shared-identity").exists()


def test_an_identity_used_before_the_window_links_no_one(shop, now):
    customers = [shop.customer() for _ in range(4)]
    for customer_id in customers[:3]:
        shop.order(customer_id, 1_000, now - timedelta(days=31), ip="198.51.100.20")
    shop.order(customers[3], 1_000, now, ip="198.51.100.20")
    assert not Alert.objects.filter(rule__code="shared-identity").exists()
    for customer_id in customers[:3]:  # the same customers again, inside the 30-day window
        shop.order(customer_id, 1_000, now, ip="198.51.100.20")
    alert = Alert.objects.get(rule__code="shared-identity")
    assert alert.evidence["customers"] == sorted(customers)
