"""Reservations: all or nothing, closed exactly once, counters explained by stock moves."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from retail.inventory import public as inventory
from retail.inventory.models import Reservation, StockItem, StockMove
from retail.inventory.tests.factories import StockItemFactory

pytestmark = pytest.mark.django_db
LATER = timezone.now() + timedelta(minutes=15)


def counters(sku):
    item = StockItem.objects.get(sku=sku)
    return item.on_hand, item.reserved


def assert_moves_explain_counters():
    for item in StockItem.objects.all():
        totals = StockMove.objects.filter(sku=item.sku).aggregate(
            on_hand=Sum("delta_on_hand"), reserved=Sum("delta_reserved")
        )
        assert (totals["on_hand"] or 0, totals["reserved"] or 0) == (item.on_hand, item.reserved)


def stock(sku, units):
    StockItemFactory(sku=sku, on_hand=0)
    inventory.stock_ensure_available(sku=sku, at_least=units, reference="test")


def test_reserving_holds_units_without_taking_them_from_on_hand():
    stock("A", 10)
    inventory.reserve({"A": 4}, "ord_1", expires_at=LATER)
    assert counters("A") == (10, 4)
    assert inventory.available(["A", "NONE"]) == {"A": 6, "NONE": 0}
    assert_moves_explain_counters()


def test_a_short_line_reserves_nothing_and_names_every_short_sku():
    stock("A", 10)
    stock("B", 1)
    stock("C", 5)
    with pytest.raises(inventory.OutOfStock) as raised, transaction.atomic():
        inventory.reserve({"C": 5, "B": 2, "A": 1, "GHOST": 1}, "ord_1", expires_at=LATER)
    assert raised.value.skus == ["B", "GHOST"]
    assert [counters(sku) for sku in "ABC"] == [(10, 0), (1, 0), (5, 0)]
    assert not Reservation.objects.exists()
    assert not StockMove.objects.filter(reference="ord_1").exists()


def test_release_gives_units_back_once_however_often_it_is_called():
    stock("A", 10)
    inventory.reserve({"A": 4}, "ord_1", expires_at=LATER)

    assert inventory.release("ord_1") is True
    assert inventory.release("ord_1") is False
    assert inventory.commit("ord_1") is False

    assert counters("A") == (10, 0)
    assert StockMove.objects.filter(reference="ord_1", reason="release").count() == 1
    assert_moves_explain_counters()


def test_commit_takes_the_units_out_once_and_then_nothing_releases_them():
    stock("A", 10)
    inventory.reserve({"A": 4}, "ord_1", expires_at=LATER)

    assert inventory.commit("ord_1") is True
    assert inventory.commit("ord_1") is False
    assert inventory.release("ord_1") is False

    assert counters("A") == (6, 0)
    assert_moves_explain_counters()


def test_expiry_only_after_the_deadline_and_only_once():
    stock("A", 10)
    inventory.reserve({"A": 4}, "ord_1", expires_at=LATER)
    assert inventory.due_references(now=timezone.now()) == []
    assert inventory.expire("ord_1", now=timezone.now()) is False

    after_deadline = LATER + timedelta(seconds=1)
    assert inventory.due_references(now=after_deadline) == ["ord_1"]
    assert inventory.expire("ord_1", now=after_deadline) is True
    assert inventory.expire("ord_1", now=after_deadline) is False

    assert counters("A") == (10, 0)
    assert inventory.due_references(now=after_deadline) == []
    assert Reservation.objects.get().status == "expired"
    assert StockMove.objects.filter(reference="ord_1", reason="expire").count() == 1


@pytest.mark.parametrize(
    ("on_hand", "reserved"),
    [(-1, 0), (5, -1), (5, 6)],
    ids=["on_hand<0", "reserved<0", "reserved>on_hand"],
)
def test_the_database_refuses_impossible_counters(on_hand, reserved):
    StockItemFactory(sku="A", on_hand=10, reserved=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockItem.objects.filter(sku="A").update(on_hand=on_hand, reserved=reserved)


def test_restock_brings_sold_units_back_once_and_only_for_committed_reservations():
    stock("A", 10)
    inventory.reserve({"A": 4}, "ord_1", expires_at=LATER)
    assert inventory.restock("ord_1") is False  # still only reserved
    inventory.commit("ord_1")

    assert inventory.restock("ord_1") is True
    assert inventory.restock("ord_1") is False
    assert inventory.release("ord_1") is False

    assert counters("A") == (10, 0)
    assert_moves_explain_counters()
