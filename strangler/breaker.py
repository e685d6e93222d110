"""A circuit breaker per upstream, per process: closed → open → half-open → closed."""

from __future__ import annotations

import enum
import math
import threading
import time
from collections.abc import Callable


class BreakerState(enum.IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; after ``reset_after_s`` lets one
    trial request through (half-open): its success closes the breaker, its failure re-opens it.
    """

    def __init__(
        self,
        failure_threshold: int,
        reset_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_started_at: float | None = None

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state_locked()

    def _state_locked(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_after_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """May a request go upstream now? In half-open, only one trial at a time."""
        with self._lock:
            state = self._state_locked()
            if state is BreakerState.CLOSED:
                return True
            if state is BreakerState.OPEN:
                return False
            now = self._clock()
            trial_stuck = (
                self._trial_started_at is not None
                and now - self._trial_started_at >= self.reset_after_s
            )
            if self._trial_started_at is None or trial_stuck:
                self._trial_started_at = now
                return True
            return False

    def retry_after_s(self) -> int:
        """Whole seconds until the next trial may run (at least 1)."""
        with self._lock:
            if self._opened_at is None:
                return 1
            remaining = self._opened_at + self.reset_after_s - self._clock()
            return max(1, math.ceil(remaining))

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_started_at = None

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            half_open_trial_failed = self._trial_started_at is not None
            if half_open_trial_failed or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
                self._trial_started_at = None
