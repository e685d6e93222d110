"""Back office for channels: keys are shown once when issued, revoked by action, never edited.

Actions need the model's change permission (view-only staff such as auditors cannot run them)
and each writes an admin LogEntry, which reaches the audit trail.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from retail.audit.public import AuditedHistoryAdmin
from retail.channels import selectors, services
from retail.channels.domain import FIXED_ONCE_IT_HAS_ORDERS
from retail.channels.models import ApiKey, Channel, StaffToken, WebhookSecret
from retail.platform.admin import ReadOnlyAdmin


@admin.register(Channel)
class ChannelAdmin(AuditedHistoryAdmin):
    list_display = ("code", "name", "kind", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    actions = ("issue_api_key", "rotate_webhook_secret")

    def get_readonly_fields(self, request: HttpRequest, obj: Channel | None = None) -> Any:
        """Code and kind are fixed once the channel has orders (the service refuses it too)."""
        fixed = obj is not None and selectors.channel_has_orders(obj)
        return FIXED_ONCE_IT_HAS_ORDERS if fixed else ()

    def has_delete_permission(self, request: HttpRequest, obj: Channel | None = None) -> bool:
        return False  # deactivate it instead: its orders, keys and history name it

    def save_model(self, request: HttpRequest, obj: Channel, form: Any, change: bool) -> None:
        services.channel_save(channel=obj, reason=form.cleaned_data.get("change_reason", ""))

    @admin.action(description="Issue a new API key (shown once)", permissions=["change"])
    def issue_api_key(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for channel in queryset:
            key = services.api_key_issue(channel=channel)
            self.log_change(request, channel, "Issued a new API key.")
            messages.warning(request, f"New API key for {channel.code} (shown once): {key}")

    @admin.action(
        description="Rotate the webhook secret (old ones stay valid 24 h)", permissions=["change"]
    )
    def rotate_webhook_secret(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for partner in queryset.filter(kind=Channel.Kind.MARKETPLACE):
            secret = services.webhook_secret_rotate(partner=partner)
            self.log_change(request, partner, "Rotated the webhook secret.")
            messages.warning(request, f"New webhook secret for {partner.code}: {secret}")


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    list_display = ("prefix", "channel", "created_at", "expires_at", "revoked_at")
    list_filter = ("channel", "revoked_at")
    exclude = ("key_hash",)
    actions = ("revoke",)

    @admin.action(description="Revoke the selected keys", permissions=["act"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = [key for key in queryset if services.api_key_revoke(api_key=key)]
        for key in revoked:
            self.log_change(request, key, "Revoked.")
        messages.success(request, f"{len(revoked)} key(s) revoked.")


@admin.register(StaffToken)
class StaffTokenAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    list_display = ("prefix", "user", "created_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    exclude = ("token_hash",)
    actions = ("revoke",)

    @admin.action(description="Revoke the selected tokens", permissions=["act"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[StaffToken]) -> None:
        revoked = [token for token in queryset if services.staff_token_revoke(staff_token=token)]
        for token in revoked:
            self.log_change(request, token, "Revoked.")
        messages.success(request, f"{len(revoked)} token(s) revoked.")


@admin.register(WebhookSecret)
class WebhookSecretAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    list_display = ("channel", "created_at", "valid_until")
    exclude = ("secret",)
