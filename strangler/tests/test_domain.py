"""Pure rules: longest prefix, operational paths, canary buckets, header hygiene, diffs."""

import uuid

import pytest

from strangler.domain import (
    Mode,
    RouteRule,
    RouteTable,
    Side,
    body_differences,
    canary_bucket,
    decide,
    end_to_end,
    is_canonical_target,
    is_operational,
    rewrite_location,
)

OPERATIONAL = ["/admin/", "/api/schema/", "/healthz", "/metrics", "/webhooks/", "/static/"]


def rule(prefix, mode=Mode.NEW, methods=(), percent=0):
    return RouteRule(
        route_id=1, prefix=prefix, mode=mode, methods=frozenset(methods), canary_percent=percent
    )


def test_the_longest_matching_prefix_wins_whatever_the_order():
    table = RouteTable([rule("/api/", Mode.LEGACY), rule("/api/v1/orders/"), rule("/api/v1/")])
    assert table.match("/api/v1/orders/12/", "GET").prefix == "/api/v1/orders/"
    assert table.match("/api/v1/products/", "GET").prefix == "/api/v1/"
    assert table.match("/api/v2/", "GET").prefix == "/api/"
    assert table.match("/legacy/", "GET") is None


def test_a_route_limited_to_methods_lets_other_methods_fall_through_to_a_shorter_prefix():
    table = RouteTable(
        [rule("/api/v1/orders/", methods={"GET", "HEAD"}), rule("/api/", Mode.LEGACY)]
    )
    assert table.match("/api/v1/orders/", "GET").prefix == "/api/v1/orders/"
    assert table.match("/api/v1/orders/", "POST").prefix == "/api/"


def test_no_route_means_legacy():
    assert decide(None, None) == (Side.LEGACY, False)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (Mode.LEGACY, (Side.LEGACY, False)),
        (Mode.NEW, (Side.NEW, False)),
        (Mode.SHADOW, (Side.LEGACY, True)),
    ],
)
def test_modes_decide_who_answers(mode, expected):
    assert decide(rule("/x/", mode), None) == expected


@pytest.mark.parametrize(
    ("path", "operational"),
    [
        ("/admin/", True),
        ("/admin/strangler/route/", True),
        ("/healthz", True),
        ("/healthz/", True),
        ("/healthzz", False),
        ("/metrics", True),
        ("/static/admin/css/base.css", True),
        ("/webhooks/psp", True),
        ("/admin", False),
        ("/api/v1/products/", False),
        ("/legacy/", False),
    ],
)
def test_operational_paths(path, operational):
    assert is_operational(path, OPERATIONAL) is operational


def test_canary_at_ten_percent_sends_ten_percent_of_2000_clients_to_new_side():
    clients = [uuid.uuid4().hex for _ in range(2000)]
    canary = rule("/api/", Mode.CANARY, percent=10)
    to_new = sum(decide(canary, client)[0] is Side.NEW for client in clients)
    assert 0.07 * 2000 <= to_new <= 0.13 * 2000


def test_raising_the_percent_keeps_every_earlier_assignment_and_each_client_stays_put():
    clients = [uuid.uuid4().hex for _ in range(2000)]
    sides = {
        percent: {c: decide(rule("/a/", Mode.CANARY, percent=percent), c)[0] for c in clients}
        for percent in (0, 10, 25, 50, 100)
    }
    assert set(sides[0].values()) == {Side.LEGACY}
    assert set(sides[100].values()) == {Side.NEW}
    for lower, higher in ((10, 25), (25, 50)):
        earlier_new = {c for c, side in sides[lower].items() if side is Side.NEW}
        assert all(sides[higher][c] is Side.NEW for c in earlier_new)
    assert all(canary_bucket(c) == canary_bucket(c) for c in clients[:50])


def test_hop_by_hop_headers_and_those_named_in_connection_are_dropped():
    headers = [
        ("Connection", "keep-alive, X-Secret-Hop"),
        ("X-Secret-Hop", "1"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("TE", "trailers"),
        ("Trailer", "X-Checksum"),
        ("Upgrade", "h2c"),
        ("Proxy-Authorization", "Basic eA=="),
        ("Proxy-Connection", "keep-alive"),
        ("Content-Type", "text/plain"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]
    assert end_to_end(headers) == [
        ("Content-Type", "text/plain"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]


@pytest.mark.parametrize(
    ("location", "rewritten"),
    [
        ("http://legacy:8090/legacy/account?x=1", "https://shop.example/legacy/account?x=1"),
        ("http://LEGACY:8090/legacy/", "https://shop.example/legacy/"),
        ("/legacy/login?next=/legacy/account", "/legacy/login?next=/legacy/account"),
        ("https://elsewhere.example/x", "https://elsewhere.example/x"),
        ("http://legacy:9999/x", "http://legacy:9999/x"),
    ],
)
def test_redirects_to_the_legacy_host_point_at_the_public_host(location, rewritten):
    assert rewrite_location(location, "http://legacy:8090", "https://shop.example") == rewritten


def test_json_bodies_compare_without_ignored_fields_at_any_depth():
    legacy = b'{"results": [{"sku": "A", "price": 100, "updated_at": "2020"}], "next": null}'
    same = b'{"next": null, "results": [{"updated_at": "2026", "price": 100, "sku": "A"}]}'
    other = b'{"results": [{"sku": "A", "price": 101}], "next": "x", "extra": 1}'
    ignored = frozenset({"updated_at"})
    assert body_differences(legacy, same, ignored) == []
    assert body_differences(legacy, same, frozenset()) == ["/results/0/updated_at"]
    assert body_differences(legacy, other, ignored) == ["/extra", "/next", "/results/0/price"]


def test_non_json_bodies_compare_byte_for_byte():
    assert body_differences(b"<p>a</p>", b"<p>a</p>", frozenset()) == []
    assert body_differences(b"<p>a</p>", b"<p>b</p>", frozenset()) == ["body"]


def test_bodies_too_deep_to_walk_compare_byte_for_byte():
    deep = b"[" * 5_000 + b"]" * 5_000
    assert body_differences(deep, deep, frozenset()) == []
    assert body_differences(deep, b"[]", frozenset()) == ["body"]


@pytest.mark.parametrize(
    ("target", "canonical"),
    [
        ("/legacy/page?next=/a/../b", True),  # the query is not routed
        ("/api/v1/orders/", True),
        ("/legacy/../api/v1/orders/", False),
        ("/legacy/..", False),
        ("/./legacy/", False),
        ("//legacy/", False),
        ("/legacy/%2E%2e/api/", False),
        ("/legacy%2Fapi", False),
        ("/legacy\\..\\api", False),
    ],
)
def test_a_target_is_canonical_when_routing_and_serving_see_one_path(target, canonical):
    assert is_canonical_target(target) is canonical
