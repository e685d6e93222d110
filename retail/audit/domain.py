"""The audit chain's pure rules: canonical content, hashes, retention and verification.

An entry's hash is ``sha256(prev_hash + canonical_json(content))``: changing any field of any
entry, or removing one, breaks every hash after it. No Django here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

GENESIS_HASH = "0" * 64
RETENTION_YEARS = 10


class Kind:
    REQUEST = "request"
    TRANSITION = "transition"
    EVENT = "event"
    WEBHOOK = "webhook"
    LEDGER = "ledger"
    STAFF = "staff"
    ALL = (REQUEST, TRANSITION, EVENT, WEBHOOK, LEDGER, STAFF)


# Values of keys containing these never enter the append-only log (it outlives any erasure
# request); the operational tables keep them, encrypted where they must.
REDACTED_KEY_PARTS = ("cpf", "email", "phone", "customer_name", "password", "secret", "token")
REDACTED = "[redacted]"


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 characters as themselves."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def timestamp_text(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds: what PostgreSQL stores, byte for byte."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def retain_until(moment: datetime) -> date:
    """10 years from 1 January of the year after the operation (Circular 3.978 art. 67)."""
    return date(moment.astimezone(UTC).year + 1 + RETENTION_YEARS, 1, 1)


@dataclass(frozen=True)
class EntryContent:
    seq: int
    at: datetime
    kind: str
    action: str
    actor: str
    channel: str
    idempotency_key: str
    request_id: str
    order_id: str | None
    data: Any
    retain_until: date

    def canonical(self) -> str:
        return canonical_json(
            {
                "seq": self.seq,
                "at": timestamp_text(self.at),
                "kind": self.kind,
                "action": self.action,
                "actor": self.actor,
                "channel": self.channel,
                "idempotency_key": self.idempotency_key,
                "request_id": self.request_id,
                "order_id": self.order_id,
                "data": self.data,
                "retain_until": self.retain_until.isoformat(),
            }
        )

    def hash_after(self, prev_hash: str) -> str:
        return hashlib.sha256((prev_hash + self.canonical()).encode()).hexdigest()


def redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if any(part in key.lower() for part in REDACTED_KEY_PARTS)
            else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def event_kind(event_type: str, aggregate_type: str) -> str:
    """Order status changes are transitions; ledger postings and webhook receipts are their own."""
    if aggregate_type.startswith("ledger"):
        return Kind.LEDGER
    if "Webhook" in event_type:
        return Kind.WEBHOOK
    if aggregate_type == "order" and event_type.startswith("Order"):
        return Kind.TRANSITION
    return Kind.EVENT


def event_order_id(
    aggregate_type: str, aggregate_id: str, payload: Mapping[str, Any]
) -> str | None:
    if aggregate_type == "order":
        return aggregate_id
    order_id = payload.get("order_id")
    return order_id if isinstance(order_id, str) and order_id else None


ORDER_ID_PREFIX = "ord_"


def request_order_id(
    path_arguments: Mapping[str, Any], request_body: Any, response_body: Any
) -> str | None:
    """The order a request was about: from its URL, its webhook payload, or the order it made."""
    candidates = [*path_arguments.values()]
    for body in (response_body, request_body):
        if isinstance(body, Mapping):
            data = body.get("data")
            candidates += [body.get("order_id"), body.get("id")]
            if isinstance(data, Mapping):
                candidates.append(data.get("order_id"))
    orders = (value for value in candidates if isinstance(value, str))
    return next((value for value in orders if value.startswith(ORDER_ID_PREFIX)), None)


@dataclass(frozen=True)
class StoredEntry:
    content: EntryContent
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Anchor:
    """Where the chain starts: the genesis, or the last entry a retention purge removed."""

    seq: int = 0
    hash: str = GENESIS_HASH


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    mac: str = ""


def checkpoint_mac(key: bytes, seq: int, hash_: str, previous_mac: str) -> str:
    """HMAC-SHA256 of a checkpoint and the one before it: without the key (kept out of the
    database), a rewritten and re-hashed chain cannot be given matching checkpoints, and a
    removed checkpoint breaks the next one's MAC."""
    return hmac.new(key, f"{seq}:{hash_}:{previous_mac}".encode(), hashlib.sha256).hexdigest()


def checkpoints_forged(key: bytes, checkpoints: Iterable[Checkpoint]) -> Checkpoint | None:
    """The first checkpoint (in the order written) whose MAC does not verify, if any."""
    previous = ""
    for point in checkpoints:
        if not hmac.compare_digest(checkpoint_mac(key, point.seq, point.hash, previous), point.mac):
            return point
        previous = point.mac
    return None


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    head: str
    first_broken: int | None
    reason: str = ""


def chain_verify(
    entries: Iterable[StoredEntry],
    anchor: Anchor,
    checkpoints: Iterable[Checkpoint],
    key: bytes,
) -> Verification:
    """Check the checkpoints' MACs under ``key``, recompute every hash in ``seq`` order, then
    check each checkpoint is still in the chain.

    ``first_broken`` is the seq of the first entry that is altered, out of place or missing.
    """
    checkpoints = list(checkpoints)
    if (forged := checkpoints_forged(key, checkpoints)) is not None:
        return Verification(
            False, 0, anchor.hash, forged.seq, f"checkpoint at entry {forged.seq} is forged"
        )
    expected_seq, head, count = anchor.seq + 1, anchor.hash, 0
    hashes: dict[int, str] = {}
    wanted = {point.seq: point.hash for point in checkpoints if point.seq > anchor.seq}
    for entry in entries:
        seq = entry.content.seq
        if seq != expected_seq:
            return Verification(False, count, head, expected_seq, f"entry {expected_seq} missing")
        if entry.prev_hash != head:
            return Verification(False, count, head, seq, f"entry {seq} prev_hash does not link")
        if entry.content.hash_after(head) != entry.hash:
            return Verification(False, count, head, seq, f"entry {seq} content altered")
        head, expected_seq, count = entry.hash, seq + 1, count + 1
        if seq in wanted:
            hashes[seq] = head
    for seq in sorted(wanted):
        if seq not in hashes:
            return Verification(
                False, count, head, seq, f"entry {seq} missing (checkpointed, now gone)"
            )
        if hashes[seq] != wanted[seq]:
            return Verification(False, count, head, seq, f"entry {seq} differs from its checkpoint")
    return Verification(True, count, head, None)


SYSTEM_ACTOR = "system"


def actor_label(principal: object) -> tuple[str, str]:
    """``(actor, channel)`` of whoever made a request: a channel key, a staff user, or nobody."""
    channel_code = getattr(principal, "code", None)
    if isinstance(channel_code, str) and hasattr(principal, "api_key_id"):
        return f"channel:{channel_code}", channel_code
    username = getattr(principal, "username", None)
    if isinstance(username, str) and getattr(principal, "is_authenticated", False):
        return f"staff:{username}", ""
    return "", ""
