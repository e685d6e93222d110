"""Drive the compliance consumers with real events, as the relay would, and make staff tokens."""

import functools
import importlib
import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import TestCase
from django.utils import timezone

from retail.channels import public as channels
from retail.compliance.models import Rule
from retail.customers import public as customers
from retail.orders.events import OrderPlaced
from retail.payments.events import PaymentCaptured, PaymentFailed, RefundSucceeded
from retail.platform.events import DomainEvent
from retail.platform.inbox import EventContext, consumers_of

_numbers = itertools.count(1)


def valid_cpf(seed: int) -> str:
    body = f"{seed:09d}"[-9:]
    digits = [int(c) for c in body]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=True))
        digits.append((total * 10 % 11) % 10)
    return "".join(map(str, digits))


def deliver(event: DomainEvent, *, at: datetime, event_id: uuid.UUID | None = None) -> uuid.UUID:
    """Apply ``event`` to every compliance consumer registered for it, then commit (as the relay
    does: the rules run on what it recorded once its transaction commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True):  # the rules run after the commit
        return handle(event, at=at, event_id=event_id)


def handle(event: DomainEvent, *, at: datetime, event_id: uuid.UUID | None = None) -> uuid.UUID:
    """Only the compliance consumers' part in the relay's transaction (nothing after commit)."""
    event_id = event_id or uuid.uuid4()
    compliance = [c for c in consumers_of(event.event_type) if c.name.startswith("compliance.")]
    assert compliance, f"no compliance consumer of {event.event_type}"
    for consumer in compliance:
        consumer.handler(event, EventContext(event_id, at, 1, ""))
    return event_id


class Shop:
    """Orders and payments of customers, as events at chosen times."""

    def customer(self, name: str = "Maria Silva", email: str | None = None) -> str:
        n = next(_numbers)
        email = email or f"customer{n}@example.com"
        return customers.customer_upsert(name=name, email=email, cpf=valid_cpf(n * 7919)).id

    def order(self, customer_id: str, amount: int, at: datetime, **options: str) -> str:
        event = self.order_event(customer_id, amount, **options)
        deliver(event, at=at)
        return event.order_id

    def order_event(
        self,
        customer_id: str,
        amount: int,
        *,
        method: str = "card",
        token: str = "tok_ok",  # noqa: S107 - the sandbox PSP token
        channel: str = "web",
        ip: str = "",
    ) -> OrderPlaced:
        order_id = f"ord_T{next(_numbers):06d}"
        customer = customers.customer_get(customer_id)
        assert customer is not None
        return OrderPlaced(
            aggregate_id=order_id,
            order_id=order_id,
            number=order_id[-6:],
            channel=channel,
            customer_id=customer_id,
            total=amount,
            payment_method=method,
            payment_token=token,
            lines=[],
            customer_name=customer.name,
            customer_email=customer.email,
            client_ip=ip,
        )

    def captured(self, order_id: str, amount: int, at: datetime, channel: str = "web") -> None:
        deliver(self.capture_event(order_id, amount, channel), at=at)

    def capture_event(self, order_id: str, amount: int, channel: str = "web") -> PaymentCaptured:
        return PaymentCaptured(
            aggregate_id=f"pay_{order_id[4:]}",
            order_id=order_id,
            channel=channel,
            amount=amount,
            psp_reference=f"psp_{order_id[4:]}",
        )

    def failed(self, order_id: str, amount: int, at: datetime) -> None:
        deliver(
            PaymentFailed(
                aggregate_id=f"pay_{order_id[4:]}",
                order_id=order_id,
                channel="web",
                amount=amount,
                reason="declined",
            ),
            at=at,
        )

    def refunded(self, order_id: str, amount: int, at: datetime) -> None:
        deliver(
            RefundSucceeded(
                aggregate_id=f"pay_{order_id[4:]}",
                refund_id=f"ref_{order_id[4:]}",
                order_id=order_id,
                channel="web",
                amount=amount,
                psp_reference=f"psp_r_{order_id[4:]}",
            ),
            at=at,
        )

    def paid(self, customer_id: str, amount: int, at: datetime, **order_options: str) -> str:
        order_id = self.order(customer_id, amount, at, **order_options)
        self.captured(order_id, amount, at + timedelta(seconds=5))
        return order_id


@pytest.fixture(autouse=True)
def _default_rules(request: pytest.FixtureRequest) -> None:
    """The rules a migration seeds: a transactional test that ran earlier on this pytest worker
    flushed every table, so put them back (idempotently) for tests that use the database."""
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("db")
        if not Rule.objects.exists():
            _seeding_migration().create_rules(_apps_at_seeding(), None)


def _seeding_migration() -> Any:
    return importlib.import_module("retail.compliance.migrations.0003_default_rules")


@functools.cache
def _apps_at_seeding() -> Any:
    """The models as the seeding migration saw them (no history rows, as after ``migrate``)."""
    loader = MigrationLoader(connection)
    return loader.project_state(("compliance", "0003_default_rules")).apps


@pytest.fixture
def shop(db) -> Shop:
    return Shop()


@pytest.fixture
def now() -> datetime:
    return timezone.now().replace(microsecond=0)


def structuring(shop: Shop, now: datetime, count: int = 3) -> str:
    """A customer paying R$ 9,800 ``count`` times within a day; returns the customer id."""
    customer_id = shop.customer()
    for i in range(count):
        shop.paid(customer_id, 980_000, now - timedelta(hours=6 * (count - i)))
    return customer_id


def staff_token(role: str) -> str:
    user, _ = User.objects.get_or_create(username=f"staff-{role}", defaults={"is_staff": True})
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return channels.staff_token_issue(user_id=user.pk)


@pytest.fixture
def bearer(db):
    def headers(role: str) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {staff_token(role)}"}

    return headers
