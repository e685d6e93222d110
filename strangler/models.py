"""The route table, its change records and the shadow comparisons."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from strangler.domain import HTTP_METHODS, Mode

PREFIX_VALIDATOR = RegexValidator(r"^/[^\s?#]*$", "A path prefix starts with / and has no query.")


class Route(models.Model):
    """Where requests whose path starts with ``prefix`` go (the longest matching prefix wins)."""

    prefix = models.CharField(max_length=200, unique=True, validators=[PREFIX_VALIDATOR])
    methods = ArrayField(
        models.CharField(max_length=10, choices=[(m, m) for m in HTTP_METHODS]),
        default=list,
        blank=True,
        help_text="Methods this route applies to; empty means all. Others fall through to a "
        "shorter prefix.",
    )
    mode = models.CharField(max_length=10, choices=[(m.value, m.value) for m in Mode])
    canary_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="canary only: share of clients (0-100) sent to the new side",
    )
    enabled = models.BooleanField(default=True, help_text="A disabled route is ignored.")
    note = models.TextField(blank=True)
    shadow_ignore_fields = ArrayField(
        models.CharField(max_length=100),
        default=list,
        blank=True,
        help_text="shadow only: JSON field names left out of the comparison, at any depth "
        "(timestamps, ids).",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["prefix"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(canary_percent__lte=100), name="route_canary_percent_max_100"
            ),
            models.CheckConstraint(
                condition=models.Q(prefix__startswith="/"), name="route_prefix_starts_with_slash"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} → {self.mode}"

    def state(self) -> dict[str, Any]:
        """The toggle fields, as recorded before and after every change."""
        return {
            "mode": self.mode,
            "canary_percent": self.canary_percent,
            "methods": sorted(self.methods),
            "enabled": self.enabled,
            "note": self.note,
            "shadow_ignore_fields": sorted(self.shadow_ignore_fields),
        }


class RouteChange(models.Model):
    """One toggle change: who, when, from → to, and why. Append-only."""

    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="changes")
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(max_length=150, help_text="user name, or cli:<name> from a shell")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    from_state = models.JSONField(null=True, blank=True, help_text="empty: the route was created")
    to_state = models.JSONField()
    reason = models.TextField()
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rolled_back_by"
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="route_change_has_reason")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.route.prefix} by {self.actor}"


class ShadowComparison(models.Model):
    """Legacy's and the new side's answers to one shadowed request, compared."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="comparisons")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    legacy_status = models.PositiveSmallIntegerField()
    new_status = models.PositiveSmallIntegerField(null=True, blank=True)
    matched = models.BooleanField()
    differences = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["route", "created_at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {'match' if self.matched else 'differs'}"


class RouteTableStamp(models.Model):
    """One row, bumped by a database trigger on every write to the route table.

    Workers compare it with the stamp of their cached table (strangler.route_cache).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"route table v{self.version}"
