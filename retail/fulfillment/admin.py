"""Back office for shipments: staff mark them shipped or delivered (buttons call services)."""

import secrets
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from retail.audit.public import AuditedHistoryAdmin
from retail.fulfillment import services
from retail.fulfillment.models import Shipment
from retail.platform.admin import ReadOnlyAdmin


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    list_display = ("id", "order_id", "status", "carrier", "tracking_code", "created_at")
    list_filter = ("status",)
    search_fields = ("id", "order_id", "tracking_code")
    actions = ("mark_shipped", "mark_delivered")

    @admin.action(
        description="Mark shipped (demo carrier, generated tracking code)", permissions=["act"]
    )
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        for shipment in queryset:
            self._step(
                request,
                shipment,
                "Marked shipped.",
                lambda pk: services.shipment_ship(
                    shipment_id=pk,
                    carrier="Correios",
                    tracking_code=f"BR{secrets.token_hex(5).upper()}",
                ),
            )

    @admin.action(description="Mark delivered", permissions=["act"])
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        for shipment in queryset:
            self._step(
                request,
                shipment,
                "Marked delivered.",
                lambda pk: services.shipment_deliver(shipment_id=pk),
            )

    def _step(
        self, request: HttpRequest, shipment: Shipment, message: str, step: Callable[[str], Any]
    ) -> None:
        """Run one service step; an admin log entry (hence a staff audit entry) when it worked."""
        try:
            step(shipment.pk)
        except services.ShipmentNotReady as error:
            messages.error(request, str(error))
            return
        self.log_change(request, shipment, message)
