"""The past orders ``bench.grow`` loads: who bought what, when, and every id their trail needs.

Each past order is a paid web order made the way the checkout bench makes them (a card paid
through the PSP, captured, posted to the ledger, a shipment created), at a time spread over the
last ``DAYS`` days. Most are a new customer's first order; some come from a returning customer,
and optionally one "hot" customer (one CPF) has many. Everything is drawn from one seeded
``random.Random``, so a plan is the same for the same arguments (ids, CPFs and keys included).

``MOMENTS_MS`` is one order's life as the running system lives it (request, relay deliveries,
PSP callbacks), in milliseconds after the order was placed: every table loader dates its rows
from it, so the rows of one order tell one consistent story.
"""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from retail.orders import domain as orders_domain
from sandbox.marketplace import cpf_check_digit

DAYS = 180
RETURNING_SHARE = 0.1  # orders placed by an earlier customer (the rest: a new customer each)
MIN_GAP = timedelta(seconds=2)  # > one order's life: the audit chain's times never go back
CHANNEL = "web"
CHANNEL_ACTOR = f"channel:{CHANNEL}"
PAYMENT_METHOD = "card"
CURRENCY = "BRL"
SHIPPING_ADDRESS = {
    "street": "Rua A", "number": "1", "city": "São Paulo", "state": "SP",
    "postal_code": "01000-000",
}  # fmt: skip
MOMENTS_MS = {
    "placed": 0,  # customer upserted, order, lines and reservation written
    "reserved": 12,  # stock moves of the reservation
    "event_placed": 20,  # OrderPlaced written to the outbox
    "idempotency_stored": 35,
    "request_logged": 80,  # the request's audit entry
    "placed_delivered": 200,  # relay: payment created, order's compliance record
    "payment_requested": 210,
    "requested_delivered": 350,
    "submitted": 500,  # the PSP accepted the payment
    "authorized": 1000,  # PSP webhook: payment authorized
    "authorized_logged": 1030,
    "authorized_delivered": 1100,
    "captured": 1300,  # PSP webhook: payment captured
    "captured_logged": 1330,
    "captured_delivered": 1400,  # ledger, payment's compliance record, order paid, stock committed
    "sale_posted": 1405,
    "clearing_posted": 1407,
    "paid": 1410,
    "paid_delivered": 1600,  # shipment created
}
_TO_CROCKFORD = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    "0123456789ABCDEFGHJKMNPQRSTVWXYZ",  # retail.platform.ids
)


@dataclass(frozen=True)
class Sku:
    code: str
    name: str
    price: int  # centavos, the web channel's price


@dataclass(frozen=True)
class Reserved:
    """Values the database hands out from its sequences, taken before the rows are written."""

    order_numbers: list[int]
    outbox_seqs: list[int]
    journal_entry_ids: list[int]


@dataclass
class Customer:
    id: str
    name: str
    email: str
    cpf: str  # 11 digits
    client_ip: str
    token: str  # the PSP token of the customer's card
    created_at: datetime
    updated_at: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.updated_at = self.created_at


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class PastOrder:
    n: int
    id: str
    number: str
    placed_at: datetime
    customer: Customer
    customer_new: bool
    lines: tuple[Line, ...]
    payment_id: str
    psp_reference: str
    shipment_id: str
    order_record_id: str  # compliance operation records
    payment_record_id: str
    request_ids: tuple[str, str, str]  # checkout, authorized webhook, captured webhook
    idempotency_key: str
    event_ids: tuple[str, ...]  # the 7 events' ids, in bench.grow_streams' order
    outbox_seqs: tuple[int, ...]
    journal_entry_ids: tuple[int, int]  # sale, clearing

    @property
    def total(self) -> int:
        return sum(line.quantity * line.unit_price for line in self.lines)

    @property
    def retain_until(self) -> date:
        return orders_domain.retain_until(self.placed_at.date())

    def at(self, moment: str) -> datetime:
        return self.placed_at + timedelta(milliseconds=MOMENTS_MS[moment])


EVENTS_PER_ORDER = 7


@dataclass(frozen=True)
class Plan:
    orders: list[PastOrder]
    hot: Customer | None  # the customer with ``hot_customer_orders`` of them


def order_plan(
    orders: int, hot_customer_orders: int, skus: list[Sku], reserved: Reserved, now: datetime
) -> Plan:
    """``orders`` past orders in time order, ``hot_customer_orders`` of them by one customer."""
    rng = random.Random(f"bench.grow {orders} {hot_customer_orders}")  # noqa: S311 - load shape
    cpfs = _cpfs(rng)
    moments = _moments(rng, orders, now)
    hot_orders = sorted(rng.sample(range(orders), hot_customer_orders))
    hot = _customer(rng, next(cpfs), moments[hot_orders[0]]) if hot_orders else None
    hot_set, returning = set(hot_orders), list[Customer]()
    plan = []
    for n, placed_at in enumerate(moments):
        if hot is not None and n in hot_set:
            customer, new = hot, n == hot_orders[0]
        elif returning and rng.random() < RETURNING_SHARE:
            customer, new = rng.choice(returning), False
        else:
            customer, new = _customer(rng, next(cpfs), placed_at), True
            returning.append(customer)
        customer.updated_at = placed_at
        plan.append(_order(rng, n, placed_at, customer, new, skus, reserved))
    return Plan(plan, hot)


def _moments(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """Uniform over the last ``DAYS`` days, at least ``MIN_GAP`` apart, the last before now."""
    span = timedelta(days=DAYS) - count * MIN_GAP
    start = now - timedelta(days=DAYS)
    offsets = sorted(rng.random() for _ in range(count))
    return [start + span * offset + n * MIN_GAP for n, offset in enumerate(offsets)]


def _cpfs(rng: random.Random) -> Iterator[str]:
    """Valid CPFs, all different: consecutive 9-digit bases from a random start."""
    base = rng.randrange(100_000_000, 800_000_000)
    while True:
        digits = [int(char) for char in str(base)]
        digits.append(cpf_check_digit(digits))
        digits.append(cpf_check_digit(digits))
        base += 1
        yield "".join(map(str, digits))


def _customer(rng: random.Random, cpf: str, created_at: datetime) -> Customer:
    number = cpf[:9]
    return Customer(
        id=_ulid("cus", created_at, rng),
        name=f"Cliente {number}",
        email=f"cliente.{number}@example.com",
        cpf=cpf,
        client_ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        token=f"tok_{rng.getrandbits(96):024x}",
        created_at=created_at,
    )


def _order(
    rng: random.Random,
    n: int,
    placed_at: datetime,
    customer: Customer,
    customer_new: bool,
    skus: list[Sku],
    reserved: Reserved,
) -> PastOrder:
    chosen = rng.sample(skus, rng.choice((1, 2, 3, 3, 4)))
    lines = tuple(Line(sku.code, rng.choice((1, 1, 1, 2, 3)), sku.price) for sku in chosen)
    events = EVENTS_PER_ORDER
    entries = reserved.journal_entry_ids
    return PastOrder(
        n=n,
        id=_ulid("ord", placed_at, rng),
        number=orders_domain.order_number(placed_at.year, reserved.order_numbers[n]),
        placed_at=placed_at,
        customer=customer,
        customer_new=customer_new,
        lines=lines,
        payment_id=_ulid("pay", placed_at + timedelta(milliseconds=200), rng),
        psp_reference=f"psp_{rng.getrandbits(96):024x}",
        shipment_id=_ulid("shp", placed_at + timedelta(milliseconds=1600), rng),
        order_record_id=_ulid("opr", placed_at + timedelta(milliseconds=200), rng),
        payment_record_id=_ulid("opr", placed_at + timedelta(milliseconds=1400), rng),
        request_ids=(_hex(rng), _hex(rng), _hex(rng)),
        idempotency_key=_hex(rng),
        event_ids=tuple(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(events)),
        outbox_seqs=tuple(reserved.outbox_seqs[n * events : (n + 1) * events]),
        journal_entry_ids=(entries[2 * n], entries[2 * n + 1]),
    )


def _hex(rng: random.Random) -> str:
    """A uuid4().hex look-alike (request ids, idempotency keys)."""
    return f"{rng.getrandbits(128):032x}"


def _ulid(prefix: str, moment: datetime, rng: random.Random) -> str:
    """``retail.platform.ids.new_id`` made at ``moment`` (its ids sort by creation time): the
    130 bits, shifted to fill 17 bytes, in base32 with the RFC alphabet swapped for Crockford's."""
    value = (int(moment.timestamp() * 1000) << 80) | rng.getrandbits(80)
    body = base64.b32encode((value << 6).to_bytes(17, "big"))[:26].decode()
    return f"{prefix}_{body.translate(_TO_CROCKFORD)}"
