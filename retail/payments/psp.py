"""HTTP client of the PSP (``sandbox.psp`` locally): payments, refunds and their status.

Every ``POST`` carries ``Idempotency-Key`` = our id (``pay_…``/``ref_…``), the same on every
retry, so a timeout or a 5xx is safe to retry: the PSP charges once per key. What is retryable
raises :class:`PspUnavailable`; a 4xx is the PSP's final word and raises :class:`PspRejected`.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

RETRYABLE_4XX = frozenset({409, 429})  # 409 is answered with the existing reference below


class PspUnavailable(Exception):
    """No answer, a timeout, a 5xx or 429: try again later with the same key."""


@dataclass
class PspRejected(Exception):
    """A final 4xx: the PSP will never accept this request."""

    status: int
    code: str

    def __str__(self) -> str:
        return f"psp_rejected_{self.status}_{self.code}"


class PspCircuitOpen(PspUnavailable):
    """The PSP failed too many times in a row: not asked until the breaker half-opens."""


@dataclass
class CircuitBreaker:
    """ "The PSP is down" as a verdict of ``PSP_BREAKER_FAILURES`` failures in a row (no answer,
    5xx, 429), not of one 503 (``tok_flaky`` answers that by design). Open, it refuses calls for
    ``PSP_BREAKER_RESET_S``; then one call goes through, and its answer closes or reopens it.
    One per process: each worker finds out for itself, within a few calls."""

    failures: int = 0
    opened_at: float | None = None

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        if time.monotonic() - self.opened_at < settings.PSP_BREAKER_RESET_S:
            return False
        self.opened_at = time.monotonic()  # half-open: this call is the trial, others wait
        return True

    def record(self, *, failed: bool) -> None:
        if not failed:
            self.failures, self.opened_at = 0, None
            return
        self.failures += 1
        if self.failures >= settings.PSP_BREAKER_FAILURES:
            self.opened_at = time.monotonic()

    @property
    def open(self) -> bool:
        return self.opened_at is not None


BREAKER = CircuitBreaker()


def circuit_open() -> bool:
    return BREAKER.open


@functools.cache
def _client() -> httpx.Client:
    """One pooled client per process (created lazily, so after a worker forks)."""
    return httpx.Client(
        base_url=settings.PSP_URL,
        timeout=httpx.Timeout(settings.PSP_READ_TIMEOUT_S, connect=settings.PSP_CONNECT_TIMEOUT_S),
    )


def payment_request(*, payment_id: str, order_id: str, amount: int, token: str) -> str:
    """Ask the PSP to collect ``amount``; the PSP's reference. The outcome comes by webhook."""
    body = {
        "payment_id": payment_id,
        "order_id": order_id,
        "amount": amount,
        "token": token,
        "callback_url": callback_url(),
    }
    return _post("/payments", key=payment_id, body=body)


def refund_request(*, refund_id: str, payment_id: str, amount: int) -> str:
    body = {
        "payment_id": payment_id,
        "refund_id": refund_id,
        "amount": amount,
        "callback_url": callback_url(),
    }
    return _post("/refunds", key=refund_id, body=body)


def payment_status(payment_id: str) -> dict[str, Any] | None:
    """The PSP's record of a payment (``status``: pending/captured/declined); None if unknown."""
    return _get(f"/payments/{payment_id}")


def refund_status(refund_id: str) -> dict[str, Any] | None:
    """The PSP's record of a refund (``status``: pending/succeeded/failed); None if unknown."""
    return _get(f"/refunds/{refund_id}")


def callback_url() -> str:
    return settings.PUBLIC_URL.rstrip("/") + "/webhooks/psp/"


def _post(path: str, *, key: str, body: dict[str, Any]) -> str:
    response = _send("POST", path, json=body, headers={"Idempotency-Key": key})
    answer = _json(response)
    reference = answer.get("psp_reference")
    if response.status_code == 409 and isinstance(reference, str):
        return reference  # the PSP already has it (under this id): same effect, same reference
    if response.status_code in RETRYABLE_4XX or response.status_code >= 500:
        raise PspUnavailable(f"POST {path} answered {response.status_code}")
    if response.status_code >= 400:
        raise PspRejected(response.status_code, str(answer.get("code", "unknown")))
    if not isinstance(reference, str) or not reference:
        raise PspUnavailable(f"POST {path} answered {response.status_code} without a reference")
    return reference


def _get(path: str) -> dict[str, Any] | None:
    response = _send("GET", path)
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise PspUnavailable(f"GET {path} answered {response.status_code}")
    return _json(response)


def _send(method: str, path: str, **kwargs: Any) -> httpx.Response:
    if not BREAKER.allow():
        raise PspCircuitOpen(f"{method} {path}: not asked, the PSP failed too often in a row")
    try:
        response = _client().request(method, path, **kwargs)
    except httpx.HTTPError as error:  # timeouts, refused connections, broken responses
        BREAKER.record(failed=True)
        raise PspUnavailable(f"{method} {path}: {type(error).__name__}") from error
    BREAKER.record(failed=response.status_code == 429 or response.status_code >= 500)
    return response


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
