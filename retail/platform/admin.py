"""Back-office building blocks shared by every context's admin."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import flatten
from django.contrib.auth import get_permission_codename
from django.http import HttpRequest


class NoWrites:
    """No add, change or delete through admin, whoever asks."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(NoWrites, admin.ModelAdmin):
    """Rows written only by services (or never changed): browsable, never edited in admin.

    The change page shows the row without Save buttons; a POST to it is refused (403)."""

    def has_act_permission(self, request: HttpRequest) -> bool:
        """``@admin.action(permissions=["act"])``: rows are never edited here, yet an action
        that calls a service changes them, so it needs the model's change permission."""
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")


class ReadOnlyInline(NoWrites, admin.TabularInline):
    """Child rows shown on a read-only parent's page: never added, changed or deleted there.
    Every field in ``fields`` is shown as text."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return flatten(self.fields or ())


def model_permission(verb: str) -> Callable[[admin.ModelAdmin, HttpRequest], bool]:
    """``has_<verb>_permission = model_permission("<verb>")`` backs
    ``@admin.action(permissions=["<verb>"])`` with the model's own ``<verb>_<model>``
    permission (declared in its ``Meta.permissions``), so that running a service from admin is
    granted by itself, never by the change permission that admin no longer honours."""

    def has_permission(model_admin: admin.ModelAdmin, request: HttpRequest) -> bool:
        opts = model_admin.opts
        return request.user.has_perm(f"{opts.app_label}.{verb}_{opts.model_name}")

    has_permission.__name__ = f"has_{verb}_permission"
    return has_permission
