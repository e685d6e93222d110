"""Real concurrent transactions (threads, one connection each) against real PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from retail.inventory import public as inventory
from retail.inventory.models import StockItem, StockMove
from retail.inventory.tests.factories import StockItemFactory

pytestmark = pytest.mark.django_db(transaction=True)
LATER = timezone.now() + timedelta(minutes=15)


def run_together(jobs):
    """Start every job at the same instant, each on its own connection; collect outcomes."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait()
            outcomes[index] = job()
        except Exception as error:  # noqa: BLE001 - reported to the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def reserve_job(lines, reference):
    def job():
        with transaction.atomic():
            inventory.reserve(lines, reference, expires_at=LATER)
        return "reserved"

    return job


def test_n_plus_k_buyers_of_n_units_get_exactly_n_reservations():
    StockItemFactory(sku="HOT", on_hand=10)

    outcomes = run_together([reserve_job({"HOT": 1}, f"ord_{index}") for index in range(25)])

    assert outcomes.count("reserved") == 10
    assert all(
        isinstance(outcome, inventory.OutOfStock) for outcome in outcomes if outcome != "reserved"
    )
    item = StockItem.objects.get(sku="HOT")
    assert (item.on_hand, item.reserved) == (10, 10)
    assert StockMove.objects.filter(reason="reserve").count() == 10


def test_carts_locking_the_same_skus_in_opposite_order_never_deadlock():
    skus = [f"S{index:02d}" for index in range(12)]
    for sku in skus:
        StockItemFactory(sku=sku, on_hand=1000)
    jobs = []
    for index in range(16):
        ordered = skus if index % 2 else list(reversed(skus))
        jobs.append(reserve_job(dict.fromkeys(ordered, 1), f"ord_{index}"))

    outcomes = run_together(jobs)

    assert outcomes == ["reserved"] * 16  # a deadlock would surface as OperationalError here
    assert set(StockItem.objects.values_list("reserved", flat=True)) == {16}


def test_concurrent_releases_and_commits_close_a_reservation_exactly_once():
    StockItemFactory(sku="A", on_hand=10)
    inventory.reserve({"A": 3}, "ord_1", expires_at=LATER)
    jobs = [lambda: inventory.release("ord_1")] * 4 + [lambda: inventory.commit("ord_1")] * 4

    outcomes = run_together(jobs)

    assert outcomes.count(True) == 1
    assert outcomes.count(False) == 7
    item = StockItem.objects.get(sku="A")
    assert item.reserved == 0
    assert item.on_hand in (7, 10)  # committed (7) or released (10), never both
    assert StockMove.objects.filter(reference="ord_1").exclude(reason="reserve").count() == 1
