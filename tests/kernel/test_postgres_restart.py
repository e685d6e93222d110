"""Fault 7: PostgreSQL restarted under checkout load → clean errors, retries succeed, no
half-written order.

A private cluster (the machine's PostgreSQL is never touched), migrated and seeded, behind a
real gunicorn. CLIENTS threads place 3-line orders, each with its own Idempotency-Key, and
retry every failed answer with the same key and body until it is a 201. Mid-load the cluster
stops (fast: open transactions are cut off), stays down DOWN_S and starts again.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from django.db.models import Model
from psycopg import sql

from retail.inventory.models import Reservation, ReservationLine, StockItem
from retail.orders.models import Order, OrderLine
from retail.platform.models import IdempotencyKey, OutboxMessage
from retail.platform.problems import PROBLEM_CONTENT_TYPE
from sandbox.marketplace import random_cpf
from tests.kernel.procs import (
    REPO,
    PostgresCluster,
    Process,
    RedisServer,
    free_port,
    gunicorn,
    wait_for,
)

pytestmark = pytest.mark.chaos

CLIENTS = 8
LINES = 3
LOAD_BEFORE_S, DOWN_S, LOAD_AFTER_S = 1.5, 1.0, 2.0
CLIENT_TIMEOUT_S = 10.0
RETRY_FOR_S = 30.0


APP_ROLE = "rastro_app"  # the processes connect as it; migrate runs as the owner


@dataclass
class Shop:
    """The private cluster, its migrated and seeded database, and the gunicorn serving it."""

    cluster: PostgresCluster
    database_url: str
    base_url: str
    api_key: str
    skus: list[str]

    def query(self, template: str, *tables: type[Model]) -> list[tuple[Any, ...]]:
        """``template`` with each ``{}`` replaced by the next model's table."""
        names = (sql.Identifier(table._meta.db_table) for table in tables)
        with psycopg.connect(self.database_url) as connection:
            return connection.execute(sql.SQL(template).format(*names)).fetchall()


@dataclass
class Placement:
    """One order key: its body, every failed attempt's outcome, and the final 201's order."""

    key: str
    body: dict[str, Any]
    failures: list[str] = field(default_factory=list)
    order: dict[str, Any] | None = None
    placed_at: float = 0.0


@pytest.fixture
def shop(request: pytest.FixtureRequest) -> Iterator[Shop]:
    cluster = PostgresCluster()
    workdir = Path(tempfile.mkdtemp(prefix="rastro-pgrestart-"))
    processes: list[Process] = []
    try:
        database_url = cluster.init().create_database("rastro_pgrestart")
        cluster.create_role(APP_ROLE)
        redis = RedisServer(workdir)
        processes.append(redis.start())
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": cluster.url("rastro_pgrestart", role=APP_ROLE),
            "DATABASE_APP_ROLE": APP_ROLE,
            "REDIS_URL": redis.url,
            "CELERY_BROKER_URL": redis.url,
            "STRANGLER_ENABLED": "false",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }
        _manage({**env, "DATABASE_URL": database_url}, "migrate", "--noinput", "-v0")  # owner
        seed = json.loads(_manage(env, "seed_demo", "--json"))
        port = free_port()
        processes.append(gunicorn(env, workdir, port).start())
        base_url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(f"{base_url}/healthz"), 60, "gunicorn")
        yield Shop(
            cluster,
            database_url,
            base_url,
            seed["channels"]["web"]["api_key"],
            [sku["sku"] for sku in seed["skus"]],
        )
    finally:
        for process in reversed(processes):
            process.stop(signal.SIGKILL)
        if any(
            getattr(getattr(request.node, f"kernel_report_{when}", None), "failed", True)
            for when in ("setup", "call")
        ):
            for process in processes:
                print(f"===== {process.name} =====\n{process.log()[-20000:]}")
            print(f"===== postgres =====\n{cluster.log()[-20000:]}")
        cluster.destroy()
        shutil.rmtree(workdir, ignore_errors=True)


def test_postgres_restart_under_checkout_load_leaves_no_half_written_order(shop):
    stock_before = _stock(shop)
    placements: list[Placement] = []
    load_ends = time.monotonic() + LOAD_BEFORE_S + DOWN_S + LOAD_AFTER_S
    clients = [
        threading.Thread(target=_client, args=(shop, number, load_ends, placements), daemon=True)
        for number in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    time.sleep(LOAD_BEFORE_S)
    orders_before_restart = len([p for p in placements if p.order])
    shop.cluster.stop("fast")
    time.sleep(DOWN_S)
    shop.cluster.start()
    restarted_at = time.monotonic()
    for client in clients:
        client.join(timeout=LOAD_AFTER_S + RETRY_FOR_S + CLIENT_TIMEOUT_S + 5)
    assert not any(client.is_alive() for client in clients), "a client never finished"

    failures = Counter(failure for p in placements for failure in p.failures)
    print(f"{len(placements)} orders, failed attempts: {dict(failures)}")
    assert orders_before_restart >= CLIENTS, "the load had not started before the restart"
    assert failures, "the restart went unnoticed: it did not hit the load"
    assert not [f for f in failures if f.startswith("timeout")], failures  # no hang
    assert all(f.startswith(("5xx problem+json", "connection error")) for f in failures), failures
    assert [p.key for p in placements if p.order is None] == [], failures  # all retries won
    orders_after_restart = sum(p.placed_at > restarted_at for p in placements)
    assert orders_after_restart >= CLIENTS, "the service did not come back under load"

    _assert_each_order_whole(shop, placements)
    _assert_stock_moved_by_the_orders(shop, placements, stock_before)


def _client(shop: Shop, number: int, load_ends: float, placements: list[Placement]) -> None:
    rng = random.Random(number)
    headers = {"Authorization": f"Bearer {shop.api_key}"}
    with httpx.Client(base_url=shop.base_url, headers=headers, timeout=CLIENT_TIMEOUT_S) as http:
        while time.monotonic() < load_ends:
            placement = Placement(key=uuid.uuid4().hex, body=_order_body(rng, shop.skus))
            placements.append(placement)
            _place(http, placement)


def _place(http: httpx.Client, placement: Placement) -> None:
    """POST until a 201, with the same key and body; every failed attempt is classified."""
    give_up = time.monotonic() + RETRY_FOR_S
    while time.monotonic() < give_up:
        try:
            response = http.post(
                "/api/v1/orders/",
                json=placement.body,
                headers={"Idempotency-Key": placement.key},
            )
        except httpx.TimeoutException as error:
            placement.failures.append(f"timeout {type(error).__name__}")
            continue
        except httpx.TransportError:
            placement.failures.append("connection error")
        else:
            if response.status_code == 201:
                placement.order, placement.placed_at = response.json(), time.monotonic()
                return
            placement.failures.append(_classified(response))
        time.sleep(0.1)


def _classified(response: httpx.Response) -> str:
    """``5xx problem+json`` for a clean server error; anything else verbatim, to fail the test."""
    text = response.text
    try:
        code = json.loads(text).get("code")
    except ValueError:
        code = None
    clean = (
        response.status_code >= 500
        and response.headers.get("Content-Type") == PROBLEM_CONTENT_TYPE
        and "Traceback" not in text
        and code
    )
    return f"5xx problem+json {code}" if clean else f"{response.status_code} {text[:300]}"


def _assert_each_order_whole(shop: Shop, placements: list[Placement]) -> None:
    """One order per key, each with its lines, reservation, OrderPlaced and key row; no extra."""
    ordered = {p.order["id"]: p for p in placements if p.order}
    assert len(ordered) == len(placements)  # distinct keys → distinct orders
    orders = shop.query("SELECT id FROM {}", Order)
    assert sorted(row[0] for row in orders) == sorted(ordered)

    lines = _by_order(shop.query("SELECT order_id, sku, quantity FROM {}", OrderLine))
    reserved = _by_order(
        shop.query(
            "SELECT r.reference, l.sku, l.quantity FROM {} r JOIN {} l "
            "ON l.reservation_id = r.id WHERE r.status = 'active'",
            Reservation,
            ReservationLine,
        )
    )
    for order_id, placement in ordered.items():
        wanted = sorted((line["sku"], line["quantity"]) for line in placement.body["lines"])
        assert lines.get(order_id) == wanted, order_id
        assert reserved.get(order_id) == wanted, order_id
    assert set(reserved) == set(ordered)
    assert shop.query("SELECT count(*) FROM {}", Reservation) == [(len(ordered),)]

    placed = shop.query(
        "SELECT aggregate_id, count(*) FROM {} WHERE event_type = 'OrderPlaced' "
        "GROUP BY aggregate_id",
        OutboxMessage,
    )
    assert dict(placed) == dict.fromkeys(ordered, 1)
    keys = shop.query(
        "SELECT key, count(*), min(response_status) FROM {} GROUP BY key", IdempotencyKey
    )
    assert {key: (count, status) for key, count, status in keys} == {
        p.key: (1, 201) for p in placements
    }


def _assert_stock_moved_by_the_orders(
    shop: Shop, placements: list[Placement], before: dict[str, tuple[int, int]]
) -> None:
    quantities: Counter[str] = Counter()
    for placement in placements:
        for line in placement.body["lines"]:
            quantities[line["sku"]] += line["quantity"]
    expected = {
        sku: (on_hand, reserved + quantities[sku]) for sku, (on_hand, reserved) in before.items()
    }
    assert _stock(shop) == expected


def _stock(shop: Shop) -> dict[str, tuple[int, int]]:
    rows = shop.query("SELECT sku, on_hand, reserved FROM {}", StockItem)
    return {sku: (on_hand, reserved) for sku, on_hand, reserved in rows}


def _by_order(rows: list[tuple[Any, ...]]) -> dict[str, list[tuple[str, int]]]:
    grouped: dict[str, list[tuple[str, int]]] = {}
    for order_id, sku, quantity in rows:
        grouped.setdefault(order_id, []).append((sku, quantity))
    return {order_id: sorted(lines) for order_id, lines in grouped.items()}


def _order_body(rng: random.Random, skus: list[str]) -> dict[str, Any]:
    return {
        "customer": {"name": "Restart Buyer", "email": "buyer@example.com", "cpf": random_cpf(rng)},
        "lines": [
            {"sku": sku, "quantity": rng.randint(1, 3)} for sku in rng.sample(skus, LINES)
        ],
        "payment": {"method": "card", "token": "tok_ok"},
        "shipping_address": {
            "street": "Rua A", "number": "1", "city": "São Paulo", "state": "SP",
            "postal_code": "01000-000",
        },
    }  # fmt: skip


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stderr[-5000:]}"
    return done.stdout


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
