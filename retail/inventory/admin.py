"""Back office for inventory: read-only views of stock, reservations and moves."""

from django.contrib import admin

from retail.audit.public import AuditedHistoryAdmin
from retail.inventory.models import Reservation, StockItem, StockMove
from retail.platform.admin import ReadOnlyAdmin


@admin.register(StockItem)
class StockItemAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    list_display = ("sku", "on_hand", "reserved", "updated_at")
    search_fields = ("sku",)


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    list_display = ("reference", "status", "expires_at", "created_at", "closed_at")
    list_filter = ("status",)
    search_fields = ("reference",)


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "sku", "delta_on_hand", "delta_reserved", "reason", "reference")
    list_filter = ("reason",)
    search_fields = ("sku", "reference")
