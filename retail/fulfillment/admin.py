"""Back office for shipments: staff mark them shipped or delivered (buttons call services)."""

import secrets
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
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

    def has_fulfil_permission(self, request: HttpRequest) -> bool:
        """Rows are never edited here, yet shipping one is a change: it needs that permission."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    @admin.action(
        description="Mark shipped (demo carrier, generated tracking code)", permissions=["fulfil"]
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

    @admin.action(description="Mark delivered", permissions=["fulfil"])
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
