"""The per-process route table cache and the database stamp it follows."""

import time

import pytest

from strangler import selectors, services
from strangler.domain import Mode
from strangler.models import Route
from strangler.route_cache import RouteCache
from strangler.services import Actor

pytestmark = pytest.mark.django_db
ALICE = Actor("alice")


def test_an_empty_table_means_the_configured_defaults(settings):
    settings.STRANGLER_DEFAULT_ROUTES = [("/api/v1/", "new"), ("/legacy/", "legacy")]
    table = RouteCache().table()
    assert table.match("/api/v1/products/", "GET").mode is Mode.NEW
    assert table.match("/legacy/", "GET").mode is Mode.LEGACY
    assert table.match("/elsewhere", "GET") is None


def test_once_written_the_table_alone_decides_and_disabled_routes_are_ignored():
    services.route_ensure("/legacy/", "legacy", actor=ALICE, reason="r")
    services.route_ensure("/api/", "new", actor=ALICE, reason="r", enabled=False)
    table = RouteCache().table()
    assert table.match("/api/v1/products/", "GET") is None, "not the defaults any more"
    assert len(table) == 1


def test_every_write_moves_the_stamp_even_one_that_bypasses_the_services():
    services.route_ensure("/api/", "legacy", actor=ALICE, reason="r")
    before = selectors.route_table_stamp()
    Route.objects.filter(prefix="/api/").update(mode="new")
    after_update = selectors.route_table_stamp()
    Route.objects.create(prefix="/other/", mode="new")
    after_insert = selectors.route_table_stamp()
    Route.objects.filter(prefix="/other/").delete()
    after_delete = selectors.route_table_stamp()
    assert before < after_update < after_insert < after_delete


def test_a_change_reaches_the_cache_after_the_refresh_interval_not_before(settings):
    settings.STRANGLER_ROUTE_REFRESH_S = 0.3
    services.route_ensure("/api/", "legacy", actor=ALICE, reason="r")
    cache = RouteCache()
    assert cache.table().match("/api/x", "GET").mode is Mode.LEGACY
    Route.objects.filter(prefix="/api/").update(mode="new")  # no invalidation in this process
    assert cache.table().match("/api/x", "GET").mode is Mode.LEGACY
    time.sleep(0.35)
    assert cache.table().match("/api/x", "GET").mode is Mode.NEW


def test_the_cached_check_costs_microseconds_and_the_stamp_read_well_under_a_millisecond():
    for n in range(20):
        services.route_ensure(f"/r{n}/", "new", actor=ALICE, reason="r")
    cache = RouteCache()
    cache.table()
    calls = 50_000
    started = time.perf_counter()
    for _ in range(calls):
        cache.table().match("/r19/deep/path", "GET")
    per_request_us = (time.perf_counter() - started) / calls * 1e6
    started = time.perf_counter()
    for _ in range(200):
        selectors.route_table_stamp()
    stamp_us = (time.perf_counter() - started) / 200 * 1e6
    print(f"cached check + match over 20 routes: {per_request_us:.2f} µs; stamp: {stamp_us:.0f} µs")
    assert per_request_us < 50
    assert stamp_us < 5000
