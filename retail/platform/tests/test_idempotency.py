"""Idempotency keys through a real DRF view whose effect is an outbox row (CONTRACT.md)."""

import json
import threading
import time
from collections import Counter
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import path
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.platform import outbox
from retail.platform.idempotency import idempotent
from retail.platform.models import IdempotencyKey, OutboxMessage
from retail.platform.problems import Problem
from retail.platform.tests.probe import ProbeHappened


class ScopeFromBearer(BaseAuthentication):
    def authenticate(self, request):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not token:
            raise NotAuthenticated()
        return SimpleNamespace(idempotency_scope=f"channel:{token}", is_authenticated=True), None


DEADLOCKED: list[int] = []


class EffectView(APIView):
    """Writes one outbox row per effect; ``outcome`` in the body picks what happens after it."""

    authentication_classes = [ScopeFromBearer]

    @idempotent
    def post(self, request):
        with transaction.atomic():
            message = outbox.emit(ProbeHappened(aggregate_id="idem", position=request.data["n"]))
        outcome = request.data.get("outcome", "created")
        time.sleep(request.data.get("sleep_s", 0))
        if outcome == "conflict":
            raise Problem(409, "out_of_stock", "nothing left", skus=["SKU-1"])
        if outcome == "crash":
            raise RuntimeError("the worker died")
        if outcome == "deadlock_once" and not DEADLOCKED:
            DEADLOCKED.append(request.data["n"])
            with connection.cursor() as cursor:  # PostgreSQL's own deadlock error (40P01)
                cursor.execute("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01'; END $$")
        return Response({"event_id": str(message.event_id), "n": request.data["n"]}, status=201)


urlpatterns = [path("api/v1/effects", EffectView.as_view())]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db(transaction=True)]


def post(client, body, key="key-1", channel="web"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {channel}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post("/api/v1/effects", data=body, content_type="application/json", **headers)


def problem_code(response):
    assert response["Content-Type"] == "application/problem+json"
    return json.loads(response.content)["code"]


def test_missing_key_is_400_and_nothing_happens(client):
    response = post(client, {"n": 1}, key=None)
    assert (response.status_code, problem_code(response)) == (400, "idempotency_key_missing")
    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize("bad_key", ["", "x" * 256, "clé", "tab\there"])
def test_malformed_key_is_400_invalid(client, bad_key):
    response = post(client, {"n": 1}, key=bad_key)
    assert (response.status_code, problem_code(response)) == (400, "idempotency_key_invalid")
    assert OutboxMessage.objects.count() == 0


def test_retry_replays_the_first_response_byte_for_byte_with_one_effect(client):
    first = post(client, {"n": 1})
    second = post(client, {"n": 1})
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert OutboxMessage.objects.count() == 1


def test_same_json_with_other_whitespace_or_key_order_is_the_same_request(client):
    post(client, {"n": 1, "outcome": "created"})
    replay = client.post(
        "/api/v1/effects",
        data='{ "outcome" : "created",\n "n": 1 }',
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer web",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )
    assert replay["Idempotent-Replayed"] == "true"
    assert OutboxMessage.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [b"[" * 50_000, b"[" * 65 + b"]" * 65, b'{"n": ' * 65 + b"1" + b"}" * 65],
    ids=["past-the-recursion-limit", "deep-list", "deep-object"],
)
def test_a_body_nested_too_deep_is_a_stored_400_not_a_500(client, body):
    response = client.post(
        "/api/v1/effects",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer web",
        HTTP_IDEMPOTENCY_KEY="deep",
    )
    assert (response.status_code, problem_code(response)) == (400, "malformed_json")
    assert OutboxMessage.objects.count() == 0


def test_same_key_with_another_body_is_422_reused(client):
    post(client, {"n": 1})
    response = post(client, {"n": 2})
    assert (response.status_code, problem_code(response)) == (422, "idempotency_key_reused")
    assert OutboxMessage.objects.count() == 1


def test_scopes_never_collide(client):
    assert post(client, {"n": 1}, channel="web").status_code == 201
    other = post(client, {"n": 2}, channel="app")
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert OutboxMessage.objects.count() == 2


def test_a_4xx_is_stored_and_replayed_and_its_partial_writes_are_rolled_back(client):
    first = post(client, {"n": 1, "outcome": "conflict"})
    assert (first.status_code, problem_code(first)) == (409, "out_of_stock")
    assert json.loads(first.content)["skus"] == ["SKU-1"]
    replay = post(client, {"n": 1, "outcome": "conflict"})
    assert replay.content == first.content
    assert replay["Idempotent-Replayed"] == "true"
    assert OutboxMessage.objects.count() == 0  # the emit before the 409 did not survive


def test_a_5xx_stores_nothing_and_the_retry_runs_afresh():
    client = Client(raise_request_exception=False)
    crashed = post(client, {"n": 1, "outcome": "crash"})
    assert crashed.status_code == 500
    assert IdempotencyKey.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    retried = post(client, {"n": 1, "outcome": "crash"})
    assert retried.status_code == 500
    assert "Idempotent-Replayed" not in retried


def test_a_deadlock_victim_is_run_again_and_has_one_effect(client):
    DEADLOCKED.clear()
    response = post(client, {"n": 5, "outcome": "deadlock_once"})
    assert response.status_code == 201
    assert DEADLOCKED == [5]  # the first attempt really did die
    assert OutboxMessage.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_an_expired_key_is_free_again(client, settings):
    settings.IDEMPOTENCY_KEY_TTL_S = -1  # stored already expired
    post(client, {"n": 1})
    again = post(client, {"n": 1})
    assert "Idempotent-Replayed" not in again
    assert OutboxMessage.objects.count() == 2


def test_fifty_concurrent_requests_with_one_key_make_one_effect():
    """Fault 9: the rest are 409 in use or replays of the one response."""
    barrier = threading.Barrier(50)
    responses = []

    def request():
        client = Client()
        barrier.wait()
        responses.append(post(client, {"n": 7, "sleep_s": 0.3}, key="shared"))
        connection.close()

    threads = [threading.Thread(target=request) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(responses) == 50
    assert OutboxMessage.objects.count() == 1
    statuses = Counter(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}
    created = [r for r in responses if r.status_code == 201]
    assert len([r for r in created if "Idempotent-Replayed" not in r]) == 1
    assert len({r.content for r in created}) == 1
    in_use = [r for r in responses if r.status_code == 409]
    assert all(problem_code(r) == "idempotency_key_in_use" for r in in_use)
    assert statuses[409] > 0  # the twins really did overlap the first request
