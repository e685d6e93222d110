"""AML rules and deadlines, pure Python (Circular 3.978/2020, arts. 38-49 and 67).

Each rule is a function over *operation summaries* (what the operation records say, with the
holder resolved) and a JSON parameter dict validated against the rule kind's schema. A rule
looks at one *trigger* operation against the holder's history and returns a finding or None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from statistics import mean
from typing import Any

RETENTION_YEARS = 10
SELECTION_DAYS = 45
ANALYSIS_DAYS = 45
PEP_YEARS = 5  # a person stays politically exposed 5 years after leaving office


class RuleKind(StrEnum):
    STRUCTURING = "structuring"
    VELOCITY = "velocity"
    PROFILE = "profile"
    DORMANT = "dormant"
    SHARED_IDENTITY = "shared_identity"
    PASS_THROUGH = "pass_through"  # noqa: S105 - a rule kind, not a password
    PEP = "pep"
    CASH = "cash"


class Kind(StrEnum):
    """What an operation record is about."""

    ORDER = "order"
    PAYMENT = "payment"
    REFUND = "refund"
    PARTNER_ORDER = "partner_order"


class Direction(StrEnum):
    CREDIT = "credit"  # money from the customer
    DEBIT = "debit"  # money back to the customer
    NONE = "none"  # a proposal (an order) that moves no money by itself


class Outcome(StrEnum):
    COMPLETED = "completed"
    REFUSED = "refused"  # refused or failed attempts are records too (art. 28)


class Decision(StrEnum):
    COMMUNICATE = "communicate"
    ARCHIVE = "archive"


@dataclass(frozen=True)
class OperationSummary:
    id: str
    kind: Kind
    direction: Direction
    outcome: Outcome
    amount: int
    occurred_at: datetime
    order_id: str = ""
    customer_id: str = ""
    payment_method: str = ""
    instrument: str = ""
    email: str = ""
    client_ip: str = ""

    @property
    def is_credit(self) -> bool:
        return self.direction is Direction.CREDIT and self.outcome is Outcome.COMPLETED

    @property
    def is_attempt(self) -> bool:
        """A payment attempt or a money movement, successful or not (velocity counts these)."""
        return self.kind in (Kind.PAYMENT, Kind.PARTNER_ORDER)


@dataclass(frozen=True)
class PepStatus:
    name: str
    office: str
    office_end: date | None  # None: still in office


@dataclass(frozen=True)
class RuleInput:
    """What a rule may look at besides its parameters."""

    trigger: OperationSummary
    history: Sequence[OperationSummary]  # the holder's operations, the trigger included
    pep: PepStatus | None = None
    # attribute ("email", "client_ip") -> customers who used the trigger's value in the window
    identity_peers: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    operation_ids: tuple[str, ...]
    evidence: dict[str, Any]
    automatic_communication: bool = False


# --- Parameters: a schema per rule kind ------------------------------------------------
@dataclass(frozen=True)
class Param:
    kind: type
    minimum: int = 0
    items: type | None = None  # for lists


SCHEMAS: dict[RuleKind, dict[str, Param]] = {
    RuleKind.STRUCTURING: {
        "thresholds": Param(list, items=int),
        "margin_percent": Param(int, 1),
        "min_count": Param(int, 2),
        "window_hours": Param(int, 1),
    },
    RuleKind.VELOCITY: {
        "window_minutes": Param(int, 1),
        "max_operations": Param(int, 1),
        "max_instruments": Param(int, 1),
    },
    RuleKind.PROFILE: {
        "multiplier": Param(int, 2),
        "min_history": Param(int, 1),
        "lookback_days": Param(int, 1),
        "min_amount": Param(int, 0),
    },
    RuleKind.DORMANT: {"dormant_days": Param(int, 1), "min_amount": Param(int, 1)},
    RuleKind.SHARED_IDENTITY: {
        "attributes": Param(list, items=str),
        "min_customers": Param(int, 2),
        "window_days": Param(int, 1),
    },
    RuleKind.PASS_THROUGH: {
        "window_hours": Param(int, 1),
        "min_ratio_percent": Param(int, 1),
        "min_amount": Param(int, 0),
    },
    RuleKind.PEP: {"years_after_office": Param(int, 0), "min_amount": Param(int, 0)},
    RuleKind.CASH: {"threshold": Param(int, 1), "methods": Param(list, items=str)},
}

IDENTITY_ATTRIBUTES = frozenset({"email", "client_ip"})

DEFAULT_PARAMETERS: dict[RuleKind, dict[str, Any]] = {
    RuleKind.STRUCTURING: {
        "thresholds": [1_000_000],  # R$ 10,000
        "margin_percent": 10,
        "min_count": 3,
        "window_hours": 72,
    },
    RuleKind.VELOCITY: {"window_minutes": 60, "max_operations": 10, "max_instruments": 3},
    RuleKind.PROFILE: {
        "multiplier": 10,
        "min_history": 3,
        "lookback_days": 180,
        "min_amount": 500_000,
    },
    RuleKind.DORMANT: {"dormant_days": 180, "min_amount": 1_000_000},
    RuleKind.SHARED_IDENTITY: {
        "attributes": ["email", "client_ip"],
        "min_customers": 4,
        "window_days": 30,
    },
    RuleKind.PASS_THROUGH: {"window_hours": 48, "min_ratio_percent": 80, "min_amount": 100_000},
    RuleKind.PEP: {"years_after_office": 5, "min_amount": 0},
    RuleKind.CASH: {"threshold": 5_000_000, "methods": ["cash"]},  # R$ 50,000, art. 49
}


def parameters_errors(kind: str, parameters: object) -> list[str]:
    """Everything wrong with ``parameters`` for a rule of ``kind``; empty when valid."""
    try:
        schema = SCHEMAS[RuleKind(kind)]
    except ValueError:
        return [f"unknown rule kind {kind!r}"]
    if not isinstance(parameters, dict):
        return ["parameters must be a JSON object"]
    errors = [f"unknown parameter {name!r}" for name in parameters if name not in schema]
    for name, param in schema.items():
        if name not in parameters:
            errors.append(f"missing parameter {name!r}")
            continue
        errors.extend(_param_errors(name, param, parameters[name]))
    if kind == RuleKind.SHARED_IDENTITY and not errors:
        unknown = set(parameters["attributes"]) - IDENTITY_ATTRIBUTES
        if unknown or not parameters["attributes"]:
            errors.append(f"attributes must be a non-empty subset of {sorted(IDENTITY_ATTRIBUTES)}")
    return errors


def _param_errors(name: str, param: Param, value: object) -> list[str]:
    if param.kind is int:
        if not _is_int(value) or value < param.minimum:  # type: ignore[operator]
            return [f"{name} must be an integer >= {param.minimum}"]
        return []
    if not isinstance(value, list) or not value:
        return [f"{name} must be a non-empty list"]
    if param.items is int and not all(_is_int(item) and item > 0 for item in value):
        return [f"{name} must hold positive integers"]
    if param.items is str and not all(isinstance(item, str) and item for item in value):
        return [f"{name} must hold non-empty strings"]
    return []


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- The rules ----------------------------------------------------------------------
def _within(ops: Iterable[OperationSummary], end: datetime, span: timedelta) -> list:
    return [op for op in ops if end - span <= op.occurred_at <= end]


def structuring(params: dict[str, Any], data: RuleInput) -> Finding | None:
    """Several credits just below a threshold by one holder within a window."""
    trigger = data.trigger
    if not trigger.is_credit:
        return None
    window = timedelta(hours=params["window_hours"])
    recent = [op for op in _within(data.history, trigger.occurred_at, window) if op.is_credit]
    for threshold, floor in _bands_of(params, trigger.amount):
        below = [op for op in recent if floor <= op.amount < threshold]
        if len(below) >= params["min_count"]:
            return Finding(
                operation_ids=_ids(below),
                evidence={
                    "threshold": threshold,
                    "floor": int(floor),
                    "count": len(below),
                    "total": sum(op.amount for op in below),
                    "window_hours": params["window_hours"],
                },
            )
    return None


def _bands_of(params: dict[str, Any], amount: int) -> list[tuple[int, float]]:
    """The structuring bands ``(threshold, floor)`` that ``amount`` falls in, lowest first."""
    bands = [
        (threshold, threshold * (100 - params["margin_percent"]) / 100)
        for threshold in sorted(params["thresholds"])
    ]
    return [(threshold, floor) for threshold, floor in bands if floor <= amount < threshold]


def velocity(params: dict[str, Any], data: RuleInput) -> Finding | None:
    """Many attempts, or many distinct payment instruments, by one holder in a short window."""
    trigger = data.trigger
    if not trigger.is_attempt:
        return None
    window = timedelta(minutes=params["window_minutes"])
    recent = [op for op in _within(data.history, trigger.occurred_at, window) if op.is_attempt]
    instruments = {op.instrument for op in recent if op.instrument}
    if len(recent) <= params["max_operations"] and len(instruments) <= params["max_instruments"]:
        return None
    return Finding(
        operation_ids=_ids(recent),
        evidence={
            "operations": len(recent),
            "instruments": len(instruments),
            "window_minutes": params["window_minutes"],
        },
    )


def profile(params: dict[str, Any], data: RuleInput) -> Finding | None:
    """A credit far above the holder's known history."""
    trigger = data.trigger
    if not trigger.is_credit or trigger.amount < params["min_amount"]:
        return None
    lookback = timedelta(days=params["lookback_days"])
    past = [
        op
        for op in _within(data.history, trigger.occurred_at, lookback)
        if op.is_credit and op.occurred_at < trigger.occurred_at and op.id != trigger.id
    ]
    if len(past) < params["min_history"]:
        return None
    average = mean(op.amount for op in past)
    if trigger.amount < params["multiplier"] * average:
        return None
    return Finding(
        operation_ids=(trigger.id,),
        evidence={"amount": trigger.amount, "average": round(average), "history": len(past)},
    )


def dormant(params: dict[str, Any], data: RuleInput) -> Finding | None:
    """A holder silent for a long time suddenly moving a large sum."""
    trigger = data.trigger
    if not trigger.is_credit or trigger.amount < params["min_amount"]:
        return None
    earlier = [
        op.occurred_at
        for op in data.history
        if op.occurred_at < trigger.occurred_at and op.outcome is Outcome.COMPLETED
    ]
    if not earlier:
        return None  # a new customer is not a dormant one
    silent = trigger.occurred_at - max(earlier)
    if silent < timedelta(days=params["dormant_days"]):
        return None
    return Finding(
        operation_ids=(trigger.id,),
        evidence={"amount": trigger.amount, "silent_days": silent.days},
    )


def shared_identity(params: dict[str, Any], data: RuleInput) -> Finding | None:
    """Many customers sharing one e-mail or IP address."""
    for attribute in params["attributes"]:
        value = getattr(data.trigger, attribute)
        customers = data.identity_peers.get(attribute, frozenset())
        if value and len(customers) >= params["min_customers"]:
            return Finding(
                operation_ids=(data.trigger.id,),
                evidence={
                    "attribute": attribute,
                    "customers": sorted(customers),
                    "window_days": params["window_days"],
                },
            )
    return None


def pass_through(params: dict[str, Any], data: RuleInput) -> Finding | None:
    """Funds received and sent back soon after: a refund of most of a recent capture."""
    trigger = data.trigger
    if trigger.kind is not Kind.REFUND or trigger.outcome is not Outcome.COMPLETED:
        return None
    if trigger.amount < params["min_amount"]:
        return None
    window = timedelta(hours=params["window_hours"])
    received = [
        op
        for op in _within(data.history, trigger.occurred_at, window)
        if op.is_credit and op.order_id == trigger.order_id
    ]
    captured = sum(op.amount for op in received)
    if not captured or trigger.amount * 100 < params["min_ratio_percent"] * captured:
        return None
    return Finding(
        operation_ids=(*_ids(received), trigger.id),
        evidence={
            "received": captured,
            "returned": trigger.amount,
            "minutes_between": int(
                (trigger.occurred_at - min(op.occurred_at for op in received)).total_seconds() // 60
            ),
        },
    )


def pep(params: dict[str, Any], data: RuleInput) -> Finding | None:
    """An operation by a politically exposed person, in office or within N years of leaving."""
    trigger, status = data.trigger, data.pep
    if status is None or not trigger.is_credit or trigger.amount < params["min_amount"]:
        return None
    if not pep_exposed(status, trigger.occurred_at.date(), params["years_after_office"]):
        return None
    return Finding(
        operation_ids=(trigger.id,),
        evidence={
            "pep_name": status.name,
            "office": status.office,
            "office_end": status.office_end.isoformat() if status.office_end else None,
        },
    )


def cash(params: dict[str, Any], data: RuleInput) -> Finding | None:
    """Cash at or above R$ 50,000: communicated automatically (art. 49)."""
    trigger = data.trigger
    if not trigger.is_credit or trigger.payment_method not in params["methods"]:
        return None
    if trigger.amount < params["threshold"]:
        return None
    return Finding(
        operation_ids=(trigger.id,),
        evidence={"amount": trigger.amount, "method": trigger.payment_method},
        automatic_communication=True,
    )


def pep_exposed(status: PepStatus, on: date, years_after_office: int = PEP_YEARS) -> bool:
    """In office, or left it no more than ``years_after_office`` years before ``on``."""
    return status.office_end is None or on <= _add_years(status.office_end, years_after_office)


RULES: dict[RuleKind, Callable[[dict[str, Any], RuleInput], Finding | None]] = {
    RuleKind.STRUCTURING: structuring,
    RuleKind.VELOCITY: velocity,
    RuleKind.PROFILE: profile,
    RuleKind.DORMANT: dormant,
    RuleKind.SHARED_IDENTITY: shared_identity,
    RuleKind.PASS_THROUGH: pass_through,
    RuleKind.PEP: pep,
    RuleKind.CASH: cash,
}


def rule_evaluate(kind: str, params: dict[str, Any], data: RuleInput) -> Finding | None:
    return RULES[RuleKind(kind)](params, data)


# --- Screens: a necessary condition of each rule, from the trigger alone -------------------
# A rule whose screen is False cannot fire on the trigger, so its inputs (the holder's history,
# a PEP lookup) are not read. Most operations pass no screen but velocity's and shared
# identity's, which read bounded aggregates instead of history.
def may_fire(kind: RuleKind, params: dict[str, Any], trigger: OperationSummary) -> bool:
    """Velocity's screen needs counts: ``velocity_may_fire``."""
    match kind:
        case RuleKind.STRUCTURING:
            return trigger.is_credit and bool(_bands_of(params, trigger.amount))
        case RuleKind.PROFILE | RuleKind.DORMANT | RuleKind.PEP:
            return trigger.is_credit and trigger.amount >= params["min_amount"]
        case RuleKind.PASS_THROUGH:
            completed_refund = trigger.kind is Kind.REFUND and trigger.outcome is Outcome.COMPLETED
            return completed_refund and trigger.amount >= params["min_amount"]
        case RuleKind.SHARED_IDENTITY:
            return any(getattr(trigger, attribute) for attribute in params["attributes"])
    return kind is RuleKind.CASH


def velocity_may_fire(
    params: dict[str, Any], trigger: OperationSummary, *, attempts: int, instruments: int
) -> bool:
    """``attempts`` and ``instruments`` count at least what the rule's window holds."""
    too_many = attempts > params["max_operations"] or instruments > params["max_instruments"]
    return trigger.is_attempt and too_many


def lookback(kind: str, params: dict[str, Any]) -> timedelta:
    """How much of the holder's history a rule of ``kind`` needs to see."""
    match RuleKind(kind):
        case RuleKind.STRUCTURING | RuleKind.PASS_THROUGH:
            return timedelta(hours=params["window_hours"])
        case RuleKind.VELOCITY:
            return timedelta(minutes=params["window_minutes"])
        case RuleKind.PROFILE:
            return timedelta(days=params["lookback_days"])
        case RuleKind.DORMANT:
            return timedelta(days=params["dormant_days"] + 366)
        case RuleKind.SHARED_IDENTITY:
            return timedelta(days=params["window_days"])
    return timedelta(0)


def _ids(ops: Iterable[OperationSummary]) -> tuple[str, ...]:
    return tuple(op.id for op in sorted(ops, key=lambda op: (op.occurred_at, op.id)))


# --- Deadlines and retention -----------------------------------------------------------
def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retain_until(moment: datetime | date) -> date:
    """1 January of the year after the operation, plus 10 years (art. 67)."""
    return date(moment.year + 1 + RETENTION_YEARS, 1, 1)


def selection_deadline(operation_at: datetime) -> datetime:
    """An alert must be selected within 45 days of its operation."""
    return operation_at + timedelta(days=SELECTION_DAYS)


def analysis_deadline(selected_at: datetime) -> datetime:
    """A case must be analysed within 45 days of its selection."""
    return selected_at + timedelta(days=ANALYSIS_DAYS)


def next_business_day(day: date, holidays: frozenset[date] = frozenset()) -> date:
    """The first day after ``day`` that is neither a weekend nor a holiday (COAF's deadline)."""
    candidate = day + timedelta(days=1)
    while candidate.weekday() >= 5 or candidate in holidays:
        candidate += timedelta(days=1)
    return candidate
