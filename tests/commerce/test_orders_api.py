"""POST/GET /api/v1/orders/ and cancel, through the real URLconf, auth, idempotency and DB."""

import json
import re

import pytest

from retail.catalog.tests.factories import ChannelPriceFactory
from retail.customers.models import Customer
from retail.inventory.models import Reservation, StockItem, StockMove
from retail.orders.models import Order
from retail.platform.models import OutboxMessage
from tests.commerce.conftest import order_body, outbox_events, place, problem

pytestmark = pytest.mark.django_db


def stock_of(sku):
    item = StockItem.objects.get(sku=sku)
    return item.on_hand, item.reserved


def nothing_written():
    assert not Order.objects.exists()
    assert not Customer.objects.exists()
    assert not Reservation.objects.exists()
    assert not StockMove.objects.filter(reason="reserve").exists()
    assert not OutboxMessage.objects.exists()


class TestPlace:
    def test_201_with_server_side_totals_reserved_stock_and_one_order_placed_event(
        self, web, stocked_sku
    ):
        tee = stocked_sku("TEE", price=4990, on_hand=10)
        stocked_sku("MUG", price=3990, on_hand=10)
        ChannelPriceFactory(sku=tee, channel_code="web", price=4490)
        body = order_body(("TEE", 2), ("MUG", 1))
        body["lines"][0]["unit_price"] = 1  # a client cannot set prices: ignored
        body["total"] = 1

        response = place(web, body)

        assert response.status_code == 201
        order = response.json()
        assert response["Location"] == f"/api/v1/orders/{order['id']}/"
        assert order["id"].startswith("ord_")
        assert re.fullmatch(r"R-\d{4}-\d{6}", order["number"])
        assert (order["status"], order["channel"], order["currency"]) == (
            "pending_payment",
            "web",
            "BRL",
        )
        assert order["lines"] == [
            {"sku": "TEE", "quantity": 2, "unit_price": 4490, "total": 8980},
            {"sku": "MUG", "quantity": 1, "unit_price": 3990, "total": 3990},
        ]
        assert order["total"] == 12970
        assert (order["payments"], order["refunds"]) == ([], [])
        assert order["created_at"].endswith("Z")
        assert stock_of("TEE") == (10, 2)
        (placed,) = outbox_events("OrderPlaced")
        customer = Customer.objects.get()
        assert placed | {"lines": None} == {
            "aggregate_id": order["id"],
            "order_id": order["id"],
            "number": order["number"],
            "channel": "web",
            "customer_id": customer.pk,
            "total": 12970,
            "currency": "BRL",
            "payment_method": "card",
            "payment_token": "tok_ok",
            "lines": None,
            "customer_name": "Ana Souza",
            "customer_email": "ana@example.com",
            "client_ip": "",  # no client.ip, and 127.0.0.1 is no trusted proxy
            "client_user_agent": "",
            "external_order_id": "",
        }
        assert Order.objects.get().history.count() == 1

    def test_both_cpf_spellings_are_one_customer(self, web, stocked_sku):
        stocked_sku("TEE")
        place(web, order_body(("TEE", 1)), key="a")
        second = order_body(("TEE", 1))
        second["customer"]["cpf"] = "12345678909"
        assert place(web, second, key="b").status_code == 201
        assert Customer.objects.count() == 1
        assert Order.objects.values("customer_id").distinct().count() == 1

    def test_lines_naming_one_sku_twice_are_merged(self, web, stocked_sku):
        stocked_sku("TEE", price=100)
        order = place(web, order_body(("TEE", 2), ("TEE", 3))).json()
        assert order["lines"] == [{"sku": "TEE", "quantity": 5, "unit_price": 100, "total": 500}]

    def test_order_numbers_are_unique_and_increasing(self, web, stocked_sku):
        stocked_sku("TEE")
        numbers = [
            place(web, order_body(("TEE", 1)), key=f"k{i}").json()["number"] for i in range(3)
        ]
        assert len(set(numbers)) == 3
        assert numbers == sorted(numbers)


class TestPlaceRefusals:
    def test_unknown_skus_are_422_naming_them_and_write_nothing(self, web, stocked_sku):
        stocked_sku("TEE")
        body = problem(
            place(web, order_body(("TEE", 1), ("NOPE", 1), ("GONE", 2))), 422, "unknown_sku"
        )
        assert body["skus"] == ["NOPE", "GONE"]
        nothing_written()
        assert stock_of("TEE") == (100, 0)

    def test_not_enough_stock_is_409_naming_the_skus_and_writes_nothing(self, web, stocked_sku):
        stocked_sku("TEE", on_hand=1)
        stocked_sku("MUG", on_hand=0)
        stocked_sku("CAP", on_hand=50)
        body = problem(
            place(web, order_body(("TEE", 2), ("MUG", 1), ("CAP", 1))), 409, "out_of_stock"
        )
        assert body["skus"] == ["MUG", "TEE"]
        nothing_written()
        assert stock_of("CAP") == (50, 0)

    @pytest.mark.parametrize("cpf", ["123.456.789-00", "11111111111", "1234567890", "abc"])
    def test_a_bad_cpf_is_422_invalid_cpf(self, web, stocked_sku, cpf):
        stocked_sku("TEE")
        body = order_body(("TEE", 1))
        body["customer"]["cpf"] = cpf
        problem(place(web, body), 422, "invalid_cpf")
        nothing_written()

    @pytest.mark.parametrize(
        "lines",
        [
            [],
            [{"sku": "TEE", "quantity": 0}],
            [{"sku": "TEE", "quantity": 1000}],
            [{"sku": "TEE", "quantity": "1"}],
            [{"sku": "TEE", "quantity": 1.0}],
            [{"sku": "TEE", "quantity": True}],
            [{"sku": "TEE"}],
            [{"sku": 7, "quantity": 1}],
            [{"sku": f"S{i}", "quantity": 1} for i in range(101)],
            [{"sku": "TEE", "quantity": 600}, {"sku": "TEE", "quantity": 600}],
        ],
        ids=[
            "no-lines",
            "zero",
            "1000",
            "string-qty",
            "float-qty",
            "bool-qty",
            "no-qty",
            "number-sku",
            "101-lines",
            "merged-over-999",
        ],
    )
    def test_bad_lines_are_422_validation_error(self, web, stocked_sku, lines):
        stocked_sku("TEE", on_hand=5000)
        problem(place(web, order_body(lines=lines)), 422, "validation_error")
        nothing_written()

    def test_a_missing_idempotency_key_is_400(self, web, stocked_sku):
        stocked_sku("TEE")
        response = web.post("/api/v1/orders/", order_body(("TEE", 1)), format="json")
        problem(response, 400, "idempotency_key_missing")
        nothing_written()

    def test_without_a_valid_channel_key_it_is_401(self, client, stocked_sku):
        stocked_sku("TEE")
        for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer rk_live_web_forged"}):
            response = client.post(
                "/api/v1/orders/",
                json.dumps(order_body(("TEE", 1))),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="k",
                **headers,
            )
            problem(response, 401, "unauthenticated")
            assert response["WWW-Authenticate"].startswith("Bearer")
        nothing_written()


class TestIdempotency:
    def test_a_retry_gets_the_same_bytes_and_makes_no_second_order(self, web, stocked_sku):
        stocked_sku("TEE", on_hand=10)
        first = place(web, order_body(("TEE", 2)), key="retry-me")
        again = place(web, order_body(("TEE", 2)), key="retry-me")

        assert again.status_code == 201
        assert again.content == first.content
        assert again["Idempotent-Replayed"] == "true"
        assert Order.objects.count() == 1
        assert stock_of("TEE") == (10, 2)
        assert len(outbox_events("OrderPlaced")) == 1

    def test_the_same_key_with_another_body_is_422(self, web, stocked_sku):
        stocked_sku("TEE")
        place(web, order_body(("TEE", 1)), key="k")
        problem(place(web, order_body(("TEE", 2)), key="k"), 422, "idempotency_key_reused")
        assert Order.objects.count() == 1

    def test_a_refusal_is_replayed_too_even_once_stock_arrived(self, web, stocked_sku):
        stocked_sku("TEE", on_hand=0)
        first = place(web, order_body(("TEE", 1)), key="k")
        StockItem.objects.filter(sku="TEE").update(on_hand=10)
        again = place(web, order_body(("TEE", 1)), key="k")
        problem(again, 409, "out_of_stock")
        assert again.content == first.content
        assert again["Idempotent-Replayed"] == "true"
        assert not Order.objects.exists()

    def test_two_channels_using_the_same_key_get_two_orders(self, web, app, stocked_sku):
        stocked_sku("TEE")
        assert place(web, order_body(("TEE", 1)), key="same").status_code == 201
        assert place(app, order_body(("TEE", 1)), key="same").status_code == 201
        assert sorted(Order.objects.values_list("channel_code", flat=True)) == ["app", "web"]


class TestRead:
    def test_a_channel_reads_its_own_order(self, web, stocked_sku):
        stocked_sku("TEE")
        placed = place(web, order_body(("TEE", 1)))
        response = web.get(f"/api/v1/orders/{placed.json()['id']}/")
        assert response.status_code == 200
        assert response.content == placed.content

    def test_another_channels_order_is_404(self, web, app, stocked_sku):
        stocked_sku("TEE")
        order_id = place(web, order_body(("TEE", 1))).json()["id"]
        problem(app.get(f"/api/v1/orders/{order_id}/"), 404, "not_found")

    @pytest.mark.parametrize("order_id", ["ord_nope", "x" * 300, "%00", "é"])
    def test_unknown_orders_are_404(self, web, order_id):
        problem(web.get(f"/api/v1/orders/{order_id}/"), 404, "not_found")

    def test_reading_needs_a_channel_key(self, client, web, stocked_sku):
        stocked_sku("TEE")
        order_id = place(web, order_body(("TEE", 1))).json()["id"]
        problem(client.get(f"/api/v1/orders/{order_id}/"), 401, "unauthenticated")


class TestCancel:
    def cancel(self, client, order_id, key="cancel-1"):
        return client.post(f"/api/v1/orders/{order_id}/cancel", HTTP_IDEMPOTENCY_KEY=key)

    def test_cancelling_releases_the_stock_and_emits_one_event(self, web, stocked_sku):
        stocked_sku("TEE", on_hand=10)
        order_id = place(web, order_body(("TEE", 4))).json()["id"]

        response = self.cancel(web, order_id)

        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        assert stock_of("TEE") == (10, 0)
        (cancelled,) = outbox_events("OrderCancelled", order_id)
        assert cancelled["reason"] == "cancelled_by_channel"
        assert Order.objects.get().history.count() == 2

    def test_cancelling_again_with_a_new_key_is_a_harmless_no_op(self, web, stocked_sku):
        stocked_sku("TEE", on_hand=10)
        order_id = place(web, order_body(("TEE", 4))).json()["id"]
        self.cancel(web, order_id, key="first")

        again = self.cancel(web, order_id, key="second")

        assert again.status_code == 200
        assert again.json()["status"] == "cancelled"
        assert len(outbox_events("OrderCancelled")) == 1
        assert StockMove.objects.filter(reason="release").count() == 1

    def test_a_shipped_order_cannot_be_cancelled(self, web, stocked_sku):
        stocked_sku("TEE", on_hand=10)
        order_id = place(web, order_body(("TEE", 1))).json()["id"]
        Order.objects.filter(pk=order_id).update(status="fulfilled")

        body = problem(self.cancel(web, order_id), 409, "invalid_transition")

        assert body["order_status"] == "fulfilled"
        assert Order.objects.get().status == "fulfilled"
        assert not outbox_events("OrderCancelled")

    def test_another_channels_order_cannot_be_cancelled(self, web, app, stocked_sku):
        stocked_sku("TEE", on_hand=10)
        order_id = place(web, order_body(("TEE", 1))).json()["id"]
        problem(self.cancel(app, order_id), 404, "not_found")
        assert Order.objects.get().status == "pending_payment"
        assert stock_of("TEE") == (10, 1)

    def test_cancel_needs_a_key_and_a_channel(self, client, web, stocked_sku):
        stocked_sku("TEE")
        order_id = place(web, order_body(("TEE", 1))).json()["id"]
        problem(web.post(f"/api/v1/orders/{order_id}/cancel"), 400, "idempotency_key_missing")
        problem(self.cancel(client, order_id), 401, "unauthenticated")
        assert Order.objects.get().status == "pending_payment"

    def test_a_cancel_retry_is_replayed(self, web, stocked_sku):
        stocked_sku("TEE")
        order_id = place(web, order_body(("TEE", 1))).json()["id"]
        first = self.cancel(web, order_id)
        again = self.cancel(web, order_id)
        assert again.content == first.content
        assert again["Idempotent-Replayed"] == "true"
