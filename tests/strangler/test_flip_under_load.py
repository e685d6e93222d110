"""Flipping a route while gunicorn is under load: nothing lost, every worker follows in 2 s."""

import threading
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest

from strangler import services
from strangler.models import Route
from strangler.services import Actor

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]
ME = Actor("load-test")
PROPAGATION_LIMIT_S = 2.0
# A request's route is decided when a worker handles it, a moment after the client started it:
# one started just before the flip or the rollback may be decided just after it.
IN_FLIGHT_S = 0.5
THREADS = 12


@dataclass
class Outcome:
    path: str
    started: float
    status: int | None = None
    served_by: str | None = None
    content_type: str | None = None
    error: str | None = None


def load(url, stop, outcomes):
    # No keep-alive: every request may land on any of the gunicorn workers.
    with httpx.Client(
        base_url=url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
    ) as client:
        client_id = uuid.uuid4().hex
        n = 0
        while not stop.is_set():
            n += 1
            path = "/legacy/echo" if n % 4 == 0 else "/api/v1/products/"
            outcome = Outcome(path, time.monotonic())
            try:
                response = client.get(path, headers={"X-Client-Id": client_id})
                outcome.status = response.status_code
                outcome.served_by = response.headers.get("X-Served-By")
                outcome.content_type = response.headers.get("Content-Type")
            except httpx.HTTPError as error:
                outcome.error = repr(error)
            outcomes.append(outcome)


def wait_until_served_by(url, side, timeout_s=20):
    deadline = time.monotonic() + timeout_s
    streak = 0
    while streak < 30:
        assert time.monotonic() < deadline, f"never served by {side}"
        served = httpx.get(f"{url}/api/v1/products/").headers["X-Served-By"]
        streak = streak + 1 if served == side else 0


def test_a_flip_and_its_rollback_under_load_lose_nothing_and_apply_within_two_seconds(gunicorn):
    services.route_ensure("/api/v1/", "legacy", actor=ME, reason="before the move")
    services.route_ensure("/legacy/", "legacy", actor=ME, reason="stays")
    wait_until_served_by(gunicorn.url, "legacy")

    stop, outcomes = threading.Event(), []
    threads = [
        threading.Thread(target=load, args=(gunicorn.url, stop, outcomes)) for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    before_flip = time.monotonic()
    services.route_ensure("/api/v1/", "new", actor=ME, reason="the move")
    flipped = time.monotonic()
    time.sleep(3.0)
    before_rollback = time.monotonic()
    route = Route.objects.get(prefix="/api/v1/")
    services.route_rollback(route.pk, actor=ME, reason="and back")
    rolled_back = time.monotonic()
    time.sleep(3.0)
    stop.set()
    for thread in threads:
        thread.join()

    assert [o.error for o in outcomes if o.error] == [], "no request lost"
    assert len(outcomes) > 200
    for outcome in outcomes:
        if outcome.served_by == "legacy":
            assert outcome.status == 200
        else:
            assert outcome.served_by == "new"
            assert (outcome.status, outcome.content_type) == (401, "application/problem+json")
    assert {o.served_by for o in outcomes if o.path == "/legacy/echo"} == {"legacy"}

    products = [o for o in outcomes if o.path == "/api/v1/products/"]
    assert {o.served_by for o in products if o.started < before_flip - IN_FLIGHT_S} == {"legacy"}
    settled_new = [
        o
        for o in products
        if flipped + PROPAGATION_LIMIT_S < o.started < before_rollback - IN_FLIGHT_S
    ]
    settled_legacy = [o for o in products if o.started > rolled_back + PROPAGATION_LIMIT_S]
    assert len(settled_new) > 20
    assert len(settled_legacy) > 20
    late = [o for o in settled_new if o.served_by != "new"]
    assert not late, f"legacy answered {[round(o.started - flipped, 2) for o in late]} s after"
    late = [o for o in settled_legacy if o.served_by != "legacy"]
    assert not late, f"new answered {[round(o.started - rolled_back, 2) for o in late]} s after"

    last_old = max(
        (
            o.started
            for o in products
            if flipped < o.started < before_rollback and o.served_by == "legacy"
        ),
        default=flipped,
    )
    last_back = max(
        (o.started for o in products if o.started > rolled_back and o.served_by == "new"),
        default=rolled_back,
    )
    print(
        f"{len(outcomes)} requests; flip took {last_old - flipped:.2f} s, "
        f"rollback {last_back - rolled_back:.2f} s to reach every worker"
    )
