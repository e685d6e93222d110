"""The circuit breaker's states, on a clock the test moves."""

from strangler.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def failed(breaker, times):
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()


def test_opens_after_five_consecutive_failures_not_four():
    clock = Clock()
    breaker = CircuitBreaker(5, 10.0, clock)
    failed(breaker, 4)
    assert breaker.state is BreakerState.CLOSED
    failed(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.retry_after_s() == 10


def test_a_success_resets_the_consecutive_count():
    breaker = CircuitBreaker(5, 10.0, Clock())
    failed(breaker, 4)
    breaker.record_success()
    failed(breaker, 4)
    assert breaker.state is BreakerState.CLOSED


def test_half_open_after_the_reset_time_lets_exactly_one_trial_through():
    clock = Clock()
    breaker = CircuitBreaker(5, 10.0, clock)
    failed(breaker, 5)
    clock.now += 9.5
    assert not breaker.allow()
    assert breaker.retry_after_s() == 1
    clock.now += 0.5
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow(), "a second request while the trial runs is refused"


def test_a_successful_trial_closes_and_a_failed_one_reopens_for_another_full_period():
    clock = Clock()
    breaker = CircuitBreaker(5, 10.0, clock)
    failed(breaker, 5)
    clock.now += 10
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_after_s() == 10
    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    failed(breaker, 4)
    assert breaker.state is BreakerState.CLOSED


def test_a_trial_that_never_reports_does_not_wedge_the_breaker():
    clock = Clock()
    breaker = CircuitBreaker(5, 10.0, clock)
    failed(breaker, 5)
    clock.now += 10
    assert breaker.allow()
    clock.now += 10
    assert breaker.allow()
