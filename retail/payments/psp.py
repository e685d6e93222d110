"""HTTP client of the PSP (``sandbox.psp`` locally): payments, refunds and their status.

Every ``POST`` carries ``Idempotency-Key`` = our id (``pay_…``/``ref_…``), the same on every
retry, so a timeout or a 5xx is safe to retry: the PSP charges once per key. What is retryable
raises :class:`PspUnavailable`; a 4xx is the PSP's final word and raises :class:`PspRejected`.
"""

from __future__ import annotations

import functools
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
    try:
        return _client().request(method, path, **kwargs)
    except httpx.HTTPError as error:  # timeouts, refused connections, broken responses
        raise PspUnavailable(f"{method} {path}: {type(error).__name__}") from error


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
