"""Back office for payments: read-only records; actions go through services."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from retail.audit.public import AuditedHistoryAdmin, actor_of
from retail.payments import services
from retail.payments.models import PartnerOrder, Payment, Refund, UnmatchedWebhook
from retail.payments.psp import PspUnavailable
from retail.platform.admin import ReadOnlyAdmin, ReadOnlyInline, model_permission


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("id", "amount", "status", "reason", "psp_reference", "created_at")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    list_display = ("id", "order_id", "channel", "amount", "status", "psp_reference", "created_at")
    list_filter = ("status", "channel", "method")
    search_fields = ("id", "order_id", "psp_reference")
    exclude = ("token",)
    inlines = (RefundInline,)
    actions = ("reconcile",)
    has_reconcile_permission = model_permission("reconcile")

    @admin.action(
        description="Ask the PSP now and apply what it reports", permissions=["reconcile"]
    )
    def reconcile(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        try:
            for payment in queryset:
                services.payment_reconcile(
                    payment.id, now=timezone.now(), actor=actor_of(request.user)
                )
        except PspUnavailable as error:
            messages.error(request, f"The PSP did not answer: {error}")
            return
        messages.success(request, f"{queryset.count()} payment(s) reconciled.")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    list_display = ("id", "order_id", "payment", "amount", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("id", "order_id", "payment__id", "psp_reference")


@admin.register(PartnerOrder)
class PartnerOrderAdmin(ReadOnlyAdmin):
    list_display = ("partner", "external_order_id", "order_id", "amount", "created_at")
    list_filter = ("partner",)
    search_fields = ("external_order_id", "order_id")


@admin.register(UnmatchedWebhook)
class UnmatchedWebhookAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    list_display = ("source", "webhook_id", "code", "event_type", "reference", "deliveries",
                    "last_received_at", "resolved")  # fmt: skip
    list_filter = ("source", "code", "resolved")
    search_fields = ("webhook_id", "reference")
    actions = ("resolve",)
    has_resolve_permission = model_permission("resolve")

    @admin.action(description="Mark as resolved (reconciled by hand)", permissions=["resolve"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[UnmatchedWebhook]) -> None:
        resolved = services.unmatched_webhooks_resolve(
            ids=list(queryset.values_list("pk", flat=True)), actor=actor_of(request.user)
        )
        messages.success(request, f"{resolved} webhook(s) marked resolved.")
