"""Canary through the middleware, with the real legacy process answering the other side."""

import uuid

import pytest

from strangler import services
from strangler.canary import CLIENT_COOKIE
from strangler.services import Actor
from tests.strangler.conftest import read

pytestmark = pytest.mark.django_db
ME = Actor("test")
PATH = "/api/v1/products/"


def canary(percent):
    services.route_ensure("/api/v1/", "canary", canary_percent=percent, actor=ME, reason="canary")


def served_by(client, **extra):
    response = client.get(PATH, **extra)
    read(response)
    return response["X-Served-By"]


def test_ten_percent_of_2000_clients_go_to_the_new_side_and_each_stays_put(client, strangler_on):
    canary(10)
    clients = [uuid.uuid4().hex for _ in range(2000)]
    first = {c: served_by(client, HTTP_X_CLIENT_ID=c) for c in clients}
    new_share = sum(side == "new" for side in first.values()) / len(clients)
    assert 0.07 <= new_share <= 0.13, new_share
    assert set(first.values()) == {"new", "legacy"}
    again = {c: served_by(client, HTTP_X_CLIENT_ID=c) for c in clients[:300]}
    assert all(again[c] == first[c] for c in again)

    canary(30)
    earlier_new = [c for c in clients if first[c] == "new"]
    assert {served_by(client, HTTP_X_CLIENT_ID=c) for c in earlier_new} == {"new"}, "none go back"


def test_without_a_header_the_first_decision_sets_a_cookie_that_keeps_the_client(
    client, strangler_on
):
    canary(50)
    first = client.get(PATH, REMOTE_ADDR="198.51.100.7")
    read(first)
    cookie = first.cookies[CLIENT_COOKIE]
    assert cookie["httponly"]
    assert cookie["max-age"] == 365 * 24 * 3600
    for address in ("198.51.100.7", "203.0.113.200", "192.0.2.1"):  # the client moves networks
        response = client.get(PATH, REMOTE_ADDR=address)
        read(response)
        assert response["X-Served-By"] == first["X-Served-By"]
        assert CLIENT_COOKIE not in response.cookies, "set once"


def test_clients_that_drop_cookies_are_kept_by_their_address(client, strangler_on):
    canary(50)
    for n in range(20):
        address = f"198.51.100.{n}"
        sides = set()
        for _ in range(3):
            client.cookies.clear()
            sides.add(served_by(client, REMOTE_ADDR=address))
        assert len(sides) == 1, address


def test_the_canary_header_wins_over_the_cookie(client, strangler_on):
    canary(50)
    ids = [uuid.uuid4().hex for _ in range(40)]
    by_header = {i: served_by(client, HTTP_X_CLIENT_ID=i) for i in ids}
    client.cookies[CLIENT_COOKIE] = "some-cookie-client"
    assert all(served_by(client, HTTP_X_CLIENT_ID=i) == by_header[i] for i in ids)
