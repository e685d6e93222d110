"""Ledger test helpers: payments events, delivery through the outbox, payments' truth, staff."""

import uuid
from collections import defaultdict

from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from retail.channels import public as channels
from retail.ledger import selectors
from retail.payments.events import PartnerOrderSettled, PaymentCaptured, RefundSucceeded
from retail.platform import outbox, relay
from retail.platform.events import DomainEvent
from retail.platform.inbox import EventContext


def captured(
    payment: str = "pay_1", order: str = "ord_1", channel: str = "web", amount: int = 10_000
) -> PaymentCaptured:
    return PaymentCaptured(
        aggregate_id=payment, order_id=order, channel=channel, amount=amount, psp_reference="psp1"
    )


def refunded(
    refund: str = "ref_1",
    payment: str = "pay_1",
    order: str = "ord_1",
    channel: str = "web",
    amount: int = 2_500,
) -> RefundSucceeded:
    return RefundSucceeded(
        aggregate_id=payment, refund_id=refund, order_id=order, channel=channel, amount=amount
    )


def settled(
    order: str = "ord_p1", partner: str = "acme", amount: int = 7_000
) -> PartnerOrderSettled:
    return PartnerOrderSettled(
        aggregate_id=order, partner=partner, external_order_id=f"ext-{order}", amount=amount
    )


def context(event_id: uuid.UUID | None = None) -> EventContext:
    return EventContext(
        event_id=event_id or uuid.uuid4(), occurred_at=timezone.now(), attempt=1, request_id=""
    )


def emit(*events: DomainEvent) -> None:
    with transaction.atomic():
        for event in events:
            outbox.emit(event)


def deliver(*events: DomainEvent) -> None:
    """The real path: the outbox, then the relay applying them in-process."""
    emit(*events)
    relay.relay_drain()


def balances() -> dict[str, int]:
    """Non-zero balances per account code, on the account's normal side."""
    return {line.code: line.balance for line in selectors.trial_balance() if line.balance}


def check_deferred_constraints() -> None:
    """Fire the commit-time checks now (tests run inside a transaction that never commits)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def money_movements_of(events: list[DomainEvent], *, with_partner: bool = True) -> dict:
    """What ``retail.payments.public.money_movements()`` says for these distinct facts."""
    movements: dict[str, dict] = defaultdict(
        lambda: {"captured": 0, "refunded": 0, "partner_settled": 0}
    )
    for event in events:
        if isinstance(event, PaymentCaptured):
            movements[event.order_id]["captured"] += event.amount
        elif isinstance(event, RefundSucceeded):
            movements[event.order_id]["refunded"] += event.amount
        elif isinstance(event, PartnerOrderSettled):
            movements[event.aggregate_id]["partner_settled"] += event.amount
            if with_partner:
                movements[event.aggregate_id]["partner"] = event.partner
    return dict(movements)


def staff_client(role: str) -> APIClient:
    user = User.objects.create_user(username=f"staff-{role}-{uuid.uuid4().hex[:6]}", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {channels.staff_token_issue(user_id=user.pk)}")
    return client
