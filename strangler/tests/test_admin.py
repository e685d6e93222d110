"""Admin: only engineers flip toggles, every flip needs a reason, rollback is one click."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User

from strangler import services
from strangler.models import Route, RouteChange
from strangler.permissions import ENGINEER_PERMISSIONS, engineer_group_ensure
from strangler.services import Actor

pytestmark = pytest.mark.django_db
ROUTES = "/admin/strangler/route/"


def staff(username, *groups, superuser=False):
    user = User.objects.create_user(
        username, password="pw-123456", is_staff=True, is_superuser=superuser
    )
    user.groups.add(*groups)
    return user


@pytest.fixture
def engineer():
    return staff("erin", engineer_group_ensure(apps))


@pytest.fixture
def auditor():
    group = Group.objects.create(name="auditor-test")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="strangler", codename__startswith="view_"
        )
    )
    return staff("audrey", group)


@pytest.fixture
def api_route():
    services.route_ensure("/api/v1/", "legacy", actor=Actor("setup"), reason="initial")
    return Route.objects.get(prefix="/api/v1/")


def form(route_mode="new", reason="checkout verified in shadow", **overrides):
    return {
        "prefix": "/api/v1/",
        "mode": route_mode,
        "canary_percent": "0",
        "methods": "",
        "enabled": "on",
        "note": "",
        "shadow_ignore_fields": "",
        "reason": reason,
        **overrides,
    }


def test_the_engineer_group_holds_exactly_the_route_permissions_and_is_idempotent():
    group = engineer_group_ensure(apps)
    again = engineer_group_ensure(apps)
    assert group.pk == again.pk
    assert sorted(group.permissions.values_list("codename", flat=True)) == sorted(
        ENGINEER_PERMISSIONS
    )


def test_an_engineer_flips_a_route_and_the_change_is_recorded(client, engineer, api_route):
    client.force_login(engineer)
    response = client.post(f"{ROUTES}{api_route.pk}/change/", form("new"))
    assert response.status_code == 302
    api_route.refresh_from_db()
    assert api_route.mode == "new"
    change = RouteChange.objects.first()
    assert (change.actor, change.user, change.reason) == (
        "erin",
        engineer,
        "checkout verified in shadow",
    )
    assert (change.from_state["mode"], change.to_state["mode"]) == ("legacy", "new")
    assert api_route.history.first().history_user == engineer


def test_an_engineer_adds_a_canary_route(client, engineer):
    client.force_login(engineer)
    data = form("canary", prefix="/api/v1/orders/", canary_percent="10", methods="GET,HEAD")
    assert client.post(f"{ROUTES}add/", data).status_code == 302
    route = Route.objects.get(prefix="/api/v1/orders/")
    assert (route.mode, route.canary_percent, route.methods) == ("canary", 10, ["GET", "HEAD"])


def test_a_flip_without_a_reason_is_refused_and_changes_nothing(client, engineer, api_route):
    client.force_login(engineer)
    response = client.post(f"{ROUTES}{api_route.pk}/change/", form("new", reason=""))
    assert response.status_code == 200
    assert b"This field is required" in response.content
    api_route.refresh_from_db()
    assert api_route.mode == "legacy"
    assert RouteChange.objects.count() == 1


@pytest.mark.parametrize("who", ["auditor", "plain_staff", "superuser_not_engineer"])
def test_nobody_but_an_engineer_can_flip_or_roll_back(client, who, auditor, api_route):
    user = {
        "auditor": auditor,
        "plain_staff": staff("sam"),
        "superuser_not_engineer": staff("root", superuser=True),
    }[who]
    client.force_login(user)
    assert client.post(f"{ROUTES}{api_route.pk}/change/", form("new")).status_code == 403
    assert client.post(f"{ROUTES}add/", form("new", prefix="/x/")).status_code == 403
    assert client.post(f"{ROUTES}{api_route.pk}/rollback/").status_code == 403
    api_route.refresh_from_db()
    assert api_route.mode == "legacy"
    assert RouteChange.objects.count() == 1
    assert not Route.objects.filter(prefix="/x/").exists()


def test_an_auditor_sees_the_routes_and_the_timeline_without_a_rollback_button(
    client, auditor, api_route
):
    client.force_login(auditor)
    assert client.get(ROUTES).status_code == 200
    page = client.get(f"{ROUTES}{api_route.pk}/change/")
    assert page.status_code == 200
    assert b"Timeline of /api/v1/" in page.content
    assert b"initial" in page.content
    assert b"Roll back the latest change" not in page.content
    assert client.get("/admin/strangler/routechange/").status_code == 200


def test_staff_without_permissions_do_not_even_see_the_routes(client):
    client.force_login(staff("sam"))
    assert client.get(ROUTES).status_code == 403


def test_one_click_rollback_restores_the_previous_state_and_shows_in_the_timeline(
    client, engineer, api_route
):
    client.force_login(engineer)
    client.post(f"{ROUTES}{api_route.pk}/change/", form("new"))
    flip = RouteChange.objects.first()

    response = client.post(f"{ROUTES}{api_route.pk}/rollback/")

    assert response.status_code == 302
    api_route.refresh_from_db()
    assert api_route.mode == "legacy"
    undo = RouteChange.objects.first()
    assert (undo.rollback_of, undo.actor) == (flip, "erin")
    page = client.get(f"{ROUTES}{api_route.pk}/change/").content.decode()
    assert f"(rollback of #{flip.pk})" in page
    assert "new → legacy" in page
    assert "Roll back the latest change" in page


def test_routes_cannot_be_deleted_only_disabled(client, engineer, api_route):
    client.force_login(engineer)
    assert client.post(f"{ROUTES}{api_route.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Route.objects.filter(pk=api_route.pk).exists()


def test_the_route_list_shows_the_shadow_match_rate(client, engineer):
    services.route_ensure("/legacy/", "shadow", actor=Actor("setup"), reason="compare")
    route = Route.objects.get(prefix="/legacy/")
    for matched in (True, True, True, False):
        services.shadow_comparison_record(
            route_id=route.pk,
            method="GET",
            path="/legacy/",
            legacy_status=200,
            new_status=200,
            differences=[] if matched else ["body"],
        )
    client.force_login(engineer)
    assert "75.0 % of 4" in client.get(ROUTES).content.decode()
