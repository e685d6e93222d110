"""Back office for shipments: staff mark them shipped or delivered (buttons call services)."""

import secrets
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from retail.audit.public import AuditedHistoryAdmin
from retail.fulfillment import services
from retail.fulfillment.models import Shipment


@admin.register(Shipment)
class ShipmentAdmin(AuditedHistoryAdmin):
    list_display = ("id", "order_id", "status", "carrier", "tracking_code", "created_at")
    list_filter = ("status",)
    search_fields = ("id", "order_id", "tracking_code")
    actions = ("mark_shipped", "mark_delivered")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Mark shipped (demo carrier, generated tracking code)")
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        for shipment in queryset:
            try:
                services.shipment_ship(
                    shipment_id=shipment.pk,
                    carrier="Correios",
                    tracking_code=f"BR{secrets.token_hex(5).upper()}",
                )
            except services.ShipmentNotReady as error:
                messages.error(request, str(error))

    @admin.action(description="Mark delivered")
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        for shipment in queryset:
            try:
                services.shipment_deliver(shipment_id=shipment.pk)
            except services.ShipmentNotReady as error:
                messages.error(request, str(error))
