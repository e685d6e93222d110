"""The order status machine and line rules, property-tested (pure Python, no database)."""

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retail.orders.domain import (
    MAX_QUANTITY,
    RANK,
    TRANSITIONS,
    InvalidTransition,
    Outcome,
    PricedLine,
    Status,
    TooManyUnits,
    merge_lines,
    order_number,
    order_total,
    plan,
    retain_until,
    status_after_refund,
)

statuses = st.sampled_from(list(Status))


def apply(status: Status, target: Status) -> Status:
    """What a handler does: move when the plan says so; ignore no-ops, stale and illegal."""
    try:
        return target if plan(status, target) is Outcome.APPLY else status
    except InvalidTransition:
        return status


def test_the_contract_path_is_allowed():
    path = [Status.PENDING_PAYMENT, Status.PAID, Status.FULFILLED, Status.DELIVERED]
    for current, target in itertools.pairwise(path):
        assert plan(current, target) is Outcome.APPLY


def test_every_transition_moves_forward_so_there_are_no_cycles():
    for current, targets in TRANSITIONS.items():
        for target in targets:
            assert RANK[target] > RANK[current], (current, target)


@given(statuses)
def test_asking_for_the_current_status_is_a_no_op(status):
    assert plan(status, status) is Outcome.ALREADY


@given(statuses, statuses)
def test_a_pair_is_exactly_one_of_apply_already_stale_or_illegal(current, target):
    try:
        outcome = plan(current, target)
    except InvalidTransition:
        assert target not in TRANSITIONS[current]
        assert target != current
        return
    if outcome is Outcome.APPLY:
        assert target in TRANSITIONS[current]
    if outcome is Outcome.STALE:
        assert RANK[target] < RANK[current]


@given(st.lists(statuses, max_size=30))
def test_the_statuses_an_order_goes_through_never_repeat(targets):
    status, visited = Status.PENDING_PAYMENT, [Status.PENDING_PAYMENT]
    for target in targets:
        following = apply(status, target)
        if following != status:
            visited.append(following)
        status = following
    assert len(visited) == len(set(visited))


@given(st.lists(statuses, max_size=30), st.data())
def test_redelivering_any_events_ends_in_the_same_status(targets, data):
    duplicated = []
    for target in targets:
        duplicated += [target] * data.draw(st.integers(1, 3))
    once, many = Status.PENDING_PAYMENT, Status.PENDING_PAYMENT
    for target in targets:
        once = apply(once, target)
    for target in duplicated:
        many = apply(many, target)
    assert once == many


@given(statuses)
def test_terminal_statuses_accept_nothing_new(status):
    if not TRANSITIONS[status]:
        for target in Status:
            assert apply(status, target) == status


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (Status.PENDING_PAYMENT, True),
        (Status.PAID, True),
        (Status.CANCELLED, True),
        (Status.FULFILLED, False),
        (Status.DELIVERED, False),
        (Status.PAYMENT_FAILED, False),
        (Status.REFUNDED, False),
        (Status.PARTIALLY_REFUNDED, True),  # unless it shipped: order_cancel checks shipped_at
    ],
)
def test_cancel_is_allowed_until_shipped(status, allowed):
    try:
        plan(status, Status.CANCELLED)
    except InvalidTransition:
        assert not allowed
    else:
        assert allowed


def test_refund_status_depends_on_what_was_captured():
    assert status_after_refund(refunded=500, captured=1000) is Status.PARTIALLY_REFUNDED
    assert status_after_refund(refunded=1000, captured=1000) is Status.REFUNDED


lines = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.integers(1, MAX_QUANTITY)), max_size=12
)


@given(lines)
def test_merging_keeps_every_unit_and_one_line_per_sku(raw):
    totals: dict[str, int] = {}
    for sku, quantity in raw:
        totals[sku] = totals.get(sku, 0) + quantity
    too_many = [sku for sku, total in totals.items() if total > MAX_QUANTITY]
    if too_many:
        with pytest.raises(TooManyUnits) as raised:
            merge_lines(raw)
        assert raised.value.skus == too_many
        return
    merged = merge_lines(raw)
    assert sum(merged.values()) == sum(quantity for _, quantity in raw)
    assert list(merged) == list(dict.fromkeys(sku for sku, _ in raw))


@given(st.lists(st.tuples(st.integers(1, MAX_QUANTITY), st.integers(0, 10**9)), max_size=100))
def test_the_total_is_the_sum_of_quantity_times_unit_price(priced):
    order_lines = [
        PricedLine(f"S{i}", quantity, price) for i, (quantity, price) in enumerate(priced)
    ]
    assert order_total(order_lines) == sum(quantity * price for quantity, price in priced)


def test_operations_are_kept_ten_years_from_the_next_first_of_january():
    assert retain_until(date(2026, 12, 31)) == date(2037, 1, 1)
    assert retain_until(date(2026, 1, 1)) == date(2037, 1, 1)


def test_order_numbers_are_readable_and_sortable_within_a_year():
    assert order_number(2026, 123) == "R-2026-000123"
    assert order_number(2026, 1234567) == "R-2026-1234567"
