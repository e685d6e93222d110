"""The back-office screens people use, in a real browser (Debian's Chromium through Playwright)
against a real gunicorn on the test database: an engineer flips a route and rolls it back, an
auditor looks at an order and can change nothing.

Chromium comes from ``scripts/ensure-services.sh`` (apt); without it these tests fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.utils import quote
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect, sync_playwright

from retail.audit.database_roles import app_database_url
from retail.audit.services import auditor_permissions_sync
from retail.catalog.tests.factories import SkuFactory
from retail.channels import services as channels
from retail.channels.models import Channel
from retail.channels.tests.factories import ChannelFactory
from retail.inventory.tests.factories import StockItemFactory
from retail.orders.models import Order
from retail.payments.tests.processes import gunicorn_start
from strangler.models import Route, RouteChange
from strangler.permissions import engineer_group_ensure
from tests.commerce.conftest import order_body
from tests.kernel.procs import Process, free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REDIS_DB = 9  # this module's gunicorn kicks the relay into a Redis database of its own
PASSWORD = "browser-test-pw-1"
FLIP_REASON = "legacy answers /api/v1/ while the checkout incident is open"


@pytest.fixture(scope="module")
def web_url(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """Rastro as deployed (gthread gunicorn, routing layer on) on the test database. Legacy is
    a closed port, so a path routed there answers 502 ``upstream_unreachable``."""
    with django_db_blocker.unblock():
        database = app_database_url()
    redis_url = f"{settings.REDIS_URL.rsplit('/', 1)[0]}/{REDIS_DB}"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "LEGACY_URL": f"http://127.0.0.1:{free_port()}",
        "STRANGLER_ENABLED": "1",
        "LOG_LEVEL": "WARNING",
    }
    port = free_port()
    log: Path = tmp_path_factory.mktemp("browser") / "gunicorn.log"
    server: Process = gunicorn_start(env, port, log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def browser(monkeypatch) -> Iterator[Browser]:
    # Playwright's sync API runs an event loop on this thread; the ORM calls the test makes
    # between browser steps are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def log_in(browser: Browser, web_url: str, username: str) -> Page:
    page = browser.new_page(base_url=web_url)
    page.set_default_timeout(10_000)
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username.upper(), ignore_case=True)
    return page


def served_by(web_url: str) -> str:
    """Who answers the storefront API now (``new`` or ``legacy``)."""
    return httpx.get(f"{web_url}/api/v1/products/", timeout=5).headers["X-Served-By"]


def test_an_engineer_flips_a_route_with_a_reason_sees_it_in_the_timeline_and_rolls_it_back(
    browser, web_url
):
    call_command("route_set", "--defaults")  # what `make run` does: /api/v1/ → new
    channels.staff_user_ensure(username="engineer", password=PASSWORD, role="engineer")
    engineer_group_ensure(apps)  # the group's permissions (a flushed test database lost them)
    api = Route.objects.get(prefix="/api/v1/")
    changes_before = RouteChange.objects.count()
    assert served_by(web_url) == "new"

    page = log_in(browser, web_url, "engineer")
    page.get_by_role("link", name="Routes", exact=True).click()
    page.get_by_role("link", name="/api/v1/", exact=True).click()
    page.select_option("#id_mode", "legacy")
    page.fill("#id_reason", FLIP_REASON)
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    flip = RouteChange.objects.latest("pk")
    assert (flip.route_id, flip.actor, flip.reason) == (api.pk, "engineer", FLIP_REASON)
    assert RouteChange.objects.count() == changes_before + 1
    wait_for(lambda: served_by(web_url) == "legacy", 2.5, what="the flip to reach gunicorn")

    page.get_by_role("link", name="/api/v1/", exact=True).click()
    first_row = page.locator("#route-timeline tbody tr").first
    expect(first_row).to_contain_text("engineer")
    expect(first_row).to_contain_text("new → legacy")
    expect(first_row).to_contain_text(FLIP_REASON)

    page.fill("#rollback-form input[name=reason]", "incident closed")
    page.click("#rollback-form input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("/api/v1/: rolled back to new.")
    first_row = page.locator("#route-timeline tbody tr").first
    expect(first_row).to_contain_text(f"legacy → new (rollback of #{flip.pk})")
    expect(first_row).to_contain_text("incident closed")

    api.refresh_from_db()
    assert api.mode == "new"
    assert RouteChange.objects.count() == changes_before + 2
    wait_for(lambda: served_by(web_url) == "new", 2.5, what="the rollback to reach gunicorn")


def test_an_auditor_sees_an_order_and_can_change_nothing(browser, web_url):
    web = ChannelFactory(code="web", kind=Channel.Kind.WEB)
    SkuFactory(code="TEE", name="Tee", base_price=2500)
    StockItemFactory(sku="TEE", on_hand=10)
    placed = httpx.post(
        f"{web_url}/api/v1/orders/",
        json=order_body(("TEE", 2)),
        headers={
            "Authorization": f"Bearer {channels.api_key_issue(channel=web)}",
            "Idempotency-Key": "browser-auditor-order",
        },
        timeout=30,
    )
    assert placed.status_code == 201, placed.text
    order = Order.objects.get(pk=placed.json()["id"])
    channels.staff_user_ensure(username="auditor", password=PASSWORD, role="auditor")
    auditor_permissions_sync()

    page = log_in(browser, web_url, "auditor")
    page.goto("/admin/orders/order/")
    page.get_by_role("link", name=str(order.number), exact=True).click()
    change_path = f"/admin/orders/order/{quote(order.pk)}/change/"
    expect(page).to_have_url(re.compile(re.escape(change_path) + "$"))
    expect(page.locator("#content")).to_contain_text(order.pk)
    expect(page.locator("#content")).to_contain_text("pending_payment")
    expect(page.locator("input[name=_save]")).to_have_count(0)
    expect(page.locator("input[name=_continue]")).to_have_count(0)
    expect(page.locator(".deletelink")).to_have_count(0)

    # The browser posts anyway, with the page's CSRF token: the change form, then the cancel
    # action from the list. Both are refused and nothing changes.
    token = page.evaluate("document.cookie.match(/csrftoken=([^;]+)/)[1]")
    for path, form in [
        (change_path, {"status": "cancelled"}),
        ("/admin/orders/order/", {"action": "cancel", "_selected_action": order.pk}),
    ]:
        answer = page.request.post(path, form={**form, "csrfmiddlewaretoken": token})
        assert answer.status == 403, answer.text()
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "forbidden"
    order.refresh_from_db()
    assert order.status == "pending_payment"
