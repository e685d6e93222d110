"""Back office for the route table: toggles with a required reason, the change timeline,
one-click rollback, shadow match rates. Only the engineer group may flip (permissions.py);
every write goes through strangler.services.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from strangler import selectors, services
from strangler.domain import HTTP_METHODS, describe
from strangler.models import Route, RouteChange, ShadowComparison
from strangler.permissions import can_flip
from strangler.services import Actor

MATCH_RATE_WINDOW = timedelta(hours=24)


class RouteForm(forms.ModelForm):
    methods = SimpleArrayField(
        forms.ChoiceField(choices=[(m, m) for m in HTTP_METHODS]),
        required=False,
        help_text="Comma-separated, e.g. GET,HEAD. Empty: every method.",
    )
    shadow_ignore_fields = SimpleArrayField(
        forms.CharField(max_length=100),
        required=False,
        help_text="Comma-separated JSON field names, e.g. updated_at,next.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required: why this change (kept in the timeline).",
    )

    class Meta:
        model = Route
        fields = [
            "prefix",
            "mode",
            "canary_percent",
            "methods",
            "enabled",
            "note",
            "shadow_ignore_fields",
        ]


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    form = RouteForm
    list_display = ["prefix", "decision", "enabled", "shadow_match", "last_change", "note"]
    list_filter = ["mode", "enabled"]
    search_fields = ["prefix", "note"]
    change_form_template = "admin/strangler/route/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_flip(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_flip(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # disable a route instead: its timeline stays

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["prefix"] if obj is not None else []

    def get_queryset(self, request: HttpRequest) -> QuerySet[Route]:
        self._match_rates = selectors.shadow_match_rates(timezone.now() - MATCH_RATE_WINDOW)
        return super().get_queryset(request).prefetch_related("changes")

    @admin.display(description="decision")
    def decision(self, route: Route) -> str:
        return describe(route.state())

    @admin.display(description="shadow match (24 h)")
    def shadow_match(self, route: Route) -> str:
        matching, total = getattr(self, "_match_rates", {}).get(route.pk, (0, 0))
        return f"{100 * matching / total:.1f} % of {total}" if total else "-"

    @admin.display(description="last change")
    def last_change(self, route: Route) -> str:
        change = max(route.changes.all(), key=lambda c: c.pk, default=None)
        if change is None:
            return "-"
        return f"{change.changed_at:%Y-%m-%d %H:%M} by {change.actor}"

    def save_model(self, request: HttpRequest, obj: Route, form: Any, change: bool) -> None:
        """Through the service: locked, recorded with the reason, cache refreshed."""
        toggles = {
            field: form.cleaned_data[field]
            for field in ("canary_percent", "methods", "enabled", "note", "shadow_ignore_fields")
        }
        services.route_ensure(
            obj.prefix,
            form.cleaned_data["mode"],
            actor=Actor.of(request.user),
            reason=form.cleaned_data["reason"],
            **toggles,
        )
        obj.pk = Route.objects.get(prefix=obj.prefix).pk

    def get_urls(self) -> list[URLPattern]:
        rollback = path(
            "<path:object_id>/rollback/",
            self.admin_site.admin_view(self.rollback_view),
            name="strangler_route_rollback",
        )
        return [rollback, *super().get_urls()]

    def rollback_view(self, request: HttpRequest, object_id: str) -> HttpResponseBase:
        """POST: puts the route back as it was before its latest change."""
        if request.method != "POST" or not can_flip(request.user):
            raise PermissionDenied
        route = get_object_or_404(Route, pk=object_id)
        try:
            change = services.route_rollback(
                route.pk,
                actor=Actor.of(request.user),
                reason=str(request.POST.get("reason", "")),
            )
        except services.RouteChangeRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
        else:
            self.message_user(
                request,
                f"{route.prefix}: rolled back to {describe(change.to_state)}.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:strangler_route_change", args=[route.pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        timeline = RouteChange.objects.filter(route_id=object_id).select_related("rollback_of")
        context = {
            **(extra_context or {}),
            "timeline": [
                (change, describe(change.from_state), describe(change.to_state))
                for change in timeline
            ],
            "can_flip": can_flip(request.user),
        }
        return super().change_view(request, object_id, form_url, context)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RouteChange)
class RouteChangeAdmin(ReadOnlyAdmin):
    """The timeline of every toggle change, newest first."""

    list_display = ["changed_at", "route_link", "actor", "from_to", "reason", "rollback_of"]
    list_filter = ["route", "actor"]
    search_fields = ["route__prefix", "actor", "reason"]
    date_hierarchy = "changed_at"
    list_select_related = ["route", "rollback_of"]

    @admin.display(description="route")
    def route_link(self, change: RouteChange) -> str:
        url = reverse("admin:strangler_route_change", args=[change.route_id])
        return format_html('<a href="{}">{}</a>', url, change.route.prefix)

    @admin.display(description="from → to")
    def from_to(self, change: RouteChange) -> str:
        return f"{describe(change.from_state)} → {describe(change.to_state)}"


@admin.register(ShadowComparison)
class ShadowComparisonAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "route",
        "method",
        "path",
        "legacy_status",
        "new_status",
        "matched",
    ]
    list_filter = ["matched", "route"]
    search_fields = ["path"]
    list_select_related = ["route"]
