"""The rules as pure functions: each fires on its pattern and not just below it."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retail.compliance import domain
from retail.compliance.domain import (
    DEFAULT_PARAMETERS,
    Direction,
    Kind,
    OperationSummary,
    Outcome,
    PepStatus,
    RuleInput,
    RuleKind,
)

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
R = 100  # one real in centavos


def op(
    n: int,
    amount: int,
    *,
    at: datetime = T0,
    kind: Kind = Kind.PAYMENT,
    direction: Direction = Direction.CREDIT,
    outcome: Outcome = Outcome.COMPLETED,
    **extra: str,
) -> OperationSummary:
    return OperationSummary(
        id=f"opr_{n:03d}",
        kind=kind,
        direction=direction,
        outcome=outcome,
        amount=amount,
        occurred_at=at,
        customer_id="cus_1",
        order_id=extra.pop("order_id", f"ord_{n}"),
        **extra,
    )


def run(kind: RuleKind, history: list[OperationSummary], **params_and_input) -> object:
    inputs = {
        k: params_and_input.pop(k) for k in ("pep", "identity_peers") if k in params_and_input
    }
    params = {**DEFAULT_PARAMETERS[kind], **params_and_input}
    assert domain.parameters_errors(kind, params) == []
    return domain.rule_evaluate(
        kind, params, RuleInput(trigger=history[-1], history=history, **inputs)
    )


# --- structuring --------------------------------------------------------------------
def test_structuring_fires_on_three_credits_just_below_ten_thousand_within_the_window():
    ops = [op(i, 9_800 * R, at=T0 + timedelta(hours=10 * i)) for i in range(3)]
    finding = run(RuleKind.STRUCTURING, ops)
    assert finding.operation_ids == ("opr_000", "opr_001", "opr_002")
    assert finding.evidence["threshold"] == 10_000 * R
    assert finding.evidence["count"] == 3


@pytest.mark.parametrize(
    ("amounts", "spacing_hours"),
    [
        ([9_800 * R, 9_800 * R], 10),  # two only
        ([8_900 * R, 8_900 * R, 8_900 * R], 10),  # below the 10 % margin
        ([10_000 * R, 10_000 * R, 10_000 * R], 10),  # at the threshold, not below it
        ([9_800 * R, 9_800 * R, 9_800 * R], 37),  # spread over more than 72 h
    ],
)
def test_structuring_does_not_fire_just_outside_its_pattern(amounts, spacing_hours):
    ops = [op(i, a, at=T0 + timedelta(hours=spacing_hours * i)) for i, a in enumerate(amounts)]
    assert run(RuleKind.STRUCTURING, ops) is None


def test_structuring_ignores_refused_attempts():
    ops = [op(0, 9_800 * R, outcome=Outcome.REFUSED), op(1, 9_800 * R), op(2, 9_800 * R)]
    assert run(RuleKind.STRUCTURING, ops) is None


# --- velocity -------------------------------------------------------------------------
def test_velocity_fires_on_eleven_attempts_in_an_hour_and_not_on_ten():
    ops = [op(i, 50 * R, at=T0 + timedelta(minutes=5 * i), instrument="card1") for i in range(11)]
    assert run(RuleKind.VELOCITY, ops[:10]) is None
    assert run(RuleKind.VELOCITY, ops).evidence["operations"] == 11


def test_velocity_fires_on_four_instruments_and_not_on_three():
    ops = [op(i, 50 * R, at=T0 + timedelta(minutes=i), instrument=f"card{i}") for i in range(4)]
    assert run(RuleKind.VELOCITY, ops[:3]) is None
    assert run(RuleKind.VELOCITY, ops).evidence["instruments"] == 4


def test_velocity_counts_failed_attempts_too():
    ops = [
        op(i, 50 * R, at=T0 + timedelta(minutes=i), outcome=Outcome.REFUSED, instrument="c")
        for i in range(11)
    ]
    assert run(RuleKind.VELOCITY, ops) is not None


# --- profile ----------------------------------------------------------------------------
def test_profile_fires_on_ten_times_the_average_and_not_just_below():
    history = [op(i, 1_000 * R, at=T0 - timedelta(days=30 - i)) for i in range(3)]
    assert run(RuleKind.PROFILE, [*history, op(9, 10_000 * R)]).evidence["average"] == 1_000 * R
    assert run(RuleKind.PROFILE, [*history, op(9, 9_999 * R)]) is None


def test_profile_needs_a_history_first():
    history = [op(i, 1_000 * R, at=T0 - timedelta(days=30 - i)) for i in range(2)]
    assert run(RuleKind.PROFILE, [*history, op(9, 50_000 * R)]) is None


# --- dormant ----------------------------------------------------------------------------
def test_dormant_fires_after_180_silent_days_and_not_after_179():
    large = 10_000 * R
    assert run(RuleKind.DORMANT, [op(0, R, at=T0 - timedelta(days=180)), op(1, large)]) is not None
    assert run(RuleKind.DORMANT, [op(0, R, at=T0 - timedelta(days=179)), op(1, large)]) is None
    assert run(RuleKind.DORMANT, [op(0, R, at=T0 - timedelta(days=400)), op(1, large - 1)]) is None


def test_a_new_customer_is_not_dormant():
    assert run(RuleKind.DORMANT, [op(1, 100_000 * R)]) is None


# --- shared identity ----------------------------------------------------------------------
def test_shared_identity_fires_on_four_customers_behind_one_email_and_not_three():
    trigger = [op(0, R, kind=Kind.ORDER, direction=Direction.NONE, email="a@x.com")]
    four = {"email": frozenset({"cus_1", "cus_2", "cus_3", "cus_4"})}
    three = {"email": frozenset({"cus_1", "cus_2", "cus_3"})}
    assert run(RuleKind.SHARED_IDENTITY, trigger, identity_peers=four).evidence["customers"] == [
        "cus_1",
        "cus_2",
        "cus_3",
        "cus_4",
    ]
    assert run(RuleKind.SHARED_IDENTITY, trigger, identity_peers=three) is None


# --- pass-through ---------------------------------------------------------------------------
def refund(n: int, amount: int, at: datetime, order_id: str = "ord_0") -> OperationSummary:
    return op(n, amount, at=at, kind=Kind.REFUND, direction=Direction.DEBIT, order_id=order_id)


def test_pass_through_fires_on_most_of_a_capture_refunded_within_two_days():
    captured = op(0, 5_000 * R, order_id="ord_0")
    assert run(
        RuleKind.PASS_THROUGH, [captured, refund(1, 4_000 * R, T0 + timedelta(hours=47))]
    ).evidence == {"received": 5_000 * R, "returned": 4_000 * R, "minutes_between": 47 * 60}


@pytest.mark.parametrize(
    ("amount", "hours", "order_id"),
    [
        (3_999 * R, 1, "ord_0"),  # less than 80 %
        (5_000 * R, 49, "ord_0"),  # too late
        (5_000 * R, 1, "ord_other"),  # another order's refund
    ],
)
def test_pass_through_does_not_fire_outside_its_pattern(amount, hours, order_id):
    captured = op(0, 5_000 * R, order_id="ord_0")
    ops = [captured, refund(1, amount, T0 + timedelta(hours=hours), order_id)]
    assert run(RuleKind.PASS_THROUGH, ops) is None


# --- PEP --------------------------------------------------------------------------------
def test_pep_fires_in_office_and_up_to_five_years_after_leaving_it():
    trigger = [op(0, 100 * R)]
    in_office = PepStatus(name="X", office="Senador", office_end=None)
    left = PepStatus(name="X", office="Prefeito", office_end=date(2020, 3, 10))
    left_long_ago = PepStatus(name="X", office="Prefeito", office_end=date(2020, 3, 9))
    assert run(RuleKind.PEP, trigger, pep=in_office) is not None
    assert run(RuleKind.PEP, trigger, pep=left) is not None  # exactly 5 years to the day
    assert run(RuleKind.PEP, trigger, pep=left_long_ago) is None
    assert run(RuleKind.PEP, trigger, pep=None) is None


# --- cash (art. 49) ------------------------------------------------------------------------
def test_cash_from_fifty_thousand_is_an_automatic_communication_and_not_below():
    finding = run(RuleKind.CASH, [op(0, 50_000 * R, payment_method="cash")])
    assert finding.automatic_communication is True
    assert run(RuleKind.CASH, [op(0, 50_000 * R - 1, payment_method="cash")]) is None
    assert run(RuleKind.CASH, [op(0, 90_000 * R, payment_method="card")]) is None


@given(amount=st.integers(min_value=1, max_value=10**10))
def test_cash_fires_exactly_from_the_threshold(amount):
    finding = run(RuleKind.CASH, [op(0, amount, payment_method="cash")])
    assert (finding is not None) == (amount >= 50_000 * R)


# --- properties ------------------------------------------------------------------------------
amounts = st.integers(min_value=1, max_value=2_000_000)


@given(
    ops=st.lists(st.tuples(amounts, st.integers(min_value=0, max_value=200)), max_size=12),
    min_count=st.integers(min_value=2, max_value=6),
)
def test_structuring_fires_only_with_min_count_credits_in_the_band(ops, min_count):
    history = [op(i, a, at=T0 + timedelta(hours=h)) for i, (a, h) in enumerate(ops)]
    history.sort(key=lambda o: o.occurred_at)
    if not history:
        return
    finding = run(RuleKind.STRUCTURING, history, min_count=min_count)
    trigger = history[-1]
    in_band = [
        o
        for o in history
        if 900_000 <= o.amount < 1_000_000
        and trigger.occurred_at - o.occurred_at <= timedelta(hours=72)
    ]
    expected = 900_000 <= trigger.amount < 1_000_000 and len(in_band) >= min_count
    assert (finding is not None) == expected
    if finding is not None:
        assert len(finding.operation_ids) == len(in_band)


@given(ops=st.lists(amounts, min_size=1, max_size=30), limit=st.integers(min_value=1, max_value=20))
def test_velocity_fires_exactly_above_the_limit(ops, limit):
    history = [op(i, a, at=T0 + timedelta(seconds=i), instrument="one") for i, a in enumerate(ops)]
    finding = run(RuleKind.VELOCITY, history, max_operations=limit)
    assert (finding is not None) == (len(history) > limit)


@given(moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31)))
def test_retention_is_first_january_of_the_year_after_plus_ten_years(moment):
    until = domain.retain_until(moment.replace(tzinfo=UTC))
    assert (until.month, until.day) == (1, 1)
    assert until.year == moment.year + 11
    assert until > moment.date() + timedelta(days=365 * 10)


def test_retention_examples():
    assert domain.retain_until(datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) == date(2036, 1, 1)
    assert domain.retain_until(datetime(2025, 1, 1, 0, 0, tzinfo=UTC)) == date(2036, 1, 1)


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_next_business_day_is_the_first_weekday_after(day):
    following = domain.next_business_day(day)
    assert following > day
    assert following.weekday() < 5
    assert all((day + timedelta(days=n)).weekday() >= 5 for n in range(1, (following - day).days))


def test_next_business_day_skips_weekends_and_holidays():
    friday, saturday = date(2025, 11, 14), date(2025, 11, 15)
    assert domain.next_business_day(friday) == date(2025, 11, 17)  # Monday
    assert domain.next_business_day(saturday) == date(2025, 11, 17)
    assert domain.next_business_day(date(2025, 11, 19)) == date(2025, 11, 20)
    assert domain.next_business_day(date(2025, 11, 19), frozenset({date(2025, 11, 20)})) == date(
        2025, 11, 21
    )
    christmas_eve = date(2025, 12, 24)  # Wednesday; 25th a holiday
    assert domain.next_business_day(christmas_eve, frozenset({date(2025, 12, 25)})) == date(
        2025, 12, 26
    )


def test_selection_and_analysis_deadlines_are_45_days():
    assert domain.selection_deadline(T0) == T0 + timedelta(days=45)
    assert domain.analysis_deadline(T0) == datetime(2025, 4, 24, 12, 0, tzinfo=UTC)


# --- parameters ---------------------------------------------------------------------------
def test_every_default_parameter_set_is_valid():
    for kind, params in DEFAULT_PARAMETERS.items():
        assert domain.parameters_errors(kind, params) == []


@pytest.mark.parametrize(
    ("kind", "parameters", "error"),
    [
        ("structuring", [], "parameters must be a JSON object"),
        ("nonsense", {}, "unknown rule kind 'nonsense'"),
        ("dormant", {"dormant_days": 10}, "missing parameter 'min_amount'"),
        ("dormant", {"dormant_days": 10, "min_amount": 1, "x": 1}, "unknown parameter 'x'"),
        (
            "dormant",
            {"dormant_days": "10", "min_amount": 1},
            "dormant_days must be an integer >= 1",
        ),
        (
            "dormant",
            {"dormant_days": True, "min_amount": 1},
            "dormant_days must be an integer >= 1",
        ),
        ("dormant", {"dormant_days": 0, "min_amount": 1}, "dormant_days must be an integer >= 1"),
        (
            "structuring",
            {"thresholds": [], "margin_percent": 10, "min_count": 3, "window_hours": 1},
            "thresholds must be a non-empty list",
        ),
        (
            "structuring",
            {"thresholds": [1.5], "margin_percent": 10, "min_count": 3, "window_hours": 1},
            "thresholds must hold positive integers",
        ),
        (
            "shared_identity",
            {"attributes": ["phone"], "min_customers": 3, "window_days": 1},
            "attributes must be a non-empty subset of ['client_ip', 'email']",
        ),
    ],
)
def test_invalid_parameters_are_named(kind, parameters, error):
    assert error in domain.parameters_errors(kind, parameters)
