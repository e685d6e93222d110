"""Shadow mode: legacy answers, the new side runs off the critical path, differences stored."""

import time

import pytest

from strangler import services
from strangler.models import ShadowComparison
from strangler.services import Actor
from tests.strangler import shadow_urls
from tests.strangler.conftest import read

# The comparison is written by the shadow pool's own thread and connection: commit for real.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(shadow_urls.__name__)]
ME = Actor("test")


@pytest.fixture(autouse=True)
def shadow_routes(strangler_on):
    shadow_urls.calls.clear()
    services.route_ensure(
        "/api/v1/products/", "shadow", shadow_ignore_fields=["updated_at"], actor=ME, reason="r"
    )
    services.route_ensure("/legacy/", "shadow", actor=ME, reason="r")


def comparisons(count, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = list(ShadowComparison.objects.order_by("id"))
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{count} comparisons expected, found {len(found)}")


def test_legacy_answers_and_equal_bodies_match_once_ignored_fields_are_left_out(client):
    response = client.get("/api/v1/products/")
    assert response["X-Served-By"] == "legacy"
    assert b'"sku": "LEG-0001"' in read(response), "legacy's own JSON formatting"
    [comparison] = comparisons(1)
    assert (comparison.matched, comparison.differences) == (True, [])
    assert (comparison.legacy_status, comparison.new_status) == (200, 200)
    assert (comparison.method, comparison.path) == ("GET", "/api/v1/products/")


def test_a_different_field_is_named_in_the_differences(client):
    read(client.get("/api/v1/products/?bump=1"))
    [comparison] = comparisons(1)
    assert comparison.matched is False
    assert comparison.differences == ["/results/0/price"]
    assert comparison.path == "/api/v1/products/?bump=1"


def test_without_the_ignore_rule_timestamps_differ(client):
    services.route_ensure(
        "/api/v1/products/", shadow_ignore_fields=[], actor=ME, reason="see everything"
    )
    read(client.get("/api/v1/products/"))
    [comparison] = comparisons(1)
    assert comparison.differences[0] == "/results/0/updated_at"
    assert len(comparison.differences) == 20


def test_a_status_difference_is_recorded(client):
    read(client.get("/legacy/account"))  # legacy: 302 to its login; the new side has no page
    [comparison] = comparisons(1)
    assert comparison.differences[0] == "status 302 vs 404"
    assert (comparison.legacy_status, comparison.new_status) == (302, 404)


def test_the_new_side_runs_off_the_critical_path(client):
    started = time.monotonic()
    response = client.get("/legacy/")
    body = read(response)
    assert time.monotonic() - started < 0.5, "the slow new side (1 s) did not delay legacy"
    assert b"Legacy Store" in body
    assert not ShadowComparison.objects.exists()
    [comparison] = comparisons(1)
    assert comparison.differences == ["body"]


def test_writes_are_never_shadowed(client):
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(
            "/legacy/echo", data=b"{}", content_type="application/json"
        )
        assert response.status_code == 200
        read(response)
    read(client.get("/legacy/echo"))  # a safe method in the same route is
    comparisons(1)
    time.sleep(0.3)
    assert ShadowComparison.objects.count() == 1
    assert shadow_urls.calls == [("GET", "/legacy/echo")]
