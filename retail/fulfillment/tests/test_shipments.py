"""Shipments: one per order, shipped then delivered, each step one event."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission

from retail.fulfillment import services
from retail.fulfillment.models import Shipment
from retail.platform.models import OutboxMessage

pytestmark = pytest.mark.django_db


def events(event_type):
    return list(
        OutboxMessage.objects.filter(event_type=event_type).values_list("payload", flat=True)
    )


def test_one_shipment_per_order_however_often_it_is_created():
    first = services.shipment_create(order_id="ord_1", shipping_address={"city": "Recife"})
    again = services.shipment_create(order_id="ord_1", shipping_address={"city": "Other"})
    assert again.pk == first.pk
    assert Shipment.objects.get().shipping_address == {"city": "Recife"}


def test_shipping_and_delivering_emit_one_event_each_even_when_repeated():
    shipment = services.shipment_create(order_id="ord_1", shipping_address={})

    services.shipment_ship(shipment_id=shipment.pk, carrier="Correios", tracking_code="BR1")
    services.shipment_ship(shipment_id=shipment.pk, carrier="Correios", tracking_code="BR1")
    services.shipment_deliver(shipment_id=shipment.pk)
    services.shipment_deliver(shipment_id=shipment.pk)

    (shipped,) = events("ShipmentShipped")
    assert shipped == {
        "aggregate_id": shipment.pk,
        "order_id": "ord_1",
        "carrier": "Correios",
        "tracking_code": "BR1",
    }
    assert events("ShipmentDelivered") == [{"aggregate_id": shipment.pk, "order_id": "ord_1"}]


def test_nothing_is_delivered_before_it_shipped_and_cancelled_shipments_never_leave():
    shipment = services.shipment_create(order_id="ord_1", shipping_address={})
    with pytest.raises(services.ShipmentNotReady):
        services.shipment_deliver(shipment_id=shipment.pk)

    assert services.shipment_cancel(order_id="ord_1") is True
    assert services.shipment_cancel(order_id="ord_1") is False
    with pytest.raises(services.ShipmentNotReady):
        services.shipment_ship(shipment_id=shipment.pk, carrier="X", tracking_code="Y")
    assert not OutboxMessage.objects.exists()


def test_a_shipped_shipment_is_not_cancelled():
    shipment = services.shipment_create(order_id="ord_1", shipping_address={})
    services.shipment_ship(shipment_id=shipment.pk, carrier="X", tracking_code="Y")
    assert services.shipment_cancel(order_id="ord_1") is False
    assert Shipment.objects.get().status == "shipped"


def test_admin_actions_ship_and_deliver(admin_client):
    shipment = services.shipment_create(order_id="ord_1", shipping_address={})
    url = "/admin/fulfillment/shipment/"
    admin_client.post(url, {"action": "mark_shipped", "_selected_action": [shipment.pk]})
    assert Shipment.objects.get().status == "shipped"
    admin_client.post(url, {"action": "mark_delivered", "_selected_action": [shipment.pk]})
    assert Shipment.objects.get().status == "delivered"
    assert len(events("ShipmentShipped")) == len(events("ShipmentDelivered")) == 1


def test_view_only_staff_cannot_ship(client, django_user_model):
    shipment = services.shipment_create(order_id="ord_1", shipping_address={})
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_shipment"))
    client.force_login(viewer)
    client.post(
        "/admin/fulfillment/shipment/",
        {"action": "mark_shipped", "_selected_action": [shipment.pk]},
    )
    assert Shipment.objects.get().status == "pending"
    assert not events("ShipmentShipped")


def test_each_admin_step_leaves_an_admin_log_entry(admin_client):
    shipment = services.shipment_create(order_id="ord_1", shipping_address={})
    url = "/admin/fulfillment/shipment/"
    admin_client.post(url, {"action": "mark_shipped", "_selected_action": [shipment.pk]})
    admin_client.post(url, {"action": "mark_delivered", "_selected_action": [shipment.pk]})
    messages = list(LogEntry.objects.order_by("id").values_list("change_message", flat=True))
    assert messages == ["Marked shipped.", "Marked delivered."]
