"""Reads: operation summaries for the rules, alerts and cases for the API, dossiers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from retail.compliance import domain
from retail.compliance.models import (
    Alert,
    Case,
    Holiday,
    OperationRecord,
    PoliticallyExposedPerson,
    Rule,
)
from retail.customers import public as customers

# A payment or refund event names its order, not its holder: the holder comes from the
# order's own record, whichever of the two was recorded first (records are never updated).
_HOLDER_FIELDS = ("customer_id", "email", "client_ip", "instrument", "payment_method")


def operations_resolved() -> QuerySet[OperationRecord]:
    """Operation records with the holder's attributes filled in from their order's record."""
    order_record = OperationRecord.objects.filter(
        order_id=OuterRef("order_id"), kind=domain.Kind.ORDER
    ).order_by("occurred_at")
    return OperationRecord.objects.annotate(
        **{
            f"holder_{name}": Coalesce(
                NullIf(name, Value("")), Subquery(order_record.values(name)[:1]), Value("")
            )
            for name in _HOLDER_FIELDS
        }
    )


_SUMMARY_FIELDS = ("id", "kind", "direction", "outcome", "amount", "occurred_at", "order_id")


def _summaries(records: QuerySet[OperationRecord]) -> list[domain.OperationSummary]:
    """``records`` as the rules see them, the holder filled in from the order's record as in
    ``operations_resolved``: plain rows and one more query for the orders' records, not a
    correlated subquery per field (the rules' path: every operation goes through here)."""
    rows = list(records.values(*_SUMMARY_FIELDS, *_HOLDER_FIELDS))
    incomplete = {row["order_id"] for row in rows if not all(row[name] for name in _HOLDER_FIELDS)}
    order_records = (
        OperationRecord.objects.filter(order_id__in=incomplete, kind=domain.Kind.ORDER)
        .order_by("-occurred_at")
        .values("order_id", *_HOLDER_FIELDS)
    )
    holders = {row["order_id"]: row for row in order_records} if incomplete else {}  # first wins
    return [_summary(row, holders.get(row["order_id"], {})) for row in rows]


def _summary(row: dict[str, Any], order: dict[str, Any]) -> domain.OperationSummary:
    return domain.OperationSummary(
        id=row["id"],
        kind=domain.Kind(row["kind"]),
        direction=domain.Direction(row["direction"]),
        outcome=domain.Outcome(row["outcome"]),
        amount=row["amount"],
        occurred_at=row["occurred_at"],
        order_id=row["order_id"],
        **{name: row[name] or order.get(name) or "" for name in _HOLDER_FIELDS},
    )


def operation_summary_get(operation_id: str) -> domain.OperationSummary:
    (summary,) = _summaries(OperationRecord.objects.filter(pk=operation_id))
    return summary


def operation_summaries_of_order(order_id: str) -> list[domain.OperationSummary]:
    return _summaries(
        OperationRecord.objects.filter(order_id=order_id).order_by("occurred_at", "id")
    )


def operation_summaries_since(since: datetime) -> list[domain.OperationSummary]:
    records = OperationRecord.objects.filter(occurred_at__gte=since)
    return _summaries(records.order_by("occurred_at", "id"))


def customer_history(customer_id: str, since: datetime) -> list[domain.OperationSummary]:
    """The customer's operations since ``since``, their orders' payments and refunds included."""
    with connection.cursor() as cursor:
        cursor.execute(_CUSTOMER_WINDOW_SQL, {"customer": customer_id, "since": since})
        ids = [row[0] for row in cursor.fetchall()]
    return _summaries(OperationRecord.objects.filter(id__in=ids).order_by("occurred_at", "id"))


# The window's records of the customer and of their orders' payments and refunds (which name
# the order, not the holder), found in the database: a customer with thousands of orders does
# not ship their order ids to Python and back on every evaluation.
_CUSTOMER_WINDOW_SQL = """
    SELECT id FROM compliance_operation_record
    WHERE customer_id = %(customer)s AND occurred_at >= %(since)s
    UNION
    SELECT record.id
    FROM compliance_operation_record placed
    JOIN compliance_operation_record record ON record.order_id = placed.order_id
    WHERE placed.kind = 'order' AND placed.customer_id = %(customer)s
      AND record.occurred_at >= %(since)s
"""


def _customer_records(customer_id: str) -> QuerySet[OperationRecord]:
    """The customer's records and those of their orders (recorded before the order was).

    The order ids are read first and passed as values: ``customer_id = … OR order_id IN
    (values)`` is two index scans, where ``OR order_id IN (subquery)`` scanned the table."""
    orders = OperationRecord.objects.filter(kind=domain.Kind.ORDER, customer_id=customer_id)
    order_ids = list(orders.values_list("order_id", flat=True))
    return operations_resolved().filter(Q(customer_id=customer_id) | Q(order_id__in=order_ids))


def pep_status(customer_id: str) -> domain.PepStatus | None:
    """The customer's PEP entry with the latest exposure, by CPF or by link (None: not listed)."""
    match = Q(customer_id=customer_id)
    fingerprint = customers.customer_cpf_fingerprint(customer_id)
    if fingerprint:
        match |= Q(cpf_fingerprint=fingerprint)
    entries = PoliticallyExposedPerson.objects.filter(match)
    best = (
        entries.filter(office_end__isnull=True).first() or entries.order_by("-office_end").first()
    )
    if best is None:
        return None
    return domain.PepStatus(name=best.name, office=best.office, office_end=best.office_end)


def rules_active() -> list[Rule]:
    return list(Rule.objects.filter(is_active=True).order_by("code"))


def rule_version(rule: Rule) -> int:
    latest = rule.history.order_by("-history_id").values_list("history_id", flat=True).first()
    return latest or 0


def holidays_between(start: date, end: date) -> frozenset[date]:
    return frozenset(Holiday.objects.filter(day__range=(start, end)).values_list("day", flat=True))


def alert_list(status: str | None = None) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("rule").prefetch_related("operations")
    return alerts.filter(status=status) if status else alerts


def case_list(status: str | None = None) -> QuerySet[Case]:
    cases = Case.objects.select_related("decision", "communication").prefetch_related(
        "alerts__rule"
    )
    return cases.filter(status=status) if status else cases


def case_get(case_id: str) -> Case | None:
    return case_list().filter(pk=case_id).first()


def case_operations(case: Case) -> list[OperationRecord]:
    return list(
        operations_resolved().filter(alert__case=case).distinct().order_by("occurred_at", "id")
    )


def operation_records_of_customer(customer_id: str) -> list[OperationRecord]:
    return list(_customer_records(customer_id).order_by("occurred_at", "id"))
