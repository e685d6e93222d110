"""Back office for auditors: the audit log, checkpoints, purges, and every history table.

Everything here is read-only for everyone: the database would refuse the writes anyway.
"""

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.db import models
from django.http import HttpRequest
from simple_history.models import registered_models

from retail.audit.models import AuditCheckpoint, AuditEntry, AuditPurge
from retail.platform.admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "kind", "action", "actor", "channel", "order_id", "request_id")
    list_filter = ("kind", "channel")
    search_fields = ("=order_id", "=request_id", "=idempotency_key", "action", "actor")
    ordering = ("-seq",)
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(LogEntry)
class AdminLogEntryAdmin(ReadOnlyAdmin):
    """Django's own record of admin changes (each is also a ``staff`` audit entry)."""

    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag")
    list_filter = ("action_flag", "content_type")
    ordering = ("-action_time",)


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("at", "seq", "hash")
    ordering = ("-at",)


@admin.register(AuditPurge)
class AuditPurgeAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "before", "through_seq", "deleted")
    ordering = ("-at",)


class HistoryBrowserAdmin(ReadOnlyAdmin):
    """Every change of one tracked model: who (user or actor), when, what, why."""

    list_filter = ("history_type", "history_date")
    ordering = ("-history_date",)
    date_hierarchy = "history_date"
    show_full_result_count = False

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        fields = {field.name for field in self.model._meta.fields}
        extra = tuple(name for name in ("history_actor", "retain_until") if name in fields)
        return (
            "history_date",
            "history_type",
            "__str__",
            "history_user",
            *extra,
            "history_change_reason",
        )


def history_models_register(site: admin.AdminSite = admin.site) -> list[type[models.Model]]:
    """Register a read-only browser for each history table no other admin module registered.

    Called from ``AuditConfig.ready()``, after every admin module was imported.
    """
    added = []
    for model in registered_models.values():
        manager = getattr(model._meta, "simple_history_manager_attribute", None)
        if manager is None:
            continue  # a many-to-many through table's history
        history_model = getattr(model, manager).model
        if not site.is_registered(history_model):
            site.register(history_model, HistoryBrowserAdmin)
            added.append(history_model)
    return added
