"""The tables ``bench.grow`` has the database fill with ``INSERT … SELECT`` from the staged orders.

``STAGE`` holds one row per past order (``stage_row``); each function below describes one
table as a ``Derived``: for each kind of row an order leaves in it (a history table gets one
row per change), a mapping of column → SQL expression over the stage (alias ``o``). A table
whose rows come from the loaded outbox (receipts, lane deliveries) selects from it instead.
To load one more table, write one more function and add it to a group of ``DERIVED`` or
to ``FROM_OUTBOX``; a column the table no longer has is left out, and a table that needs a
column no function knows is skipped (``bench.grow``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from psycopg import sql

from bench.grow_plan import (
    CHANNEL,
    CHANNEL_ACTOR,
    CURRENCY,
    MOMENTS_MS,
    PAYMENT_METHOD,
    SHIPPING_ADDRESS,
    PastOrder,
)
from bench.grow_streams import PSP_WEBHOOK_ACTOR
from retail.audit.domain import SYSTEM_ACTOR
from retail.compliance import domain as compliance_domain
from retail.customers import domain as customers_domain
from retail.ledger import domain as ledger_domain
from retail.orders.domain import Status
from retail.payments.domain import PaymentStatus

STAGE = "bench_grow_order"
RESERVATION_TTL = timedelta(minutes=15)  # retail.orders.services.PAYMENT_TIMEOUT
STAGE_COLUMNS = {
    "n": "integer", "order_id": "text", "number": "text", "placed_at": "timestamptz",
    "retain_until": "date", "customer_id": "text", "customer_new": "boolean",
    "customer_name": "text", "customer_email": "text", "cpf_masked": "text",
    "customer_created_at": "timestamptz", "client_ip": "text", "token": "text",
    "instrument": "text", "skus": "text[]", "quantities": "integer[]", "prices": "bigint[]",
    "total": "bigint", "payment_id": "text", "psp_reference": "text", "shipment_id": "text",
    "order_record_id": "text", "payment_record_id": "text", "checkout_request_id": "text",
    "authorized_request_id": "text", "captured_request_id": "text",
    "idempotency_key": "text", "placed_event": "uuid", "captured_event": "uuid",
    "entry_ids": "bigint[]",
}  # fmt: skip


def stage_row(order: PastOrder) -> tuple[Any, ...]:
    """``STAGE_COLUMNS``' values for one order."""
    customer = order.customer
    return (
        order.n, order.id, order.number, order.placed_at, order.retain_until, customer.id,
        order.customer_new, customer.name, customer.email,
        customers_domain.cpf_mask(customer.cpf), customer.created_at, customer.client_ip,
        customer.token, instrument_fingerprint(PAYMENT_METHOD, customer.token),
        [line.sku for line in order.lines], [line.quantity for line in order.lines],
        [line.unit_price for line in order.lines], order.total, order.payment_id,
        order.psp_reference, order.shipment_id, order.order_record_id, order.payment_record_id,
        *order.request_ids, order.idempotency_key, order.event_ids[0], order.event_ids[3],
        list(order.journal_entry_ids),
    )  # fmt: skip


def instrument_fingerprint(method: str, token: str) -> str:
    """``retail.compliance.services.instrument_fingerprint`` (a models module: not imported)."""
    return hashlib.sha256(f"{method}:{token}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Context:
    """What some tables need besides the stage: settings, the consumer registry, and the
    outbox rows this load wrote."""

    beneficiary_name: str
    beneficiary_document: str
    psp_name: str
    idempotency_ttl: timedelta
    consumers: list[tuple[str, str]]  # (event type, consumer)
    side_lanes: list[tuple[str, str]]  # (event type, lane other than core)
    outbox_seqs: tuple[int, int]  # first and last seq of the loaded events


@dataclass(frozen=True)
class Derived:
    table: str
    variants: tuple[dict[str, str], ...]  # one per kind of row: column → SQL expression
    source: str = f"FROM {STAGE} o"
    suffix: str = ""  # after the SELECTs: ORDER BY (big random-keyed indexes fill faster in
    # key order), ON CONFLICT


def at(moment: str) -> str:
    """The SQL time of ``moment`` of the staged order's life (``bench.grow_plan``)."""
    return f"(o.placed_at + interval '{MOMENTS_MS[moment]} milliseconds')"


def q(value: object) -> str:
    """A Python value as an SQL literal."""
    return sql.Literal(value).as_string()


def _history(type_: str, moment: str, actor: str, request: str, reason: str | None) -> dict:
    """simple_history's columns (``RetainedHistory`` included) of a change at ``moment``."""
    return {
        "history_type": q(type_), "history_date": at(moment), "history_user_id": "NULL",
        "history_change_reason": q(reason), "history_actor": q(actor),
        "history_request_id": request, "retain_until": "o.retain_until",
    }  # fmt: skip


def _by_channel(moment: str, reason: str | None = None, type_: str = "~") -> dict[str, str]:
    return _history(type_, moment, CHANNEL_ACTOR, "o.checkout_request_id", reason)


def _by_system(moment: str, reason: str | None = None, request: str = "''") -> dict[str, str]:
    return _history("~", moment, SYSTEM_ACTOR, request, reason)


_ORDERS_LINES = (
    "CROSS JOIN LATERAL unnest(o.skus, o.quantities, o.prices) AS l(sku, quantity, unit_price)"
)


def ledger_account(context: Context) -> Derived:
    """The accounts the capture posts to (the channel's receivable is made on first use)."""
    drafts = ledger_domain.capture_entries(channel=CHANNEL, amount=1, currency=CURRENCY)
    specs = {leg.account for draft in drafts for leg in draft.legs}
    values = ", ".join(
        f"({q(spec.code)}, {q(spec.name)}, {q(spec.kind.value)}, {q(spec.normal_side.value)})"
        for spec in sorted(specs, key=lambda spec: spec.code)
    )
    return Derived(
        "ledger_account",
        ({"code": "a.code", "name": "a.name", "kind": "a.kind", "normal_side": "a.normal_side",
          "currency": q(CURRENCY), "created_at": "now()"},),
        source=f"FROM (VALUES {values}) AS a(code, name, kind, normal_side)",
        suffix="ON CONFLICT (code) DO NOTHING",
    )  # fmt: skip


def orders_order(context: Context) -> Derived:
    payments = (
        "jsonb_build_array(jsonb_build_object('id', o.payment_id, 'amount', o.total,"
        f" 'status', {q(PaymentStatus.CAPTURED.value)}, 'psp_reference', o.psp_reference))"
    )
    return Derived("orders_order", ({
        **_order_columns(Status.PAID, "payment_captured", "paid"),
        "payments": payments, "refunds": "'[]'::jsonb",
    },))  # fmt: skip


def _order_columns(status: Status, reason: str, updated: str) -> dict[str, str]:
    return {
        "id": "o.order_id", "number": "o.number", "channel_code": q(CHANNEL),
        "external_order_id": "''", "customer_id": "o.customer_id", "status": q(status.value),
        "status_reason": q(reason), "shipped_at": "NULL", "currency": q(CURRENCY),
        "total": "o.total", "payment_method": q(PAYMENT_METHOD),
        "shipping_address": f"{q(json.dumps(SHIPPING_ADDRESS))}::jsonb",
        "created_at": "o.placed_at", "updated_at": at(updated), "retain_until": "o.retain_until",
    }  # fmt: skip


def orders_orderline(context: Context) -> Derived:
    return Derived(
        "orders_orderline",
        ({"order_id": "o.order_id", "sku": "l.sku", "name": "s.name", "quantity": "l.quantity",
          "unit_price": "l.unit_price", "total": "l.quantity * l.unit_price"},),
        source=f"FROM {STAGE} o {_ORDERS_LINES} JOIN catalog_sku s ON s.code = l.sku",
    )  # fmt: skip


def orders_historicalorder(context: Context) -> Derived:
    placed = {**_order_columns(Status.PENDING_PAYMENT, "", "placed"), **_by_channel("reserved")}
    paid = _order_columns(Status.PAID, "payment_captured", "paid")
    return Derived("orders_historicalorder", (
        {**placed, "history_type": q("+")},
        {**paid, **_by_system("paid", reason="payment_captured")},
    ))  # fmt: skip


def customers_historicalcustomer(context: Context) -> Derived:
    """A ``+`` row for a new customer, a ``~`` row for a returning one (the upsert)."""
    return Derived("customers_historicalcustomer", ({
        "id": "o.customer_id", "name": "o.customer_name", "email": "o.customer_email",
        "cpf_masked": "o.cpf_masked", "created_at": "o.customer_created_at",
        "updated_at": "o.placed_at", **_by_channel("placed"),
        "history_type": "CASE WHEN o.customer_new THEN '+' ELSE '~' END",
    },))  # fmt: skip


def _payment_columns(status: PaymentStatus, submitted: bool, updated: str) -> dict[str, str]:
    return {
        "id": "o.payment_id", "order_id": "o.order_id", "channel": q(CHANNEL),
        "amount": "o.total", "currency": q(CURRENCY), "method": q(PAYMENT_METHOD),
        "status": q(status.value), "psp_reference": "o.psp_reference" if submitted else "''",
        "failure_reason": "''", "refund_when_captured": "false",
        "submitted_at": at("submitted") if submitted else "NULL",
        "created_at": at("placed_delivered"), "updated_at": at(updated),
    }  # fmt: skip


def payments_payment(context: Context) -> Derived:
    captured = _payment_columns(PaymentStatus.CAPTURED, True, "captured")
    return Derived("payments_payment", ({**captured, "token": "o.token"},))


def payments_historicalpayment(context: Context) -> Derived:
    requested, authorized = PaymentStatus.REQUESTED, PaymentStatus.AUTHORIZED
    return Derived("payments_historicalpayment", (
        {**_payment_columns(requested, False, "placed_delivered"),
         **_by_system("placed_delivered"), "history_type": q("+")},
        {**_payment_columns(requested, True, "submitted"), **_by_system("submitted")},
        {**_payment_columns(authorized, True, "authorized"),
         **_by_system("authorized", "PSP reported authorized", "o.authorized_request_id")},
        {**_payment_columns(PaymentStatus.CAPTURED, True, "captured"),
         **_by_system("captured", "PSP reported captured", "o.captured_request_id")},
    ))  # fmt: skip


def _reservation_columns(committed: bool) -> dict[str, str]:
    return {
        "reference": "o.order_id", "status": q("committed" if committed else "active"),
        "expires_at": f"o.placed_at + {q(RESERVATION_TTL)}", "created_at": at("reserved"),
        "closed_at": at("captured_delivered") if committed else "NULL",
    }  # fmt: skip


def inventory_reservation(context: Context) -> Derived:
    return Derived("inventory_reservation", (_reservation_columns(committed=True),))


def inventory_historicalreservation(context: Context) -> Derived:
    return Derived(
        "inventory_historicalreservation",
        ({"id": "r.id", **_reservation_columns(False), **_by_channel("reserved", type_="+")},
         {"id": "r.id", **_reservation_columns(True), **_by_system("captured_delivered")}),
        source=f"FROM {STAGE} o JOIN inventory_reservation r ON r.reference = o.order_id",
    )  # fmt: skip


def inventory_reservationline(context: Context) -> Derived:
    return Derived(
        "inventory_reservationline",
        ({"reservation_id": "r.id", "sku": "l.sku", "quantity": "l.quantity"},),
        source=f"FROM {STAGE} o JOIN inventory_reservation r ON r.reference = o.order_id"
        f" {_ORDERS_LINES}",
    )


def inventory_stockmove(context: Context) -> Derived:
    """Each line reserved at checkout, then committed when the payment was captured."""
    move = {"sku": "l.sku", "reference": "o.order_id"}
    return Derived(
        "inventory_stockmove",
        ({**move, "delta_on_hand": "0", "delta_reserved": "l.quantity", "reason": q("reserve"),
          "created_at": at("reserved")},
         {**move, "delta_on_hand": "-l.quantity", "delta_reserved": "-l.quantity",
          "reason": q("commit"), "created_at": at("captured_delivered")}),
        source=f"FROM {STAGE} o {_ORDERS_LINES}",
    )  # fmt: skip


def inventory_historicalstockitem(context: Context) -> Derived:
    """The stock item's history at each move; its counters are today's (stock is not
    replayed: the past orders leave the bench's stock as ``seed_demo`` made it)."""
    item = {"id": "s.id", "sku": "s.sku", "on_hand": "s.on_hand", "reserved": "s.reserved"}
    return Derived(
        "inventory_historicalstockitem",
        ({**item, "updated_at": at("reserved"), **_by_channel("reserved"),
          "history_change_reason": "'reserve ' || o.order_id"},
         {**item, "updated_at": at("captured_delivered"), **_by_system("captured_delivered"),
          "history_change_reason": "'commit ' || o.order_id"}),
        source=f"FROM {STAGE} o {_ORDERS_LINES} JOIN inventory_stockitem s ON s.sku = l.sku",
    )  # fmt: skip


def _shipment_columns() -> dict[str, str]:
    return {
        "id": "o.shipment_id", "order_id": "o.order_id", "status": q("pending"),
        "carrier": "''", "tracking_code": "''", "created_at": at("paid_delivered"),
        "shipped_at": "NULL", "delivered_at": "NULL",
    }  # fmt: skip


def fulfillment_shipment(context: Context) -> Derived:
    address = f"{q(json.dumps(SHIPPING_ADDRESS))}::jsonb"
    return Derived("fulfillment_shipment", ({**_shipment_columns(), "shipping_address": address},))


def fulfillment_historicalshipment(context: Context) -> Derived:
    history = _by_system("paid_delivered")
    return Derived(
        "fulfillment_historicalshipment",
        ({**_shipment_columns(), **history, "history_type": q("+")},),
    )


def compliance_operation_record(context: Context) -> Derived:
    """The order's record and its payment's, the holder copied from the order's record
    (``retail.compliance.services``)."""
    Kind, Direction = compliance_domain.Kind, compliance_domain.Direction
    record = {
        "outcome": q(compliance_domain.Outcome.COMPLETED.value), "outcome_reason": "''",
        "amount": "o.total", "currency": q(CURRENCY), "channel": q(CHANNEL),
        "order_id": "o.order_id", "refund_id": "''", "customer_id": "o.customer_id",
        "holder_name": "o.customer_name", "email": "lower(o.customer_email)",
        "client_ip": "o.client_ip", "payment_method": q(PAYMENT_METHOD),
        "beneficiary_name": q(context.beneficiary_name),
        "beneficiary_document": q(context.beneficiary_document),
        "settlement_reference": "''", "retain_until": "o.retain_until",
    }  # fmt: skip
    order = {
        **record, "id": "o.order_record_id", "source_event_id": "o.placed_event",
        "source_event_type": q("OrderPlaced"), "kind": q(Kind.ORDER.value),
        "direction": q(Direction.NONE.value), "occurred_at": at("event_placed"),
        "payment_id": "''", "instrument": "o.instrument", "psp": "''", "psp_reference": "''",
        "recorded_at": at("placed_delivered"),
    }  # fmt: skip
    payment = {
        **record, "id": "o.payment_record_id", "source_event_id": "o.captured_event",
        "source_event_type": q("PaymentCaptured"), "kind": q(Kind.PAYMENT.value),
        "direction": q(Direction.CREDIT.value), "occurred_at": at("captured"),
        "payment_id": "o.payment_id", "instrument": "''", "psp": q(context.psp_name),
        "psp_reference": "o.psp_reference", "recorded_at": at("captured_delivered"),
    }  # fmt: skip
    return Derived("compliance_operation_record", (order, payment))


def ledger_journal_entry(context: Context) -> Derived:
    """The capture's two entries (sale, then the PSP's collection), ids reserved earlier."""
    drafts = ledger_domain.capture_entries(channel=CHANNEL, amount=1, currency=CURRENCY)
    return Derived("ledger_journal_entry", tuple(
        {"id": f"o.entry_ids[{number}]", "source_event_id": "o.captured_event",
         "purpose": q(draft.purpose), "source_reference": "o.payment_id",
         "event_type": q("PaymentCaptured"), "order_id": "o.order_id", "channel": q(CHANNEL),
         "memo": q(draft.memo), "occurred_at": at("captured"),
         "posted_at": at("captured_delivered"), "reverses_id": "NULL"}
        for number, draft in enumerate(drafts, start=1)
    ))  # fmt: skip


def ledger_posting(context: Context) -> Derived:
    """Two legs per entry, debit positive: every entry balances (the deferred trigger checks)."""
    drafts = ledger_domain.capture_entries(channel=CHANNEL, amount=1, currency=CURRENCY)
    account = "(SELECT id FROM ledger_account WHERE code = {})"  # filled with q(code)
    return Derived("ledger_posting", tuple(
        {"entry_id": f"o.entry_ids[{number}]",
         "account_id": account.format(q(leg.account.code)),
         "amount": f"{leg.amount} * o.total"}
        for number, draft in enumerate(drafts, start=1) for leg in draft.legs
    ))  # fmt: skip


def platform_webhook_receipt(context: Context) -> Derived:
    """The PSP's two callbacks (``bench.grow_streams.psp_webhook_id``)."""
    return Derived("platform_webhook_receipt", tuple(
        {"source": q(PSP_WEBHOOK_ACTOR.removeprefix("webhook:")),
         "webhook_id": f"'msg_' || o.psp_reference || '_payment_{status}'",
         "received_at": at(status)}
        for status in ("authorized", "captured")
    ))  # fmt: skip


def platform_idempotency_key(context: Context) -> Derived:
    """The checkout's stored answer, for the orders whose key has not expired yet (the hourly
    ``idempotency_keys_expire`` removes the others: a real database has only the last day's)."""
    body = (
        "convert_to(jsonb_build_object('id', o.order_id, 'number', o.number, 'status',"
        f" {q(Status.PENDING_PAYMENT.value)}, 'channel', {q(CHANNEL)}, 'total', o.total,"
        f" 'currency', {q(CURRENCY)})::text, 'UTF8')"
    )
    ttl = q(context.idempotency_ttl)
    return Derived(
        "platform_idempotency_key",
        ({"scope": q(CHANNEL_ACTOR), "key": "o.idempotency_key",
          "fingerprint": "encode(sha256(convert_to(o.order_id, 'UTF8')), 'hex')",
          "response_status": "201", "response_content_type": q("application/json"),
          "response_body": body, "response_location": "'/api/v1/orders/' || o.order_id || '/'",
          "request_id": "o.checkout_request_id", "created_at": at("idempotency_stored"),
          "expires_at": f"{at('idempotency_stored')} + {ttl}"},),
        source=f"FROM {STAGE} o WHERE {at('idempotency_stored')} + {ttl} > now()",
    )  # fmt: skip


def _from_outbox(context: Context, pairs: list[tuple[str, str]], name: str) -> str:
    """The outbox rows this load wrote (``e``), each with its ``(event_type, name)`` (``c``)."""
    values = ", ".join(f"({q(event_type)}, {q(value)})" for event_type, value in pairs)
    first, last = context.outbox_seqs
    return (
        f"FROM platform_outbox e JOIN (VALUES {values}) AS c(event_type, {name})"
        f" USING (event_type) WHERE e.seq BETWEEN {first} AND {last}"
    )


def platform_inbox_receipt(context: Context) -> Derived:
    """Every consumer of each event (``retail.platform.inbox``'s registry) has applied it."""
    receipt = {"consumer": "c.consumer", "event_id": "e.event_id", "handled_at": "e.delivered_at"}
    return Derived(
        "platform_inbox_receipt",
        (receipt,) if context.consumers else (),
        source=_from_outbox(context, context.consumers, "consumer"),
        suffix="ORDER BY 1, 2",  # its unique (consumer, event_id) index's order
    )


def platform_lane_delivery(context: Context) -> Derived:
    """Each event delivered to each side lane that has a consumer of it, where lanes exist."""
    delivery = {
        "lane": "c.lane", "seq": "e.seq", "aggregate_type": "e.aggregate_type",
        "aggregate_id": "e.aggregate_id", "status": q("delivered"), "attempts": "1",
        "available_at": "e.occurred_at", "last_error": "''", "delivered_at": "e.delivered_at",
    }  # fmt: skip
    return Derived(
        "platform_lane_delivery",
        (delivery,) if context.side_lanes else (),
        source=_from_outbox(context, context.side_lanes, "lane"),
    )


Table = Callable[[Context], Derived]
# Two groups, each loaded in one transaction on its own connection, in parallel (two cores).
# In loading order: an account before its postings, an entry with its postings (the balance
# trigger judges them at commit), a reservation before its lines and history.
DERIVED: tuple[tuple[Table, ...], ...] = (
    (
        ledger_account,
        ledger_journal_entry,
        ledger_posting,
        inventory_reservation,
        inventory_historicalreservation,
        inventory_reservationline,
        inventory_stockmove,
        inventory_historicalstockitem,
    ),
    (
        orders_order,
        orders_orderline,
        orders_historicalorder,
        customers_historicalcustomer,
        payments_payment,
        payments_historicalpayment,
        fulfillment_shipment,
        fulfillment_historicalshipment,
        compliance_operation_record,
        platform_webhook_receipt,
        platform_idempotency_key,
    ),
)
FROM_OUTBOX: tuple[Table, ...] = (platform_inbox_receipt, platform_lane_delivery)
