"""Writes: operation records, rule evaluation into alerts and cases, decisions, communications."""

from __future__ import annotations

import hashlib
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from retail.compliance import aggregates, domain, selectors, siscoaf
from retail.compliance.models import (
    Alert,
    AlertOperation,
    Case,
    CaseDecision,
    Communication,
    OperationRecord,
    Rule,
)
from retail.customers import public as customers

BRASILIA = zoneinfo.ZoneInfo("America/Sao_Paulo")
AUTOMATIC_DECIDER = "system:art49"
_CASH = domain.RuleKind.CASH


class CaseAlreadyDecided(Exception):
    pass


class JustificationMissing(Exception):
    pass


@dataclass(frozen=True)
class OperationFacts:
    """What an event tells about an operation; the handler fills what its event carries."""

    source_event_id: uuid.UUID
    source_event_type: str
    kind: domain.Kind
    direction: domain.Direction
    outcome: domain.Outcome
    amount: int
    occurred_at: datetime
    channel: str
    currency: str = "BRL"
    outcome_reason: str = ""
    order_id: str = ""
    payment_id: str = ""
    refund_id: str = ""
    customer_id: str = ""
    holder_name: str = ""
    email: str = ""
    client_ip: str = ""
    payment_method: str = ""
    payment_token: str = ""
    psp_reference: str = ""
    settlement_reference: str = ""


def instrument_fingerprint(method: str, token: str) -> str:
    """Tells payment instruments apart without keeping the token itself."""
    if not token:
        return ""
    return hashlib.sha256(f"{method}:{token}".encode()).hexdigest()[:32]


def operation_record(facts: OperationFacts) -> OperationRecord | None:
    """Records the operation once per source event, and adds it to its holder's windowed
    aggregates in the same transaction; None when it was already recorded."""
    with transaction.atomic():
        if facts.order_id:
            _lock_order(facts.order_id)
        record, created = OperationRecord.objects.get_or_create(
            source_event_id=facts.source_event_id,
            defaults=_record_fields(facts),
        )
        if created:
            aggregates.operations_add(_newly_held(record))
    return record if created else None


def _lock_order(order_id: str) -> None:
    """One order's records are written one at a time, so a payment recorded while its order's
    record is being written sees it (and its holder), or the order's record sees the payment."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('compliance-order:' || %s))", [order_id]
        )


def _newly_held(record: OperationRecord) -> list[domain.OperationSummary]:
    """The operations whose holder this record makes known: itself once its holder is known,
    and for an order's record, its payments and refunds that were recorded before it."""
    if record.kind != domain.Kind.ORDER:
        summary = selectors.operation_summary_get(record.id)
        return [summary] if summary.customer_id else []
    if not record.customer_id:
        return []
    return [
        op
        for op in selectors.operation_summaries_of_order(record.order_id)
        if op.id == record.id or op.kind != domain.Kind.ORDER
    ]


def _record_fields(facts: OperationFacts) -> dict[str, object]:
    holder = _order_holder(facts.order_id) if not facts.customer_id else {}
    return {
        "source_event_type": facts.source_event_type,
        "kind": facts.kind,
        "direction": facts.direction,
        "outcome": facts.outcome,
        "outcome_reason": facts.outcome_reason[:200],
        "amount": facts.amount,
        "currency": facts.currency,
        "occurred_at": facts.occurred_at,
        "channel": facts.channel,
        "order_id": facts.order_id,
        "payment_id": facts.payment_id,
        "refund_id": facts.refund_id,
        "customer_id": facts.customer_id,
        "holder_name": facts.holder_name,
        "email": facts.email,
        "client_ip": facts.client_ip,
        "payment_method": facts.payment_method,
        "instrument": instrument_fingerprint(facts.payment_method, facts.payment_token),
        "beneficiary_name": settings.COMPLIANCE_REPORTER_NAME,
        "beneficiary_document": settings.COMPLIANCE_REPORTER_CNPJ,
        "psp": settings.COMPLIANCE_PSP_NAME if facts.kind in _PSP_KINDS else "",
        "psp_reference": facts.psp_reference,
        "settlement_reference": facts.settlement_reference,
        "retain_until": domain.retain_until(facts.occurred_at),
        **holder,
    }


_PSP_KINDS = (domain.Kind.PAYMENT, domain.Kind.REFUND)


def _order_holder(order_id: str) -> dict[str, str]:
    """The holder of an already-recorded order, copied into its payment's record."""
    order = (
        OperationRecord.objects.filter(order_id=order_id, kind=domain.Kind.ORDER)
        .values("customer_id", "holder_name", "email", "client_ip", "payment_method")
        .first()
    )
    return {name: str(value) for name, value in (order or {}).items()}


# --- Rules → alerts → cases ------------------------------------------------------------
def rules_evaluate(triggers: list[domain.OperationSummary]) -> list[Alert]:
    """Runs every active rule on each trigger operation; returns the alerts it opened.

    Each trigger is evaluated in a short transaction of its own that first waits for its
    holder's lock, so two evaluations cannot open twin alerts. Callers hold no other lock
    while waiting (the relay evaluates after its own commit, see ``operation_record_and_evaluate``).
    """
    rules = selectors.rules_active()
    opened: list[Alert] = []
    for trigger in triggers:
        with transaction.atomic():
            _lock_subject(trigger.customer_id or trigger.id)
            screened = [rule for rule in rules if _may_fire(rule, trigger)]
            history = _history_for(screened, trigger)
            for rule in screened:
                alert = _rule_apply(rule, trigger, history)
                if alert is not None:
                    opened.append(alert)
    return opened


def _may_fire(rule: Rule, trigger: domain.OperationSummary) -> bool:
    """The rule's screen: False only when the rule cannot fire on ``trigger``, read from the
    trigger itself and the windowed aggregates, never from the holder's history."""
    kind = domain.RuleKind(rule.kind)
    if not trigger.customer_id:  # holder unknown: only rules about the operation itself
        return kind is _CASH
    if kind is domain.RuleKind.VELOCITY:
        return domain.velocity_may_fire(
            rule.parameters, trigger, **aggregates.velocity_counts(trigger, rule.parameters)
        )
    return domain.may_fire(kind, rule.parameters, trigger)


def _history_for(
    rules: list[Rule], trigger: domain.OperationSummary
) -> list[domain.OperationSummary]:
    """The holder's history as far back as the longest-looking rule that passed its screen
    needs (none for most operations): one read per trigger, each rule keeps its own window."""
    since = [_window_start(rule, trigger) for rule in rules if _reads_history(rule)]
    if not trigger.customer_id or not since:
        return []
    return selectors.customer_history(trigger.customer_id, min(since))


def _reads_history(rule: Rule) -> bool:
    return domain.RuleKind(rule.kind) not in _WITHOUT_HISTORY


_WITHOUT_HISTORY = frozenset({_CASH, domain.RuleKind.PEP, domain.RuleKind.SHARED_IDENTITY})


def _window_start(rule: Rule, trigger: domain.OperationSummary) -> datetime:
    return trigger.occurred_at - domain.lookback(rule.kind, rule.parameters)


def _lock_subject(subject: str) -> None:
    """Waits for the holder's lock, but not forever (``COMPLIANCE_HOLDER_LOCK_TIMEOUT_MS``): a
    relay worker evaluating after its commit must not hang behind a stuck transaction; the
    windowed sweep evaluates what a timeout skipped."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)",
            [f"{settings.COMPLIANCE_HOLDER_LOCK_TIMEOUT_MS}ms"],
        )
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('compliance:' || %s))", [subject])


def _rule_apply(
    rule: Rule, trigger: domain.OperationSummary, history: list[domain.OperationSummary]
) -> Alert | None:
    data = _rule_input(rule, trigger, history)
    if data is None:
        return None
    finding = domain.rule_evaluate(rule.kind, rule.parameters, data)
    if finding is None:
        return None
    return _alert_open(rule, trigger, finding)


def _rule_input(
    rule: Rule, trigger: domain.OperationSummary, history: list[domain.OperationSummary]
) -> domain.RuleInput | None:
    kind = domain.RuleKind(rule.kind)
    if not trigger.customer_id:  # holder unknown: only rules about the operation itself
        return domain.RuleInput(trigger=trigger, history=[trigger]) if kind is _CASH else None
    since = _window_start(rule, trigger)
    peers = {}
    if kind is domain.RuleKind.SHARED_IDENTITY:
        peers = aggregates.identity_peers(trigger, rule.parameters["attributes"], since)
    return domain.RuleInput(
        trigger=trigger,
        history=[operation for operation in history if operation.occurred_at >= since],
        pep=selectors.pep_status(trigger.customer_id) if kind is domain.RuleKind.PEP else None,
        identity_peers=peers,
    )


def _alert_open(
    rule: Rule, trigger: domain.OperationSummary, finding: domain.Finding
) -> Alert | None:
    """A new alert, or the finding's operations added to the holder's undecided alert of the rule.

    None when nothing is new: the trigger is already part of an alert of this rule.
    """
    subject = trigger.customer_id or f"operation:{trigger.id}"
    if AlertOperation.objects.filter(alert__rule=rule, operation_id=trigger.id).exists():
        return None
    now = timezone.now()
    pending = Alert.objects.filter(rule=rule, subject=subject, status=Alert.Status.SELECTED).first()
    if pending is not None and rule.kind != _CASH:
        _alert_link(pending, finding.operation_ids)
        return None
    operation_at = min(
        OperationRecord.objects.filter(pk__in=finding.operation_ids).values_list(
            "occurred_at", flat=True
        )
    )
    case = _case_for(subject, trigger.customer_id, automatic=finding.automatic_communication)
    alert = Alert.objects.create(
        rule=rule,
        rule_version=selectors.rule_version(rule),
        parameters=rule.parameters,
        subject=subject,
        customer_id=trigger.customer_id,
        case=case,
        evidence=finding.evidence,
        automatic_communication=finding.automatic_communication,
        operation_at=operation_at,
        selection_deadline=domain.selection_deadline(operation_at),
        selected_at=now,
        retain_until=domain.retain_until(now),
    )
    _alert_link(alert, finding.operation_ids)
    if finding.automatic_communication:
        _decide(
            case,
            outcome=domain.Decision.COMMUNICATE,
            justification=f"Automatic communication (art. 49): {rule.name}.",
            decided_by=AUTOMATIC_DECIDER,
        )
    return alert


def _alert_link(alert: Alert, operation_ids: tuple[str, ...]) -> None:
    AlertOperation.objects.bulk_create(
        [
            AlertOperation(alert=alert, operation_id=operation_id, retain_until=alert.retain_until)
            for operation_id in operation_ids
        ],
        ignore_conflicts=True,
    )


def _case_for(subject: str, customer_id: str, *, automatic: bool) -> Case:
    """The holder's open case, or a new one (an automatic communication gets its own)."""
    if not automatic:
        case = Case.objects.filter(subject=subject, status=Case.Status.OPEN).first()
        if case is not None:
            return case
    now = timezone.now()
    return Case.objects.create(
        subject=subject,
        customer_id=customer_id,
        selected_at=now,
        analysis_deadline=domain.analysis_deadline(now),
        retain_until=domain.retain_until(now),
    )


# --- Decision and communication --------------------------------------------------------
def case_decide(*, case_id: str, outcome: domain.Decision, justification: str, actor: str) -> Case:
    """COMMUNICATE or ARCHIVE, once, with a written justification (art. 48)."""
    if not justification.strip():
        raise JustificationMissing
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if case.status != Case.Status.OPEN:
            raise CaseAlreadyDecided
        _decide(case, outcome=outcome, justification=justification.strip(), decided_by=actor)
    return case


def _decide(case: Case, *, outcome: domain.Decision, justification: str, decided_by: str) -> None:
    now = timezone.now()
    CaseDecision.objects.create(
        case=case,
        outcome=outcome,
        justification=justification,
        decided_by=decided_by,
        decided_at=now,
        retain_until=domain.retain_until(now),
    )
    communicate = outcome is domain.Decision.COMMUNICATE
    case.status = Case.Status.COMMUNICATE if communicate else Case.Status.ARCHIVED
    case.save(update_fields=["status"])
    case.alerts.update(status=Alert.Status.DECIDED)
    if communicate:
        Communication.objects.create(
            case=case,
            occurrence_number=_occurrence_number(now),
            due_date=communication_due_date(now),
            retain_until=domain.retain_until(now),
        )


def communication_due_date(decided_at: datetime) -> date:
    """The business day after the decision, in Brasília (weekends and holidays skipped)."""
    day = decided_at.astimezone(BRASILIA).date()
    holidays = selectors.holidays_between(day, day + timedelta(days=15))
    return domain.next_business_day(day, holidays)


def _occurrence_number(now: datetime) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('compliance_occurrence_seq')")
        (sequence,) = cursor.fetchone()
    return f"RASTRO-{now:%Y}-{sequence:06d}"


def communication_exported(*, case_id: str, content: str) -> Communication:
    """Keeps what was exported for COAF (the latest export is what is sent)."""
    with transaction.atomic():
        communication = Communication.objects.select_for_update().get(case_id=case_id)
        communication.content = content
        communication.exported_at = timezone.now()
        communication.save(update_fields=["content", "exported_at"])
    return communication


def communication_receipt_record(*, case_id: str, receipt_number: str) -> Communication:
    """SISCOAF's protocol number for a communication that was sent."""
    if not receipt_number.strip():
        raise ValueError("a receipt number is required")
    with transaction.atomic():
        communication = Communication.objects.select_for_update().get(case_id=case_id)
        communication.receipt_number = receipt_number.strip()
        communication.sent_at = communication.sent_at or timezone.now()
        communication.save(update_fields=["receipt_number", "sent_at"])
    return communication


def operation_record_and_evaluate(facts: OperationFacts) -> None:
    """Records the operation now and runs the rules on it once this transaction has committed
    (nothing when it was already recorded).

    The record is written with the event's receipt; the rules run after the commit, in
    transactions that hold only their holder's lock. Evaluating inside the relay's transaction
    would hold that lock until a whole batch commits and make every other event of the same
    holder wait or fail. A process that dies between the commit and the evaluation leaves the
    record to the windowed sweep (``rules_evaluate_recent``).

    An order's record may arrive after its payments' records: the rules then run on all of
    the order's operations, whose holder has only now become known.
    """
    record = operation_record(facts)
    if record is not None:
        transaction.on_commit(
            partial(_record_evaluate, record.id, record.kind, record.order_id), robust=True
        )


def _record_evaluate(record_id: str, kind: str, order_id: str) -> None:
    if kind == domain.Kind.ORDER:
        triggers = selectors.operation_summaries_of_order(order_id)
    else:
        triggers = [selectors.operation_summary_get(record_id)]
    rules_evaluate(triggers)


def rules_evaluate_recent(lookback: timedelta) -> list[Alert]:
    """The rules over every operation of the last ``lookback`` (alerts are never doubled)."""
    return rules_evaluate(selectors.operation_summaries_since(timezone.now() - lookback))


# --- Export -----------------------------------------------------------------------------
class CaseNotCommunicable(Exception):
    pass


def communication_export(*, case_id: str, actor: str) -> str:
    """The SISCOAF XML of a case decided COMMUNICATE; kept as what is sent to COAF."""
    case = selectors.case_get(case_id)
    if case is None or case.status != Case.Status.COMMUNICATE:
        raise CaseNotCommunicable(case_id)
    operations = selectors.case_operations(case)
    completed = [op for op in operations if op.outcome == domain.Outcome.COMPLETED]
    alerts = list(case.alerts.all())
    occurrence = siscoaf.Occurrence(
        reporter_cnpj=settings.COMPLIANCE_REPORTER_CNPJ,
        reporter_name=settings.COMPLIANCE_REPORTER_NAME,
        occurrence_number=case.communication.occurrence_number,
        period_start=min(op.occurred_at for op in operations).date(),
        period_end=max(op.occurred_at for op in operations).date(),
        credits=sum(op.amount for op in completed if op.direction == domain.Direction.CREDIT),
        debits=sum(op.amount for op in completed if op.direction == domain.Direction.DEBIT),
        details=_details(case, alerts, operations),
        framing_codes=tuple(
            sorted({code for alert in alerts for code in alert.rule.framing_codes})
        ),
        persons=tuple(_persons(case, operations, actor)),
        decided_at=case.decision.decided_at,
    )
    content = siscoaf.occurrence_xml(occurrence)
    communication_exported(case_id=case.id, content=content)
    return content


def _details(case: Case, alerts: list[Alert], operations: list[OperationRecord]) -> str:
    lines = [f"Case {case.id}: {len(operations)} operation(s), {len(alerts)} alert(s)."]
    lines += [f"Rule {alert.rule.code} ({alert.rule.name}): {alert.evidence}" for alert in alerts]
    lines += [
        f"{op.occurred_at.isoformat()} {op.kind} {op.outcome} {siscoaf.reais(op.amount)} BRL "
        f"channel={op.channel} order={op.order_id} psp_reference={op.psp_reference}"
        for op in operations
    ]
    lines.append(f"Decision: {case.decision.justification}")
    return "\n".join(lines)


def _persons(case: Case, operations: list[OperationRecord], actor: str) -> list[siscoaf.Person]:
    customer_ids = sorted(
        {getattr(op, "holder_customer_id", "") or op.customer_id for op in operations} - {""}
    )
    persons = []
    for customer_id in customer_ids:
        customer = customers.customer_get(customer_id)
        document, kind = _document(customer_id, case, actor)
        persons.append(
            siscoaf.Person(
                document=document,
                document_kind=kind,
                name=customer.name if customer else _holder_name(operations, customer_id),
                role="titular",
                pep=_pep(customer_id, operations),
            )
        )
    return persons


def _document(customer_id: str, case: Case, actor: str) -> tuple[str, str]:
    """The CPF through the customers context's logged reveal, else our stored reference."""
    reveal = getattr(customers, "customer_cpf_reveal", None)  # requested in REQUESTS.md
    if reveal is not None:
        cpf = reveal(
            customer_id=customer_id, actor=actor, reason=f"COAF communication of case {case.id}"
        )
        if cpf:
            return cpf, "CPF"
    return customer_id, "REF"


def _holder_name(operations: list[OperationRecord], customer_id: str) -> str:
    return next((op.holder_name for op in operations if op.customer_id == customer_id), "")


def _pep(customer_id: str, operations: list[OperationRecord]) -> bool:
    status = selectors.pep_status(customer_id)
    latest = max(op.occurred_at for op in operations).date()
    return status is not None and domain.pep_exposed(status, latest)
