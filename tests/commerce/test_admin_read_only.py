"""Orders, payments, refunds, ledger and stock rows are read-only in admin, for a superuser too:
their pages have no Save buttons, and a POST of the change form is refused (403) and changes
nothing. State changes go through the services (admin actions), never around them."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import models

from retail.inventory.models import Reservation, StockItem, StockMove
from retail.ledger.models import Account, JournalEntry
from retail.orders.models import Order
from retail.payments.models import Payment, Refund
from retail.payments.tests.factories import PaymentFactory, RefundFactory
from tests.commerce.conftest import placed_order, posted_journal_entry

pytestmark = pytest.mark.django_db
SUBMIT_BUTTONS = ('name="_save"', 'name="_continue"', 'name="_addanother"', 'class="deletelink"')


# model, how to make one row, a change someone might try to post
ROWS: dict[str, tuple[type[models.Model], Callable[..., models.Model], dict[str, Any]]] = {
    "orders/order": (Order, placed_order, {"status": "cancelled", "total": "1"}),
    "payments/payment": (
        Payment,
        lambda *_: PaymentFactory(status="authorized"),
        {"status": "captured", "amount": "1"},
    ),
    "payments/refund": (
        Refund,
        lambda *_: RefundFactory(payment=PaymentFactory(status="captured")),
        {"status": "succeeded", "amount": "1"},
    ),
    "ledger/journalentry": (JournalEntry, lambda *_: posted_journal_entry(), {"memo": "edited"}),
    "ledger/account": (
        Account,
        lambda *_: posted_journal_entry().postings.first().account,  # type: ignore[union-attr]
        {"name": "renamed"},
    ),
    "inventory/stockitem": (
        StockItem,
        lambda *_: StockItem.objects.create(sku="MUG", on_hand=5),
        {"sku": "MUG", "on_hand": "500", "reserved": "0"},
    ),
    "inventory/reservation": (
        Reservation,
        lambda web, sku: Reservation.objects.get(reference=placed_order(web, sku).pk),
        {"status": "released"},
    ),
    "inventory/stockmove": (
        StockMove,
        lambda web, sku: StockMove.objects.filter(reference=placed_order(web, sku).pk).first(),
        {"delta_on_hand": "100"},
    ),
}


def snapshot(model: type[models.Model], pk: Any) -> dict[str, Any]:
    return model.objects.filter(pk=pk).values().get()


@pytest.fixture(params=sorted(ROWS))
def row(request, web, stocked_sku) -> tuple[str, type[models.Model], models.Model, dict]:
    model, make, change = ROWS[request.param]
    return request.param, model, make(web, stocked_sku), change


def test_the_change_page_shows_the_row_without_save_or_delete_buttons(admin_client, row):
    path, _, obj, _ = row
    page = admin_client.get(f"/admin/{path}/{obj.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert str(obj.pk) in html
    assert [button for button in SUBMIT_BUTTONS if button in html] == []


def test_a_superuser_posting_the_change_form_is_refused_and_nothing_changes(admin_client, row):
    path, model, obj, change = row
    before = snapshot(model, obj.pk)
    response = admin_client.post(f"/admin/{path}/{obj.pk}/change/", {**change, "_save": "Save"})
    assert response.status_code == 403
    assert snapshot(model, obj.pk) == before


def test_nothing_is_added_or_deleted_either(admin_client, row):
    path, model, obj, _ = row
    count = model.objects.count()
    assert admin_client.get(f"/admin/{path}/add/").status_code == 403
    assert admin_client.post(f"/admin/{path}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert model.objects.count() == count


def test_an_order_shows_every_field_and_its_lines_none_editable(admin_client, web, stocked_sku):
    order = placed_order(web, stocked_sku)
    line = order.lines.get()  # type: ignore[attr-defined]
    before = snapshot(type(line), line.pk)
    html = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "TEE" in html
    assert f'<div class="readonly">{order.pk}</div>' in html  # every field, the id included
    assert 'name="lines-0-quantity"' not in html
    response = admin_client.post(
        f"/admin/orders/order/{order.pk}/change/",
        {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1", "lines-0-id": str(line.pk),
         "lines-0-quantity": "99", "_save": "Save"},
    )  # fmt: skip
    assert response.status_code == 403
    assert snapshot(type(line), line.pk) == before
