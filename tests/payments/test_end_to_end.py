"""Payments end to end with real processes: the sandbox PSP calls back a real gunicorn, a real
Celery worker runs the relay and the PSP tasks, beat runs the sweeps (tests/payments/stack.py).

The processes serve the whole module, so its tests commit their data (no per-test transaction;
ids and keys are unique per test) and the database is flushed after the processes stop.
"""

from __future__ import annotations

import itertools
import warnings
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.db.models import Sum

from retail.catalog.tests.factories import SkuFactory
from retail.channels import services as channels
from retail.channels.models import Channel
from retail.channels.tests.factories import ChannelFactory
from retail.inventory import public as inventory
from retail.inventory.tests.factories import StockItemFactory
from retail.payments.models import PartnerOrder, Payment, Refund
from retail.platform.models import OutboxMessage, WebhookReceipt
from tests.kernel.procs import wait_for
from tests.payments.conftest import order_body
from tests.payments.stack import Stack

# Read-only transactions for the tests (the processes write); the data they need is committed by
# the module fixture, which also makes pytest-django set the test database up.
pytestmark = pytest.mark.django_db
STOCK = 100_000
PRICES = {"TEE": 2500, "MUG": 1250}
ORDER_TOTAL = 5000  # two TEEs
_keys = itertools.count()
SERVER_ERRORS: list[str] = []  # 5xx answers to order placement (retried), for the report


@dataclass
class World:
    stack: Stack
    web_key: str
    partner_secret: str

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.stack.web_url,
            headers={"Authorization": f"Bearer {self.web_key}"},
            timeout=30,
        )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    with django_db_blocker.unblock():
        web = ChannelFactory(code="web", kind=Channel.Kind.WEB)
        acme = ChannelFactory(code="acme", kind=Channel.Kind.MARKETPLACE)
        for code, price in PRICES.items():
            SkuFactory(code=code, name=code, base_price=price)
            StockItemFactory(sku=code, on_hand=STOCK)
        seeded = World(
            Stack(tmp_path_factory.mktemp("payments-e2e")),
            channels.api_key_issue(channel=web),
            channels.webhook_secret_ensure(partner=acme),
        )
    try:
        seeded.stack.start()
        yield seeded
    finally:
        seeded.stack.stop()
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def web(world: World) -> Iterator[httpx.Client]:
    """The ``web`` channel's client of the real gunicorn."""
    with world.client() as client:
        yield client


def post(client: httpx.Client, path: str, body: dict[str, Any], prefix: str) -> httpx.Response:
    """POST with a fresh Idempotency-Key; a 5xx is retried with the same key, as the contract
    tells clients to (its effect was rolled back). The 5xx are kept in ``SERVER_ERRORS``."""
    key = f"e2e-{prefix}-{next(_keys)}"
    for _ in range(5):
        response = client.post(path, json=body, headers={"Idempotency-Key": key})
        if response.status_code < 500:
            return response
        SERVER_ERRORS.append(f"{path}: {response.text}")
    return response


def place(client: httpx.Client, token: str = "tok_ok") -> dict[str, Any]:  # noqa: S107
    body = order_body(lines=(("TEE", 2),), token=token)
    response = post(client, "/api/v1/orders/", body, "order")
    assert response.status_code == 201, response.text
    return dict(response.json())


def order_when(
    world: World, client: httpx.Client, order_id: str, status: str, timeout: float = 30
) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        order = client.get(f"/api/v1/orders/{order_id}/").json()
        return order if order.get("status") == status else None

    try:
        return dict(wait_for(reached, timeout, what=f"{order_id} to be {status}"))
    except AssertionError as error:
        raise AssertionError(f"{error}\n{world.stack.logs()}") from None


def refund(client: httpx.Client, order_id: str, amount: int) -> httpx.Response:
    body = {"amount": amount, "reason": "damaged"}
    return post(client, f"/api/v1/orders/{order_id}/refunds", body, "refund")


def events(event_type: str, aggregate_id: str) -> int:
    return OutboxMessage.objects.filter(event_type=event_type, aggregate_id=aggregate_id).count()


@pytest.mark.parametrize(
    ("token", "final", "payment_status", "charge_status"),
    [
        ("tok_ok", "paid", "captured", "captured"),
        ("tok_declined", "payment_failed", "failed", "declined"),
        ("tok_flaky", "paid", "captured", "captured"),
        ("tok_slow", "paid", "captured", "captured"),
    ],
)
def test_each_sandbox_token_reaches_its_final_state_with_one_charge(
    world, web, token, final, payment_status, charge_status
):
    available_before = inventory.available(["TEE"])["TEE"]
    order = place(web, token)
    assert order["status"] == "pending_payment"
    assert inventory.available(["TEE"])["TEE"] == available_before - 2  # reserved
    shown = order_when(world, web, order["id"], final, timeout=45)
    payment = Payment.objects.get(order_id=order["id"])
    assert payment.status == payment_status
    charge = world.stack.charges()[payment.id]
    assert (charge["status"], charge["amount"], charge["order_id"]) == (
        charge_status,
        ORDER_TOTAL,
        order["id"],
    )
    if token == "tok_flaky":
        assert charge["requests"] >= 3  # two 503s, then accepted: retried with the same key
    else:
        assert charge["requests"] == 1
    assert [(p["id"], p["psp_reference"]) for p in shown["payments"]] == [
        (payment.id, charge["psp_reference"])
    ]
    captured = events("PaymentCaptured", payment.id)
    assert captured == (1 if payment_status == "captured" else 0)
    assert events("PaymentFailed", payment.id) == 1 - captured
    if final == "payment_failed":  # its stock is back
        wait_for(lambda: inventory.available(["TEE"])["TEE"] == available_before, 10)


def test_refunds_go_through_the_psp_and_the_order_ends_refunded(world, web):
    order = place(web)
    order_when(world, web, order["id"], "paid")
    assert refund(web, order["id"], 1500).status_code == 201
    order_when(world, web, order["id"], "partially_refunded")
    too_much = refund(web, order["id"], 3501)
    assert (too_much.status_code, too_much.json()["code"]) == (422, "refund_exceeds_captured")
    assert refund(web, order["id"], 3500).status_code == 201
    shown = order_when(world, web, order["id"], "refunded")
    assert sorted(r["amount"] for r in shown["refunds"] if r["status"] == "succeeded") == [
        1500,
        3500,
    ]
    payment = Payment.objects.get(order_id=order["id"])
    assert world.stack.charges()[payment.id]["refunded"] == ORDER_TOTAL
    assert events("RefundSucceeded", payment.id) == 2


def test_cancelling_a_paid_order_refunds_the_capture_at_the_psp(world, web):
    order = place(web)
    order_when(world, web, order["id"], "paid")
    cancelled = web.post(
        f"/api/v1/orders/{order['id']}/cancel", headers={"Idempotency-Key": f"c-{order['id']}"}
    )
    assert cancelled.status_code == 200, cancelled.text
    payment = Payment.objects.get(order_id=order["id"])
    wait_for(
        lambda: world.stack.charges()[payment.id]["refunded"] == ORDER_TOTAL,
        30,
        what="the PSP to refund the cancelled order",
    )
    wait_for(lambda: events("RefundSucceeded", payment.id) == 1, 30, what="RefundSucceeded")
    assert web.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "cancelled"


def test_the_marketplace_stand_in_with_racing_duplicates_makes_one_order_each(world, web):
    skus = ",".join(f"{code}:{price}" for code, price in PRICES.items())
    summary = world.stack.marketplace(
        "acme", world.partner_secret, skus, "--count", "12", "--duplicates", "8",
        "--concurrency", "8",
    )  # fmt: skip
    assert summary["orders"] == 12
    assert set(summary["final"]) <= {"200", "201"}
    assert summary["final"]["201"] == 12
    settled = PartnerOrder.objects.filter(partner="acme")
    assert settled.count() == 12
    assert OutboxMessage.objects.filter(event_type="PartnerOrderSettled").count() == 12
    assert not Payment.objects.filter(order_id__in=settled.values("order_id")).exists()
    for order_id in settled.values_list("order_id", flat=True):
        assert web.get(f"/api/v1/orders/{order_id}/").status_code == 404  # acme's, not web's


def test_orders_placed_while_the_psp_is_down_are_paid_once_it_is_back(world, web):
    """Issue 15: nothing but the payment rows remembers these submissions (no Celery retry);
    the beat's sweep backs off per payment, the breaker stops it while the PSP is down."""
    assert world.stack.psp is not None
    world.stack.psp.stop()
    try:
        placed = [place(web) for _ in range(6)]
        payments = {
            order["id"]: wait_for(
                lambda order_id=order["id"]: Payment.objects.filter(order_id=order_id).first(),
                30,
                what="the relay to create the payment",
            )
            for order in placed
        }
        wait_for(
            lambda: all(
                Payment.objects.get(pk=p.pk).submit_attempts >= 1 for p in payments.values()
            ),
            30,
            what="the sweep to try every payment while the PSP is down",
        )
    finally:
        world.stack.psp_start()
    for order in placed:
        order_when(world, web, order["id"], "paid", timeout=45)
    charges = world.stack.charges()
    for payment in payments.values():
        assert (charges[payment.id]["requests"], charges[payment.id]["status"]) == (1, "captured")
        assert events("PaymentCaptured", payment.id) == 1


# --- storm: every webhook 3 times, late and out of order -------------------------------------

TOKENS = ["tok_ok"] * 8 + ["tok_declined", "tok_flaky"]
FINAL = {"tok_ok": "paid", "tok_flaky": "paid", "tok_declined": "payment_failed"}


@pytest.mark.parametrize(
    "orders", [pytest.param(12, id="12-orders"), pytest.param(200, marks=pytest.mark.chaos)]
)
def test_a_webhook_storm_converges_every_order_and_charges_match(world, web, orders):
    world.stack.psp_start("--storm")
    try:
        storm(world, web, orders)
    finally:
        world.stack.psp_start()


def storm(world: World, web: httpx.Client, count: int) -> None:
    tokens = [TOKENS[n % len(TOKENS)] for n in range(count)]
    with ThreadPoolExecutor(16) as pool:
        placed = list(pool.map(lambda token: with_client(world, place, token), tokens))
    expected = {order["id"]: FINAL[token] for order, token in zip(placed, tokens, strict=True)}
    settled = wait_for(
        lambda: _all_final(web, expected), 120, what=f"{count} orders to settle in the storm"
    )
    assert settled == expected

    # Two refunds of 60% each for every fifth paid order, at once: one of each pair fits.
    paid = [order_id for order_id, status in expected.items() if status == "paid"]
    refunded = paid[::5]
    with ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(lambda order_id: with_client(world, refund, order_id, 3000).status_code,
                     refunded * 2)
        )  # fmt: skip
    assert Counter(answers) == {201: len(refunded), 422: len(refunded)}
    wait_for(
        lambda: (
            Refund.objects.filter(order_id__in=refunded, status="succeeded").count()
            == len(refunded)
        ),
        60,
        what="the storm's refunds to succeed",
    )

    payments = {p.order_id: p for p in Payment.objects.filter(order_id__in=expected)}
    charges = world.stack.charges()
    for order_id, status in expected.items():
        payment = payments[order_id]
        charge = charges[payment.id]
        captured = status == "paid"
        assert payment.status == ("captured" if captured else "failed")
        assert charge["status"] == ("captured" if captured else "declined")
        assert events("PaymentCaptured", payment.id) == int(captured)
        assert events("PaymentAuthorized", payment.id) == int(captured)
        assert events("PaymentFailed", payment.id) == int(not captured)
        ours = (
            Refund.objects.filter(order_id=order_id, status="succeeded").aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )
        assert ours == charge["refunded"] <= charge["amount"]
    if SERVER_ERRORS:
        warnings.warn(
            f"{len(SERVER_ERRORS)} POSTs answered 5xx (retried): {SERVER_ERRORS[:3]}", stacklevel=1
        )
    psp_captured = {c["order_id"] for c in charges.values() if c["status"] == "captured"}
    assert psp_captured & set(expected) == set(paid)  # PSP charges = orders paid
    # every webhook came three times; each webhook-id was applied once
    receipts = WebhookReceipt.objects.filter(source="psp").count()
    assert receipts >= 2 * len(paid) + (count - len(paid))


def with_client(world: World, call: Any, *args: Any) -> Any:
    with world.client() as client:
        return call(client, *args)


def _all_final(client: httpx.Client, expected: dict[str, str]) -> dict[str, str] | None:
    statuses = {
        order_id: client.get(f"/api/v1/orders/{order_id}/").json()["status"]
        for order_id in expected
    }
    return statuses if statuses == expected else None
