"""Output shapes of the compliance API (RFC 3339 UTC times, integer centavos)."""

from datetime import date, datetime
from typing import Any

from retail.compliance.models import Alert, Case, OperationRecord


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def alert_data(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "status": alert.status,
        "rule": {
            "code": alert.rule.code,
            "kind": alert.rule.kind,
            "name": alert.rule.name,
            "version": alert.rule_version,
            "parameters": alert.parameters,
        },
        "case_id": alert.case_id,
        "customer_id": alert.customer_id,
        "subject": alert.subject,
        "operations": [operation.id for operation in alert.operations.all()],
        "evidence": alert.evidence,
        "automatic_communication": alert.automatic_communication,
        "operation_at": _time(alert.operation_at),
        "selection_deadline": _time(alert.selection_deadline),
        "selected_at": _time(alert.selected_at),
        "retain_until": _day(alert.retain_until),
    }


def case_data(case: Case) -> dict[str, Any]:
    decision = getattr(case, "decision", None)
    communication = getattr(case, "communication", None)
    return {
        "id": case.id,
        "status": case.status,
        "customer_id": case.customer_id,
        "subject": case.subject,
        "selected_at": _time(case.selected_at),
        "analysis_deadline": _time(case.analysis_deadline),
        "alerts": [{"id": alert.id, "rule": alert.rule.code} for alert in case.alerts.all()],
        "decision": None
        if decision is None
        else {
            "outcome": decision.outcome,
            "justification": decision.justification,
            "decided_by": decision.decided_by,
            "decided_at": _time(decision.decided_at),
        },
        "communication": None
        if communication is None
        else {
            "occurrence_number": communication.occurrence_number,
            "due_date": _day(communication.due_date),
            "exported_at": _time(communication.exported_at),
            "sent_at": _time(communication.sent_at),
            "receipt_number": communication.receipt_number,
        },
        "retain_until": _day(case.retain_until),
    }


def operation_data(operation: OperationRecord) -> dict[str, Any]:
    return {
        "id": operation.id,
        "kind": operation.kind,
        "direction": operation.direction,
        "outcome": operation.outcome,
        "outcome_reason": operation.outcome_reason,
        "amount": operation.amount,
        "currency": operation.currency,
        "occurred_at": _time(operation.occurred_at),
        "channel": operation.channel,
        "order_id": operation.order_id,
        "payment_id": operation.payment_id,
        "refund_id": operation.refund_id,
        "customer_id": getattr(operation, "holder_customer_id", operation.customer_id),
        "holder_name": operation.holder_name,
        "beneficiary": {
            "name": operation.beneficiary_name,
            "document": operation.beneficiary_document,
        },
        "psp": operation.psp,
        "psp_reference": operation.psp_reference,
        "settlement_reference": operation.settlement_reference,
        "retain_until": _day(operation.retain_until),
    }
