"""What the PSP does with payments and refunds: idempotent requests, outcomes, events."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from sandbox.psp.delivery import Courier, Webhook, spawn
from sandbox.psp.store import Store

log = logging.getLogger("sandbox.psp")

CAPTURING_TOKENS = frozenset({"tok_ok", "tok_slow", "tok_flaky"})  # anything else is declined
SLOW_TOKENS = frozenset({"tok_slow"})
FLAKY_TOKENS = frozenset({"tok_flaky"})
FLAKY_FAILURES = 2  # tok_flaky: the first two POST /payments for a payment answer 503
PROCESSING_DELAY = 0.1
SLOW_DELAY = 3.0  # tok_slow: everything about the payment happens 3 s late
CHARGE_FIELDS = ("psp_reference", "payment_id", "order_id", "amount", "status", "refunded")
REFUND_FIELDS = ("psp_reference", "refund_id", "payment_id", "amount", "status")
MAX_TEXT = 2000
MAX_KEY_LENGTH = 255
PAYMENT_SCHEMA = {
    "payment_id": str,
    "order_id": str,
    "amount": int,
    "token": str,
    "callback_url": str,
}
REFUND_SCHEMA = {"payment_id": str, "refund_id": str, "amount": int, "callback_url": str}


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def problem(cls, status: int, code: str, detail: str, **extra: Any) -> Reply:
        title = HTTPStatus(status).phrase
        body = {
            "type": "about:blank",
            "title": title,
            "status": status,
            "code": code,
            "detail": detail,
        }
        body.update(extra)
        return cls(status, body, {"content-type": "application/problem+json"})


class Engine:
    """All state changes happen under the store's lock and are durable before answering."""

    def __init__(self, store: Store, secret: str, storm: bool) -> None:
        self.store = store
        self.courier = Courier(secret, storm, on_finished=self._delivered)

    # --- requests ---------------------------------------------------------------------------

    def request_payment(self, key: str | None, body: dict[str, Any]) -> Reply:
        payment_id = body.get("payment_id")
        with self.store.lock:
            if isinstance(payment_id, str):  # every request counts, rejected ones included
                self.store.put("requests", payment_id, self.store.requests.get(payment_id, 0) + 1)
            attempt = self.store.requests.get(str(payment_id), 0)
            reply = self._request(
                key, "/payments", body, PAYMENT_SCHEMA, lambda: self._new_payment(body, attempt)
            )
        self.store.commit()
        log.info("POST /payments %s key=%s -> %s", payment_id, key, reply.status)
        if _accepted(reply):
            spawn(self._process_payment, body["payment_id"])
        return reply

    def request_refund(self, key: str | None, body: dict[str, Any]) -> Reply:
        with self.store.lock:
            reply = self._request(
                key, "/refunds", body, REFUND_SCHEMA, lambda: self._new_refund(body)
            )
        self.store.commit()
        log.info("POST /refunds %s key=%s -> %s", body.get("refund_id"), key, reply.status)
        if _accepted(reply):
            spawn(self._process_refund, body["refund_id"])
        return reply

    def _request(
        self,
        key: str | None,
        path: str,
        body: dict[str, Any],
        schema: dict[str, type],
        effect: Callable[[], Reply],
    ) -> Reply:
        if key is None:
            return Reply.problem(400, "idempotency_key_missing", "send an Idempotency-Key header")
        if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
            return Reply.problem(400, "idempotency_key_invalid", "1-255 printable ASCII characters")
        return _invalid(body, schema) or self._idempotent(key, path, body, effect)

    def _idempotent(
        self, key: str, path: str, body: dict[str, Any], effect: Callable[[], Reply]
    ) -> Reply:
        fingerprint = hashlib.sha256((path + json.dumps(body, sort_keys=True)).encode()).hexdigest()
        stored = self.store.keys.get(key)
        if stored is not None:
            if stored["fingerprint"] != fingerprint:
                return Reply.problem(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for another request",
                )
            return Reply(stored["status"], stored["body"], {"idempotent-replayed": "true"})
        reply = effect()
        if reply.status < 500:
            self.store.put(
                "keys",
                key,
                {"fingerprint": fingerprint, "status": reply.status, "body": reply.body},
            )
        return reply

    def _new_payment(self, body: dict[str, Any], attempt: int) -> Reply:
        existing = self.store.charges.get(body["payment_id"])
        if existing is not None:
            return Reply.problem(
                409,
                "payment_exists",
                "this payment was requested under another Idempotency-Key",
                psp_reference=existing["psp_reference"],
            )
        if body["token"] in FLAKY_TOKENS and attempt <= FLAKY_FAILURES:
            return Reply.problem(503, "psp_unavailable", "try again", retry_after=1)
        reference = _new_reference()
        charge = {
            "psp_reference": reference,
            "payment_id": body["payment_id"],
            "order_id": body["order_id"],
            "amount": body["amount"],
            "status": "pending",
            "refunded": 0,
            "token": body["token"],
            "callback_url": body["callback_url"],
        }
        self.store.put("charges", body["payment_id"], charge)
        return Reply(202, {"psp_reference": reference})

    def _new_refund(self, body: dict[str, Any]) -> Reply:
        if body["payment_id"] not in self.store.charges:
            return Reply.problem(404, "payment_not_found", "no charge for this payment_id")
        existing = self.store.refunds.get(body["refund_id"])
        if existing is not None:
            return Reply.problem(
                409,
                "refund_exists",
                "this refund was requested under another Idempotency-Key",
                psp_reference=existing["psp_reference"],
            )
        reference = _new_reference()
        refund = {
            "psp_reference": reference,
            "refund_id": body["refund_id"],
            "payment_id": body["payment_id"],
            "amount": body["amount"],
            "status": "pending",
            "callback_url": body["callback_url"],
        }
        self.store.put("refunds", body["refund_id"], refund)
        return Reply(202, {"psp_reference": reference})

    # --- reads -------------------------------------------------------------------------------

    def charges(self) -> list[dict[str, Any]]:
        with self.store.lock:
            return [self._charge_view(c) for c in self.store.charges.values()]

    def charge(self, payment_id: str) -> dict[str, Any] | None:
        with self.store.lock:
            charge = self.store.charges.get(payment_id)
            return None if charge is None else self._charge_view(charge)

    def refund(self, refund_id: str) -> dict[str, Any] | None:
        with self.store.lock:
            refund = self.store.refunds.get(refund_id)
            return None if refund is None else {k: refund[k] for k in REFUND_FIELDS}

    def _charge_view(self, charge: dict[str, Any]) -> dict[str, Any]:
        view = {k: charge[k] for k in CHARGE_FIELDS}
        view["requests"] = self.store.requests.get(charge["payment_id"], 0)
        return view

    # --- processing (background) -------------------------------------------------------------

    def resume(self) -> None:
        """After a restart: finish what was pending, redeliver what was not delivered."""
        with self.store.lock:
            payments = [p for p, c in self.store.charges.items() if c["status"] == "pending"]
            refunds = [r for r, f in self.store.refunds.items() if f["status"] == "pending"]
            undelivered = [Webhook(i, w["url"], w["body"]) for i, w in self.store.outbox.items()]
        for payment_id in payments:
            spawn(self._process_payment, payment_id)
        for refund_id in refunds:
            spawn(self._process_refund, refund_id)
        self.courier.send(undelivered)
        log.info(
            "resumed %d payments, %d refunds, %d webhooks",
            len(payments),
            len(refunds),
            len(undelivered),
        )

    def _process_payment(self, payment_id: str) -> None:
        with self.store.lock:
            charge = self.store.charges[payment_id]
        time.sleep(_delay(charge["token"]))
        with self.store.lock:
            if charge["status"] != "pending":
                return
            captured = charge["token"] in CAPTURING_TOKENS
            charge["status"] = "captured" if captured else "declined"
            self.store.put("charges", payment_id, charge)
            types = ["payment.authorized", "payment.captured"] if captured else ["payment.failed"]
            data = {k: charge[k] for k in ("payment_id", "order_id", "amount", "psp_reference")}
            webhooks = [self._enqueue(charge["callback_url"], t, data) for t in types]
        self.store.commit()
        log.info("payment %s %s (%s)", payment_id, charge["status"], charge["psp_reference"])
        self.courier.send(webhooks)

    def _process_refund(self, refund_id: str) -> None:
        with self.store.lock:
            refund = self.store.refunds[refund_id]
            charge = self.store.charges[refund["payment_id"]]
        time.sleep(_delay(charge["token"]))
        with self.store.lock:
            if refund["status"] != "pending":
                return
            refundable = (
                charge["amount"] - charge["refunded"] if charge["status"] == "captured" else 0
            )
            succeeded = refund["amount"] <= refundable
            if succeeded:
                charge["refunded"] += refund["amount"]
            refund["status"] = "succeeded" if succeeded else "failed"
            self.store.put("charges", charge["payment_id"], charge)
            self.store.put("refunds", refund_id, refund)
            data = {
                "payment_id": charge["payment_id"],
                "order_id": charge["order_id"],
                "amount": refund["amount"],
                "psp_reference": refund["psp_reference"],
                "refund_id": refund_id,
            }
            webhook = self._enqueue(refund["callback_url"], "refund." + refund["status"], data)
        self.store.commit()
        log.info("refund %s %s (refundable was %d)", refund_id, refund["status"], refundable)
        self.courier.send([webhook])

    def _enqueue(self, url: str, event_type: str, data: dict[str, Any]) -> Webhook:
        webhook_id = f"msg_{data['psp_reference']}_{event_type.replace('.', '_')}"
        timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        body = json.dumps({"type": event_type, "timestamp": timestamp, "data": data})
        self.store.put("outbox", webhook_id, {"url": url, "body": body})
        return Webhook(webhook_id, url, body)

    def _delivered(self, webhook_id: str) -> None:
        with self.store.lock:
            self.store.put("outbox", webhook_id, None)
        self.store.commit(wait=False)  # lost in a crash, it is delivered once more: harmless


def _invalid(body: dict[str, Any], schema: dict[str, type]) -> Reply | None:
    errors = []
    for name, kind in schema.items():
        value = body.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            errors.append(f"{name} must be a {kind.__name__}")
        elif isinstance(value, int) and value <= 0:
            errors.append(f"{name} must be positive (centavos)")
        elif isinstance(value, str) and not 1 <= len(value) <= MAX_TEXT:
            errors.append(f"{name} must be 1-{MAX_TEXT} characters")
    url = body.get("callback_url")
    if isinstance(url, str) and not url.startswith(("http://", "https://")):
        errors.append("callback_url must be an http(s) URL")
    if not errors:
        return None
    return Reply.problem(422, "invalid_request", "; ".join(errors), errors=errors)


def _accepted(reply: Reply) -> bool:
    """A new request taken on (not a replay, not a rejection): its work starts now."""
    return reply.status == 202 and "idempotent-replayed" not in reply.headers


def _delay(token: str) -> float:
    return SLOW_DELAY if token in SLOW_TOKENS else PROCESSING_DELAY


def _new_reference() -> str:
    return "psp_" + secrets.token_hex(12)
