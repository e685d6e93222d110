"""Route changes: recorded with who/when/from/to/why, idempotent, reversible."""

import pytest
from django.core.exceptions import ValidationError

from strangler import services
from strangler.models import Route, RouteChange
from strangler.services import Actor, RouteChangeRefused

pytestmark = pytest.mark.django_db
ALICE = Actor("alice")


def test_creating_a_route_records_a_change_from_nothing():
    change = services.route_ensure("/api/v1/", "new", actor=ALICE, reason="checkout is ready")
    assert change.from_state is None
    assert change.to_state["mode"] == "new"
    assert (change.actor, change.reason) == ("alice", "checkout is ready")
    assert change.changed_at is not None


def test_ensuring_the_same_state_again_writes_nothing():
    services.route_ensure("/api/v1/", "new", actor=ALICE, reason="first")
    assert services.route_ensure("/api/v1/", "new", actor=ALICE, reason="again") is None
    assert RouteChange.objects.count() == 1


def test_a_flip_records_from_and_to():
    services.route_ensure("/api/v1/", "legacy", actor=ALICE, reason="start")
    change = services.route_ensure(
        "/api/v1/", "canary", canary_percent=10, actor=Actor("bob"), reason="10 % canary"
    )
    assert change.from_state["mode"] == "legacy"
    assert (change.to_state["mode"], change.to_state["canary_percent"]) == ("canary", 10)
    assert Route.objects.get(prefix="/api/v1/").history.count() == 2


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_change_without_a_reason_is_refused_and_changes_nothing(reason):
    with pytest.raises(RouteChangeRefused):
        services.route_ensure("/api/v1/", "new", actor=ALICE, reason=reason)
    assert not Route.objects.exists()


@pytest.mark.parametrize(
    ("prefix", "toggles"),
    [("api/v1/", {}), ("/x/", {"canary_percent": 101}), ("/x/", {"methods": ["BREW"]})],
)
def test_invalid_routes_are_refused(prefix, toggles):
    with pytest.raises(ValidationError):
        services.route_ensure(prefix, "canary", actor=ALICE, reason="r", **toggles)
    assert not RouteChange.objects.exists()


def test_rollback_restores_the_previous_state_and_is_itself_recorded():
    services.route_ensure("/api/v1/", "legacy", actor=ALICE, reason="start")
    flip = services.route_ensure("/api/v1/", "new", actor=ALICE, reason="go")
    route = Route.objects.get(prefix="/api/v1/")

    undo = services.route_rollback(route.pk, actor=Actor("bob"))

    route.refresh_from_db()
    assert route.mode == "legacy"
    assert undo.rollback_of == flip
    assert (undo.from_state["mode"], undo.to_state["mode"]) == ("new", "legacy")
    assert f"#{flip.pk}" in undo.reason


def test_rolling_back_twice_redoes_the_change():
    services.route_ensure("/api/v1/", "legacy", actor=ALICE, reason="start")
    services.route_ensure("/api/v1/", "new", actor=ALICE, reason="go")
    route = Route.objects.get(prefix="/api/v1/")
    services.route_rollback(route.pk, actor=ALICE)
    services.route_rollback(route.pk, actor=ALICE)
    route.refresh_from_db()
    assert route.mode == "new"


def test_rolling_back_a_creation_disables_the_route():
    services.route_ensure("/new-thing/", "new", actor=ALICE, reason="try it")
    route = Route.objects.get(prefix="/new-thing/")
    services.route_rollback(route.pk, actor=ALICE)
    route.refresh_from_db()
    assert (route.enabled, route.mode) == (False, "new")


def test_defaults_are_applied_idempotently(settings):
    settings.STRANGLER_DEFAULT_ROUTES = [("/api/v1/", "new"), ("/legacy/", "legacy")]
    services.route_ensure("/api/v1/", "legacy", actor=ALICE, reason="someone flipped it")
    changes = services.routes_ensure_defaults(actor=ALICE, reason="defaults")
    assert [c.to_state["mode"] for c in changes] == ["new", "legacy"]
    assert services.routes_ensure_defaults(actor=ALICE, reason="defaults") == []
    assert dict(Route.objects.values_list("prefix", "mode")) == {
        "/api/v1/": "new",
        "/legacy/": "legacy",
    }
