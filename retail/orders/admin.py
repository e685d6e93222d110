"""Back office for orders: read-only, with the status history; cancelling calls the service."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from retail.audit.public import AuditedHistoryAdmin, actor_of
from retail.orders import services
from retail.orders.models import Order, OrderLine
from retail.platform.admin import ReadOnlyAdmin, ReadOnlyInline, model_permission
from retail.platform.problems import Problem


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("sku", "name", "quantity", "unit_price", "total")


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    list_display = ("number", "id", "channel_code", "status", "total", "created_at")
    list_filter = ("status", "channel_code")
    search_fields = ("number", "id", "customer_id", "external_order_id")
    readonly_fields = [field.name for field in Order._meta.fields]  # the id and times too
    inlines = [OrderLineInline]
    actions = ("cancel",)
    has_cancel_permission = model_permission("cancel")

    @admin.action(
        description="Cancel (until shipped; stock comes back, payments refunds)",
        permissions=["cancel"],
    )
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        for order in queryset:
            try:
                services.order_cancel(
                    channel_code=order.channel_code,
                    order_id=order.pk,
                    reason=f"cancelled_by_staff:{request.user.pk}",
                    actor=actor_of(request.user),
                )
            except Problem as refused:
                messages.error(request, f"{order.number}: {refused.detail}")
