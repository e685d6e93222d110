"""``manage.py route_set``: flips from a shell, recorded like admin changes."""

import getpass

import pytest
from django.core.management import CommandError, call_command

from strangler.models import Route, RouteChange

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("route_set", *args, stdout=out)
    return out.getvalue()


def test_defaults_are_applied_once_and_then_left_alone():
    assert "2 changed" in run("--defaults")
    assert "0 changed" in run("--defaults")
    assert dict(Route.objects.values_list("prefix", "mode")) == {
        "/api/v1/": "new",
        "/legacy/": "legacy",
    }
    assert set(RouteChange.objects.values_list("actor", flat=True)) == {f"cli:{getpass.getuser()}"}


def test_a_flip_needs_a_reason():
    with pytest.raises(CommandError, match="reason"):
        run("/api/v1/", "new")
    assert not Route.objects.exists()


def test_a_canary_flip_then_a_rollback():
    run("/api/v1/orders/", "legacy", "--reason", "start")
    out = run(
        "/api/v1/orders/", "canary", "--percent", "10", "--methods", "GET,HEAD", "--reason", "try"
    )
    assert "legacy → canary 10 % [GET, HEAD]" in out
    assert "rolled back to legacy" in run("/api/v1/orders/", "--rollback")
    assert Route.objects.get(prefix="/api/v1/orders/").mode == "legacy"


def test_invalid_input_is_a_command_error_not_a_traceback():
    with pytest.raises(CommandError):
        run("no-slash/", "new", "--reason", "r")
    with pytest.raises(CommandError):
        run("/x/", "canary", "--percent", "150", "--reason", "r")
