"""The tables ``bench.grow`` fills from Python through COPY: what the database cannot compute.

- ``customers_customer``: the CPF's keyed hash and its encryption (``retail.customers.pii``);
- ``platform_outbox``: each order's seven events, delivered, with the payloads the code emits;
- ``audit_entry``: the hash chain, continued from its head under the chain's lock, one entry
  per request, PSP webhook and event, as ``retail.audit`` writes them.

One function per table returns a ``Stream``: its columns and the rows of one past order.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import psycopg

from bench.grow_plan import (
    CHANNEL,
    CHANNEL_ACTOR,
    CURRENCY,
    PAYMENT_METHOD,
    PastOrder,
)
from retail.audit import domain as audit_domain
from retail.customers import domain as customers_domain
from retail.customers import pii
from retail.ledger import domain as ledger_domain
from retail.ledger.events import JournalEntryPosted
from retail.orders.events import OrderPaid, OrderPlaced
from retail.payments.events import PaymentAuthorized, PaymentCaptured, PaymentRequested
from retail.platform.events import DomainEvent

Row = tuple[Any, ...]
PSP_WEBHOOK_ACTOR = "webhook:psp"
PSP_WEBHOOK_IP = "127.0.0.1"
CHAIN_LOCK_KEY = 0x617564_6974  # retail.audit.services.CHAIN_LOCK_KEY (models: no import here)


@dataclass(frozen=True)
class Event:
    """One outbox row of a past order (``seq`` reserved from the outbox's sequence)."""

    seq: int
    event_id: str
    event_type: str
    version: int
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: datetime
    request_id: str
    delivered_at: datetime


@dataclass(frozen=True)
class Stream:
    table: str
    columns: tuple[str, ...]
    rows: Callable[[PastOrder, list[Event]], Iterable[Row]]


def order_events(order: PastOrder) -> list[Event]:
    """The seven events of a paid card order, in the order the system emits them."""
    checkout, authorized, captured = order.request_ids
    common = {"channel": CHANNEL, "currency": CURRENCY, "order_id": order.id}
    payment = {**common, "amount": order.total, "aggregate_id": order.payment_id}
    settled = {**payment, "psp_reference": order.psp_reference}
    paid = {
        **common, "total": order.total, "number": order.number,
        "customer_id": order.customer.id, "aggregate_id": order.id,
    }  # fmt: skip
    placed = {**paid, **_placed_fields(order)}
    specs: list[tuple[type[DomainEvent], str, dict[str, Any], str, str, str]] = [
        (OrderPlaced, order.id, placed, "event_placed", checkout, "placed_delivered"),
        (PaymentRequested, order.payment_id, {**payment, "method": PAYMENT_METHOD,
         "psp_reference": ""}, "payment_requested", "", "requested_delivered"),
        (PaymentAuthorized, order.payment_id, settled, "authorized", authorized,
         "authorized_delivered"),
        (PaymentCaptured, order.payment_id, settled, "captured", captured, "captured_delivered"),
        (OrderPaid, order.id, paid, "paid", "", "paid_delivered"),
    ]  # fmt: skip
    events = [
        Event(seq, event_id, kind.event_type, kind.version, kind.aggregate_type, aggregate,
              payload, order.at(occurred), request_id, order.at(delivered))
        for (kind, aggregate, payload, occurred, request_id, delivered), seq, event_id
        in zip(specs, order.outbox_seqs[:5], order.event_ids[:5], strict=True)
    ]  # fmt: skip
    return events + _journal_events(order, events[3])


def _placed_fields(order: PastOrder) -> dict[str, Any]:
    customer = order.customer
    return {
        "lines": [
            {"sku": line.sku, "total": line.quantity * line.unit_price,
             "quantity": line.quantity, "unit_price": line.unit_price}
            for line in order.lines
        ],
        "client_ip": customer.client_ip, "client_user_agent": "",
        "customer_name": customer.name, "customer_email": customer.email,
        "payment_method": PAYMENT_METHOD, "payment_token": customer.token,
        "external_order_id": "",
    }  # fmt: skip


def _journal_events(order: PastOrder, captured: Event) -> list[Event]:
    """JournalEntryPosted for the capture's two entries (``retail.ledger.domain``'s drafts)."""
    drafts = ledger_domain.capture_entries(channel=CHANNEL, amount=order.total, currency=CURRENCY)
    posted_at = order.at("captured_delivered").isoformat()
    events = []
    for index, (draft, entry_id, moment) in enumerate(
        zip(drafts, order.journal_entry_ids, ("sale_posted", "clearing_posted"), strict=True),
        start=5,
    ):
        payload = {
            "channel": CHANNEL, "purpose": draft.purpose, "order_id": order.id,
            "postings": [{"amount": leg.amount, "account": leg.account.code} for leg in draft.legs],
            "reverses": None, "posted_at": posted_at, "aggregate_id": str(entry_id),
            "source_event_id": captured.event_id,
        }  # fmt: skip
        events.append(
            Event(
                order.outbox_seqs[index], order.event_ids[index], JournalEntryPosted.event_type,
                JournalEntryPosted.version, JournalEntryPosted.aggregate_type, str(entry_id),
                payload, order.at(moment), "", order.at("paid_delivered"),
            )
        )  # fmt: skip
    return events


def customers_customer(connection: psycopg.Connection) -> Stream:
    """One row per customer, written with their first order (``updated_at``: their last)."""

    def rows(order: PastOrder, events: list[Event]) -> Iterable[Row]:
        if not order.customer_new:
            return ()
        customer = order.customer
        return [(
            customer.id, customer.name, customer.email, pii.lookup_hash(customer.cpf),
            pii.encrypt(customer.cpf), customers_domain.cpf_mask(customer.cpf),
            customer.created_at, customer.updated_at,
        )]  # fmt: skip

    columns = ("id", "name", "email", "cpf_hmac", "cpf_encrypted", "cpf_masked")
    return Stream("customers_customer", (*columns, "created_at", "updated_at"), rows)


def platform_outbox(connection: psycopg.Connection) -> Stream:
    """The order's events, delivered at the first attempt."""

    def rows(order: PastOrder, events: list[Event]) -> Iterable[Row]:
        return [
            (event.seq, event.event_id, event.aggregate_type, event.aggregate_id,
             event.event_type, event.version, json.dumps(event.payload, ensure_ascii=False),
             event.occurred_at, event.request_id, "delivered", 1, event.occurred_at, "",
             event.delivered_at)
            for event in events
        ]  # fmt: skip

    columns = (
        "seq", "event_id", "aggregate_type", "aggregate_id", "event_type", "version", "payload",
        "occurred_at", "request_id", "status", "attempts", "available_at", "last_error",
        "delivered_at",
    )  # fmt: skip
    return Stream("platform_outbox", columns, rows)


def audit_entry(connection: psycopg.Connection) -> Stream:
    """The chain continued from its head; ``connection``'s transaction holds the chain lock
    until it commits, so no entry is appended meanwhile (``retail.audit.services``)."""
    connection.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    # The chain is built here, each entry after the one before: the database's check that an
    # entry follows the head (one index lookup per row) is skipped for this bulk load only.
    connection.execute("SET LOCAL session_replication_role = replica")
    chain = Chain(*_chain_head(connection))
    columns = (
        "seq", "at", "kind", "action", "actor", "channel", "idempotency_key", "request_id",
        "order_id", "data", "prev_hash", "hash", "retain_until",
    )  # fmt: skip
    return Stream("audit_entry", columns, chain.rows)


# The newest entry, or a purge's anchor, or the genesis (``retail.audit.selectors``).
_HEAD_SQL = """
    SELECT head.seq, head.hash FROM (
        (SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1)
        UNION ALL
        (SELECT through_seq, through_hash FROM audit_purge ORDER BY through_seq DESC LIMIT 1)
        UNION ALL
        (SELECT 0, %s)
    ) AS head ORDER BY head.seq DESC LIMIT 1
"""


def _chain_head(connection: psycopg.Connection) -> tuple[int, str]:
    row = connection.execute(_HEAD_SQL, [audit_domain.GENESIS_HASH]).fetchone()
    assert row is not None  # the genesis row is always there
    return int(row[0]), str(row[1])


class Chain:
    """Appends a past order's ten audit entries: its request, its two PSP webhooks and its
    seven events, each hashed on the one before (``retail.audit.domain.EntryContent``).

    Fast: an entry's canonical text is the domain's, made with a placeholder for ``data``
    whose canonical JSON (made once, also the stored value) then takes its place; the first
    entry's hash is checked against ``EntryContent.hash_after``.
    """

    def __init__(self, seq: int, head: str) -> None:
        self.seq, self.head, self.checked = seq, head, False

    def rows(self, order: PastOrder, events: list[Event]) -> list[Row]:
        return [self._append(entry) for entry in _order_entries(order, events)]

    def _append(self, entry: dict[str, Any]) -> Row:
        self.seq += 1
        retain_until = audit_domain.retain_until(entry["at"])
        data = audit_domain.canonical_json(entry["data"])
        content = audit_domain.EntryContent(
            seq=self.seq, retain_until=retain_until, **{**entry, "data": _DATA}
        )
        canonical = content.canonical().replace(_DATA_JSON, data, 1)
        prev, self.head = self.head, hashlib.sha256((self.head + canonical).encode()).hexdigest()
        if not self.checked:
            real = replace(content, data=entry["data"])
            assert real.hash_after(prev) == self.head, "audit hash differs from the domain's"
            self.checked = True
        return (
            content.seq, content.at, content.kind, content.action, content.actor,
            content.channel, content.idempotency_key, content.request_id, content.order_id,
            data, prev, self.head, retain_until,
        )  # fmt: skip


_DATA = "\x00bench.grow: data\x00"
_DATA_JSON = audit_domain.canonical_json(_DATA)


def _order_entries(order: PastOrder, events: list[Event]) -> list[dict[str, Any]]:
    """Entries in the order they are appended: each event when the relay delivered it."""
    placed, requested, authorized, captured, *settled = (_event_entry(e) for e in events)
    checkout = {
        "at": order.at("request_logged"), "kind": audit_domain.Kind.REQUEST,
        "action": "POST /api/v1/orders/", "actor": CHANNEL_ACTOR, "channel": CHANNEL,
        "idempotency_key": order.idempotency_key, "request_id": order.request_ids[0],
        "order_id": order.id,
        "data": {"ip": order.customer.client_ip, "path": "/api/v1/orders/",
                 "route": "api/v1/orders/", "method": "POST", "status": 201,
                 "replayed": False, "duration_ms": 41.0},
    }  # fmt: skip
    return [
        checkout, placed, requested,
        _webhook_entry(order, "authorized"), authorized,
        _webhook_entry(order, "captured"), captured,
        *settled,
    ]  # fmt: skip


def _webhook_entry(order: PastOrder, status: str) -> dict[str, Any]:
    request_id = order.request_ids[1 if status == "authorized" else 2]
    return {
        "at": order.at(f"{status}_logged"), "kind": audit_domain.Kind.WEBHOOK,
        "action": "POST /webhooks/psp/", "actor": PSP_WEBHOOK_ACTOR, "channel": "",
        "idempotency_key": psp_webhook_id(order, status), "request_id": request_id,
        "order_id": order.id,
        "data": {"ip": PSP_WEBHOOK_IP, "path": "/webhooks/psp/", "type": f"payment.{status}",
                 "route": "webhooks/psp/", "method": "POST", "status": 200,
                 "replayed": False, "duration_ms": 12.0},
    }  # fmt: skip


def psp_webhook_id(order: PastOrder, status: str) -> str:
    """The sandbox PSP's ``webhook-id`` of the payment's ``payment.<status>`` callback."""
    return f"msg_{order.psp_reference}_payment_{status}"


def _event_entry(event: Event) -> dict[str, Any]:
    """What ``retail.audit.handlers`` appends for a delivered event."""
    channel = event.payload.get("channel", "")
    return {
        "at": event.delivered_at,
        "kind": audit_domain.event_kind(event.event_type, event.aggregate_type),
        "action": event.event_type,
        "actor": f"channel:{channel}" if channel else audit_domain.SYSTEM_ACTOR,
        "channel": channel,
        "idempotency_key": event.event_id,
        "request_id": event.request_id,
        "order_id": audit_domain.event_order_id(
            event.aggregate_type, event.aggregate_id, event.payload
        ),
        "data": {
            "event_type": event.event_type,
            "version": event.version,
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "occurred_at": audit_domain.timestamp_text(event.occurred_at),
            "payload": _redacted(event.payload),
        },
    }


EVENT_TYPES = tuple(
    kind.event_type
    for kind in (
        OrderPlaced, PaymentRequested, PaymentAuthorized, PaymentCaptured, OrderPaid,
        JournalEntryPosted,
    )
)  # fmt: skip


def _redacted(value: Any) -> Any:
    """``retail.audit.domain.redact``, asking its rule once per key rather than per value."""
    if isinstance(value, dict):
        return {
            key: audit_domain.REDACTED if _hidden(key) else _redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


@functools.cache
def _hidden(key: str) -> bool:
    return audit_domain.redact({key: 0}) != {key: 0}


STREAMS: tuple[Callable[[psycopg.Connection], Stream], ...] = (
    customers_customer,
    platform_outbox,
    audit_entry,
)
