"""The payment and refund state machines and the refundable amount (pure, property-tested)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retail.payments.domain import (
    PaymentStatus,
    RefundExceedsCaptured,
    RefundStatus,
    payment_advance,
    payment_fold,
    refund_advance,
    refund_check,
    refundable,
)

REQUESTED, AUTHORIZED, CAPTURED, FAILED = (
    PaymentStatus.REQUESTED,
    PaymentStatus.AUTHORIZED,
    PaymentStatus.CAPTURED,
    PaymentStatus.FAILED,
)
RANK = {REQUESTED: 0, AUTHORIZED: 1, CAPTURED: 2, FAILED: 2}


def deliveries(story):
    """Every report of ``story`` delivered 1-3 times, in any order (a webhook storm)."""
    return st.lists(st.integers(1, 3), min_size=len(story), max_size=len(story)).flatmap(
        lambda copies: st.permutations(
            [report for report, n in zip(story, copies, strict=True) for _ in range(n)]
        )
    )


@given(deliveries([AUTHORIZED, CAPTURED]))
def test_a_captured_payment_ends_captured_with_each_event_once_in_order(reports):
    final, passed = payment_fold(reports)
    assert final == CAPTURED
    assert passed == [AUTHORIZED, CAPTURED]


@given(deliveries([FAILED]))
def test_a_declined_payment_ends_failed_with_one_event(reports):
    assert payment_fold(reports) == (FAILED, [FAILED])


@given(st.lists(st.sampled_from(list(PaymentStatus)), max_size=12))
def test_any_report_sequence_only_moves_forward_and_stops_at_a_terminal_state(reports):
    final, passed = payment_fold(reports)
    ranks = [RANK[state] for state in passed]
    assert ranks == sorted(ranks)
    assert len(passed) == len(set(passed))
    assert REQUESTED not in passed
    assert not ({CAPTURED, FAILED} <= set(passed))  # never both
    assert final == (passed[-1] if passed else REQUESTED)


@pytest.mark.parametrize("state", list(PaymentStatus))
@pytest.mark.parametrize("report", list(PaymentStatus))
def test_a_repeated_report_is_a_no_op(state, report):
    steps = payment_advance(state, report)
    after = steps[-1] if steps else state
    assert payment_advance(after, report) == ()


def test_a_capture_before_the_authorization_passes_through_authorized():
    assert payment_advance(REQUESTED, CAPTURED) == (AUTHORIZED, CAPTURED)
    assert payment_advance(CAPTURED, AUTHORIZED) == ()
    assert payment_advance(CAPTURED, FAILED) == ()
    assert payment_advance(FAILED, CAPTURED) == ()


def test_refunds_settle_once_and_never_change_their_mind():
    assert refund_advance(RefundStatus.REQUESTED, RefundStatus.SUCCEEDED) == RefundStatus.SUCCEEDED
    assert refund_advance(RefundStatus.REQUESTED, RefundStatus.FAILED) == RefundStatus.FAILED
    assert refund_advance(RefundStatus.SUCCEEDED, RefundStatus.SUCCEEDED) is None
    assert refund_advance(RefundStatus.SUCCEEDED, RefundStatus.FAILED) is None
    assert refund_advance(RefundStatus.FAILED, RefundStatus.SUCCEEDED) is None
    assert refund_advance(RefundStatus.REQUESTED, RefundStatus.REQUESTED) is None


@given(st.integers(0, 10**9), st.lists(st.integers(1, 10**8), max_size=30))
def test_accepted_refunds_never_exceed_the_capture(captured, asks):
    accepted: list[int] = []
    for amount in asks:
        still = refundable(captured, accepted)
        if amount > still:
            with pytest.raises(RefundExceedsCaptured) as refused:
                refund_check(amount=amount, captured=captured, refunds_not_failed=accepted)
            assert refused.value.refundable == still == captured - sum(accepted)
        else:
            refund_check(amount=amount, captured=captured, refunds_not_failed=accepted)
            accepted.append(amount)
    assert sum(accepted) <= captured
    assert refundable(captured, accepted) == captured - sum(accepted)
