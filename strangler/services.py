"""Writes: route toggles (recorded, reasoned, reversible) and shadow comparison results."""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from strangler.domain import Mode
from strangler.models import Route, RouteChange, ShadowComparison
from strangler.route_cache import route_cache

TOGGLE_FIELDS = ("mode", "canary_percent", "methods", "enabled", "note", "shadow_ignore_fields")
LIST_FIELDS = ("methods", "shadow_ignore_fields")


class RouteChangeRefused(Exception):
    """A change that may not be made: no reason given, nothing to roll back."""


@dataclass(frozen=True)
class Actor:
    """Who changes a route: a staff user in admin, or someone at a shell."""

    name: str
    user: User | None = None

    @classmethod
    def of(cls, user: User | AnonymousUser) -> Actor:
        assert isinstance(user, User), "an anonymous user changes no route"
        return cls(user.get_username(), user)

    @classmethod
    def cli(cls) -> Actor:
        return cls(f"cli:{getpass.getuser()}")


def _required_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise RouteChangeRefused("Every route change needs a reason.")
    return reason


def _record(
    route: Route,
    before: dict[str, Any] | None,
    actor: Actor,
    reason: str,
    rollback_of: RouteChange | None = None,
) -> RouteChange:
    route.full_clean()
    route.save()
    return RouteChange.objects.create(
        route=route,
        actor=actor.name,
        user=actor.user,
        from_state=before,
        to_state=route.state(),
        reason=reason,
        rollback_of=rollback_of,
    )


def route_ensure(
    prefix: str, mode: Mode | str | None = None, *, actor: Actor, reason: str, **toggles: Any
) -> RouteChange | None:
    """Creates the route at ``prefix`` or changes its toggles (``canary_percent``, ``methods``,
    ``enabled``, ``note``, ``shadow_ignore_fields``) and records the change. Idempotent: when
    nothing would change, nothing is written and None is returned.
    """
    reason = _required_reason(reason)
    unknown = set(toggles) - set(TOGGLE_FIELDS)
    if unknown:
        raise TypeError(f"not route toggles: {sorted(unknown)}")
    if mode is not None:
        toggles["mode"] = Mode(mode).value
    with transaction.atomic():
        route = Route.objects.select_for_update().filter(prefix=prefix).first()
        before = None if route is None else route.state()
        if route is None:
            route = Route(prefix=prefix, mode=Mode.LEGACY.value)
        for field, value in toggles.items():
            setattr(route, field, sorted(value) if field in LIST_FIELDS else value)
        if before == route.state():
            return None
        change = _record(route, before, actor, reason)
    route_cache.invalidate()
    return change


def route_rollback(route_id: int, *, actor: Actor, reason: str = "") -> RouteChange:
    """Puts the route back as it was before its latest change (that change may itself be a
    rollback: rolling back twice redoes). A route that did not exist before is disabled.
    """
    with transaction.atomic():
        route = Route.objects.select_for_update().get(pk=route_id)
        last = route.changes.order_by("-id").first()
        if last is None:
            raise RouteChangeRefused(f"{route.prefix} has no change to roll back.")
        before = route.state()
        target = last.from_state or {**before, "enabled": False}
        for field in TOGGLE_FIELDS:
            setattr(route, field, target[field])
        reason = reason.strip() or f"Rollback of change #{last.pk} ({last.reason})"
        change = _record(route, before, actor, reason, rollback_of=last)
    route_cache.invalidate()
    return change


def routes_ensure_defaults(*, actor: Actor, reason: str) -> list[RouteChange]:
    """Applies ``STRANGLER_DEFAULT_ROUTES`` (prefix, mode); idempotent."""
    changes = (
        route_ensure(prefix, mode, actor=actor, reason=reason, enabled=True)
        for prefix, mode in settings.STRANGLER_DEFAULT_ROUTES
    )
    return [change for change in changes if change is not None]


def shadow_comparison_record(
    *,
    route_id: int,
    method: str,
    path: str,
    legacy_status: int,
    new_status: int | None,
    differences: Iterable[str],
) -> ShadowComparison:
    differences = list(differences)
    return ShadowComparison.objects.create(
        route_id=route_id,
        method=method,
        path=path[:2000],
        legacy_status=legacy_status,
        new_status=new_status,
        matched=not differences,
        differences=differences,
    )
