"""Operation records from events, rules into alerts and cases, and what the database refuses."""

import datetime as dt
from datetime import timedelta

import psycopg
import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError, IntegrityError, OperationalError
from django.test import TestCase

from retail.compliance import domain, services, tasks
from retail.compliance.models import (
    Alert,
    Case,
    CaseDecision,
    Communication,
    Holiday,
    OperationRecord,
    PoliticallyExposedPerson,
    Rule,
)
from retail.compliance.tests.conftest import deliver, handle, structuring
from retail.customers import public as customers

pytestmark = pytest.mark.django_db


def test_an_order_and_its_payment_are_recorded_with_holder_beneficiary_and_psp(shop, now, settings):
    customer_id = shop.customer(name="Ana Souza")
    order_id = shop.paid(customer_id, 12_345, now)
    order, payment = OperationRecord.objects.order_by("occurred_at")
    assert (order.kind, order.direction, order.amount, order.order_id) == (
        "order",
        "none",
        12_345,
        order_id,
    )
    assert (payment.kind, payment.direction, payment.outcome) == ("payment", "credit", "completed")
    assert payment.customer_id == customer_id
    assert payment.holder_name == "Ana Souza"
    assert payment.payment_id == f"pay_{order_id[4:]}"
    assert payment.psp == settings.COMPLIANCE_PSP_NAME
    assert payment.psp_reference == f"psp_{order_id[4:]}"
    assert payment.beneficiary_document == settings.COMPLIANCE_REPORTER_CNPJ
    assert payment.occurred_at == now + timedelta(seconds=5)
    assert payment.retain_until == dt.date(now.year + 11, 1, 1)
    assert order.instrument
    assert "tok_ok" not in order.instrument


def test_no_plain_cpf_lands_in_any_record(shop, now):
    from retail.compliance.tests.conftest import valid_cpf

    shop.paid(shop.customer(), 5_000, now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(r)::text FROM compliance_operation_record r")
        rows = " ".join(row for (row,) in cursor.fetchall())
    cpfs = {valid_cpf(n * 7919) for n in range(1, 500)}
    assert not [cpf for cpf in cpfs if cpf in rows]


def test_a_failed_payment_is_a_refused_record(shop, now):
    customer_id = shop.customer()
    order_id = shop.order(customer_id, 5_000, now)
    shop.failed(order_id, 5_000, now)
    payment = OperationRecord.objects.get(kind="payment")
    assert (payment.outcome, payment.outcome_reason, payment.customer_id) == (
        "refused",
        "declined",
        customer_id,
    )


def test_the_same_event_twice_makes_one_record_and_one_alert(shop, now):
    customer_id = structuring(shop, now, count=2)
    order_id = shop.order(customer_id, 980_000, now - timedelta(hours=1))
    event = shop.capture_event(order_id, 980_000)
    event_id = deliver(event, at=now)
    records, alerts = OperationRecord.objects.count(), Alert.objects.count()
    assert alerts == 1
    deliver(event, at=now, event_id=event_id)
    assert (OperationRecord.objects.count(), Alert.objects.count()) == (records, alerts)
    assert Case.objects.count() == 1


def test_a_payment_recorded_before_its_order_gets_its_holder_and_the_rules_still_run(shop, now):
    customer_id = shop.customer()
    orders = [f"ord_LATE{i}" for i in range(3)]
    for i, order_id in enumerate(orders):  # payments first: the order events are late
        shop.captured(order_id, 980_000, now - timedelta(hours=3 - i))
    assert Alert.objects.count() == 0
    assert set(OperationRecord.objects.values_list("customer_id", flat=True)) == {""}
    from retail.orders.events import OrderPlaced

    for i, order_id in enumerate(orders):
        event = OrderPlaced(
            aggregate_id=order_id,
            order_id=order_id,
            number=str(i),
            channel="web",
            customer_id=customer_id,
            total=980_000,
            payment_method="pix",
            payment_token="tok_ok",
            lines=[],
            customer_name="Late",
            customer_email="late@example.com",
            client_ip="203.0.113.9",
        )
        deliver(event, at=now - timedelta(hours=3 - i, seconds=10))
    alert = Alert.objects.get()
    assert alert.rule.code == "structuring"
    assert alert.customer_id == customer_id
    assert alert.operations.filter(kind="payment").count() == 3


def test_structuring_opens_an_alert_and_a_case_with_their_deadlines(shop, now):
    customer_id = structuring(shop, now)
    alert = Alert.objects.get()
    payments = OperationRecord.objects.filter(kind="payment").order_by("occurred_at")
    assert list(alert.operations.order_by("occurred_at")) == list(payments)
    assert alert.operation_at == payments[0].occurred_at
    assert alert.selection_deadline == payments[0].occurred_at + timedelta(days=45)
    assert alert.parameters == Rule.objects.get(code="structuring").parameters
    case = alert.case
    assert (case.status, case.customer_id) == ("open", customer_id)
    assert case.analysis_deadline == case.selected_at + timedelta(days=45)
    assert case.retain_until == dt.date(case.selected_at.year + 11, 1, 1)


def test_a_fourth_operation_joins_the_open_alert_instead_of_opening_another(shop, now):
    customer_id = structuring(shop, now)
    shop.paid(customer_id, 990_000, now)
    alert = Alert.objects.get()
    assert alert.operations.count() == 4
    assert Case.objects.count() == 1


def test_two_operations_just_below_the_threshold_open_nothing(shop, now):
    structuring(shop, now, count=2)
    assert not Alert.objects.exists()
    assert not Case.objects.exists()


def test_cash_of_fifty_thousand_is_communicated_automatically_by_the_next_business_day(shop, now):
    customer_id = shop.customer()
    shop.paid(customer_id, 5_000_000, now, method="cash", token="", channel="pos")
    alert = Alert.objects.get()
    assert alert.automatic_communication
    assert alert.status == "decided"
    case = alert.case
    assert case.status == "communicate"
    assert case.decision.decided_by == services.AUTOMATIC_DECIDER
    due = case.communication.due_date
    assert due > case.decision.decided_at.astimezone(services.BRASILIA).date()
    assert due.weekday() < 5


def test_cash_just_below_fifty_thousand_is_not_communicated(shop, now):
    shop.paid(shop.customer(), 4_999_999, now, method="cash", token="", channel="pos")
    assert not Alert.objects.filter(rule__code="cash-50k").exists()


def test_the_communication_due_date_skips_weekends_and_holidays(db):
    friday_evening_brasilia = dt.datetime(2025, 11, 14, 23, 0, tzinfo=dt.UTC)  # 20:00 in Brasília
    assert services.communication_due_date(friday_evening_brasilia) == dt.date(2025, 11, 17)
    late_saturday_utc = dt.datetime(2025, 11, 16, 2, 0, tzinfo=dt.UTC)  # Saturday in Brasília
    assert services.communication_due_date(late_saturday_utc) == dt.date(2025, 11, 17)
    Holiday.objects.create(day=dt.date(2025, 11, 20), name="Consciência Negra")
    wednesday = dt.datetime(2025, 11, 19, 15, 0, tzinfo=dt.UTC)
    assert services.communication_due_date(wednesday) == dt.date(2025, 11, 21)


def test_pass_through_refund_opens_an_alert(shop, now):
    customer_id = shop.customer()
    order_id = shop.paid(customer_id, 500_000, now - timedelta(hours=2))
    shop.refunded(order_id, 450_000, now)
    alert = Alert.objects.get(rule__code="pass-through")
    assert alert.evidence["received"] == 500_000
    assert set(alert.operations.values_list("kind", flat=True)) == {"payment", "refund"}
    refund = OperationRecord.objects.get(kind="refund")
    assert (refund.direction, refund.refund_id) == ("debit", f"ref_{order_id[4:]}")


def test_an_evaluation_gives_up_on_a_holder_locked_too_long(shop, now, settings):
    """Bounded wait: the relay worker evaluating after its commit never hangs."""
    settings.COMPLIANCE_HOLDER_LOCK_TIMEOUT_MS = 100
    customer_id = shop.customer()  # not yet evaluated, so this test's transaction holds no lock
    with TestCase.captureOnCommitCallbacks() as evaluations:
        handle(shop.order_event(customer_id, 5_000_000, method="cash"), at=now)
    with other_session() as other:
        other.execute("SELECT pg_advisory_lock(hashtext('compliance:' || %s))", [customer_id])
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            evaluations[0]()
        other.execute("SELECT pg_advisory_unlock(hashtext('compliance:' || %s))", [customer_id])


def test_a_pep_listed_by_cpf_alone_is_matched_to_the_customer_with_that_cpf(shop, now):
    listed = customers.customer_upsert(name="Ana", email="ana@example.com", cpf="529.982.247-25")
    other = shop.customer()
    PoliticallyExposedPerson.objects.create(
        cpf_fingerprint=customers.cpf_reference("52998224725").fingerprint,
        name="Ana Lima",
        office="Senadora",
    )
    shop.paid(listed.id, 1_000, now)
    shop.paid(other, 1_000, now)
    alerted = Alert.objects.filter(rule__code="pep").values_list("customer_id", flat=True)
    assert list(alerted) == [listed.id]


def test_the_database_refuses_a_pep_entry_that_matches_nobody(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        PoliticallyExposedPerson.objects.create(name="Nobody", office="Vereador")


def test_a_pep_customer_is_alerted_and_five_years_after_office_is_not(shop, now):
    exposed, former = shop.customer(), shop.customer()
    PoliticallyExposedPerson.objects.create(customer_id=exposed, name="A", office="Deputada")
    PoliticallyExposedPerson.objects.create(
        customer_id=former,
        name="B",
        office="Prefeito",
        office_end=now.date() - timedelta(days=5 * 366 + 1),
    )
    shop.paid(exposed, 1_000, now)
    shop.paid(former, 1_000, now)
    assert list(Alert.objects.filter(rule__code="pep").values_list("customer_id", flat=True)) == [
        exposed
    ]


def test_many_customers_behind_one_email_are_alerted(shop, now):
    customers = [shop.customer(email="same@example.com") for _ in range(4)]
    for customer_id in customers[:3]:
        shop.order(customer_id, 1_000, now - timedelta(minutes=5))
    assert not Alert.objects.filter(rule__code="shared-identity").exists()
    shop.order(customers[3], 1_000, now)
    alert = Alert.objects.get(rule__code="shared-identity")
    assert alert.evidence["customers"] == sorted(customers)


def test_the_beat_task_finds_patterns_of_rules_switched_on_later_and_never_doubles(shop, now):
    Rule.objects.filter(code="structuring").update(is_active=False)
    structuring(shop, now)
    assert not Alert.objects.exists()
    Rule.objects.filter(code="structuring").update(is_active=True)
    assert tasks.windowed_rules_run() == 1
    assert tasks.windowed_rules_run() == 0
    assert Alert.objects.count() == 1
    assert Alert.objects.get().operations.count() == 3


def test_rules_are_versioned_and_their_parameters_validated(db):
    rule = Rule.objects.get(code="structuring")
    rule.parameters = {**rule.parameters, "min_count": 4}
    rule.full_clean()
    rule.save()
    rule.parameters = {**rule.parameters, "min_count": "four"}
    with pytest.raises(Exception, match="min_count must be an integer"):
        rule.full_clean()
    assert rule.history.count() == 1
    assert rule.history.first().parameters["min_count"] == 4


def test_a_changed_rule_applies_to_the_next_operations(shop, now):
    rule = Rule.objects.get(code="structuring")
    rule.parameters = {**rule.parameters, "min_count": 4}
    rule.save()
    customer_id = structuring(shop, now)
    assert not Alert.objects.exists()
    shop.paid(customer_id, 950_000, now)
    alert = Alert.objects.get()
    assert alert.parameters["min_count"] == 4
    assert alert.rule_version == rule.history.first().history_id


# --- What the database refuses --------------------------------------------------------------
def _refused(statement: str, *params: object) -> None:
    with (
        pytest.raises(DatabaseError, match="compliance: "),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


def test_operation_records_are_append_only_and_kept_until_retain_until(shop, now):
    shop.paid(shop.customer(), 1_000, now)
    record = OperationRecord.objects.filter(kind="payment").get()
    _refused("UPDATE compliance_operation_record SET amount = 1 WHERE id = %s", record.id)
    _refused("DELETE FROM compliance_operation_record WHERE id = %s", record.id)
    record.refresh_from_db()
    assert record.amount == 1_000


def test_a_decision_cannot_be_edited_and_retention_cannot_be_shortened(shop, now):
    structuring(shop, now)
    case = Case.objects.get()
    services.case_decide(
        case_id=case.id, outcome=domain.Decision.ARCHIVE, justification="Salary.", actor="x"
    )
    decision = CaseDecision.objects.get()
    _refused(
        "UPDATE compliance_case_decision SET outcome = 'communicate' WHERE id = %s", decision.id
    )
    _refused("UPDATE compliance_case SET retain_until = '2000-01-01' WHERE id = %s", case.id)
    _refused("DELETE FROM compliance_alert WHERE case_id = %s", case.id)
    assert not Communication.objects.exists()


def test_many_customers_behind_one_ip_are_alerted_and_other_ips_are_not(shop, now):
    customers = [shop.customer() for _ in range(4)]
    for customer_id in customers:
        shop.order(customer_id, 1_000, now, ip="198.51.100.7")
    shop.order(shop.customer(), 1_000, now, ip="198.51.100.8")
    alert = Alert.objects.get(rule__code="shared-identity")
    assert alert.evidence["attribute"] == "client_ip"
    assert alert.evidence["customers"] == sorted(customers)


def test_the_seeded_rules_carry_the_documented_defaults(db):
    seeded = {rule.kind: rule.parameters for rule in Rule.objects.all()}
    assert seeded == {kind.value: params for kind, params in domain.DEFAULT_PARAMETERS.items()}


def other_session() -> psycopg.Connection:
    """A second connection to the test database, outside this test's transaction."""
    settings_dict = connection.settings_dict
    return psycopg.connect(
        dbname=settings_dict["NAME"],
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"] or None,
        autocommit=True,
    )


def test_a_holder_evaluated_elsewhere_never_holds_up_the_event_handler(shop, now):
    """The handler only records, beside the relay's receipt; the rules run after the commit, in
    a transaction of their own that waits for the holder's lock and holds nothing else."""
    customer_id = shop.customer()  # not yet evaluated, so this test's transaction holds no lock
    with other_session() as other:
        other.execute("SELECT pg_advisory_lock(hashtext('compliance:' || %s))", [customer_id])
        with connection.cursor() as cursor:  # a handler that waited would fail, not hang
            cursor.execute("SET LOCAL lock_timeout = '200ms'")
        with TestCase.captureOnCommitCallbacks() as evaluations:
            order = shop.order_event(customer_id, 5_000_000, method="cash")  # the cash rule
            handle(order, at=now)
            handle(shop.capture_event(order.order_id, 5_000_000), at=now)
        assert OperationRecord.objects.filter(order_id=order.order_id).count() == 2
        assert len(evaluations) == 2
        other.execute(  # released now, not whenever the server notices the closed connection
            "SELECT pg_advisory_unlock(hashtext('compliance:' || %s))", [customer_id]
        )
    assert not Alert.objects.exists()  # the rules have not run yet
    for evaluate in evaluations:
        evaluate()
    alert = Alert.objects.get()
    assert (alert.rule.kind, alert.customer_id) == ("cash", customer_id)
