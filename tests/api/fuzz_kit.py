"""What the fuzz tests share: a shop to fuzz against, the callers' credentials, and a count of
the requests that really reached the application."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone

from retail.catalog.tests.factories import SkuFactory
from retail.channels import public as channels
from retail.channels import services as channel_services
from retail.channels.models import Channel
from retail.channels.tests.factories import ChannelFactory
from retail.compliance import domain as compliance
from retail.compliance.models import Case
from retail.inventory.tests.factories import StockItemFactory
from retail.ledger.models import Account
from retail.payments.models import Payment
from retail.payments.tests.support import deliver_psp, psp_body
from retail.platform.relay import relay_drain

STAFF_ROLES = ("finance", "auditor", "compliance")
SKUS = {"TEE": 2500, "MUG": 1250, "CAP": 990}
VALID_CPF = "123.456.789-09"


@dataclass(frozen=True)
class Shop:
    channel_key: str
    staff_token: str
    partner: str
    partner_secret: str
    known: dict[str, list[str]]  # real ids per path parameter, so the fuzzer gets past 404

    def bearer(self, scheme: str) -> str:
        return f"Bearer {self.channel_key if scheme == 'channelKey' else self.staff_token}"


def shop_open() -> Shop:
    """SKUs with stock, a web channel, a partner with its webhook secret, a staff user with
    every role the fuzzed APIs check (so that the fuzzer gets past authorisation)."""
    for code, price in SKUS.items():
        SkuFactory(code=code, name=f"Name of {code}", base_price=price)
        StockItemFactory(sku=code, on_hand=1_000_000)
    web = ChannelFactory(code="web", kind=Channel.Kind.WEB)
    partner = ChannelFactory(code="acme", kind=Channel.Kind.MARKETPLACE)
    user = get_user_model().objects.create(username="fuzz-staff", is_staff=True)
    for role in STAFF_ROLES:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    channel_key = channel_services.api_key_issue(channel=web)
    return Shop(
        channel_key=channel_key,
        staff_token=channels.staff_token_issue(user_id=user.pk),
        partner=partner.code,
        partner_secret=channel_services.webhook_secret_ensure(partner=partner),
        known={
            "order_id": [paid_order(channel_key), paid_order(channel_key)],
            "case_id": [open_case(), open_case()],
            "code": list(Account.objects.values_list("code", flat=True)),
        },
    )


def order_body() -> dict[str, Any]:
    return {
        "customer": {"name": "Ana Souza", "email": "ana@example.com", "cpf": VALID_CPF},
        "lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}],
        "payment": {"method": "card", "token": "tok_ok"},
        "shipping_address": {
            "street": "Rua Augusta",
            "number": "1500",
            "city": "São Paulo",
            "state": "SP",
            "postal_code": "01304-001",
        },
    }


def paid_order(channel_key: str) -> str:
    """An order placed through the API whose payment the PSP captured (so it is refundable)."""
    response = Client().post(
        "/api/v1/orders/",
        order_body(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {channel_key}",
        HTTP_IDEMPOTENCY_KEY=f"fuzz-setup-{Payment.objects.count()}",
    )
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]
    relay_drain()
    payment = Payment.objects.get(order_id=order_id)
    captured = deliver_psp(psp_body("payment.captured", payment), f"msg_cap_{payment.id}")
    assert captured.status_code == 200, captured.content
    relay_drain()
    return order_id


def open_case() -> str:
    now = timezone.now()
    return Case.objects.create(
        subject="cus_fuzz",
        analysis_deadline=compliance.analysis_deadline(now),
        retain_until=compliance.retain_until(now),
    ).id


class CountingApp:
    """A WSGI application that counts the requests it answers, by status class."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.requests = 0
        self.server_errors = 0
        self.statuses: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def counting_start(status: str, headers: Any, *args: Any) -> Any:
            self.requests += 1
            self.server_errors += status.startswith("5")
            self.statuses[status[:3]] += 1
            return start_response(status, headers, *args)

        return self.app(environ, counting_start)


@contextmanager
def connection_kept() -> Iterator[None]:
    """Keep the test's transaction across requests, as Django's test client does: the WSGI
    handler would otherwise close the connection at the end of every request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
