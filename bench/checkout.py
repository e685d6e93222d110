"""Checkout load (not a test; ``make bench``): ``POST /api/v1/orders/`` through a real gunicorn.

Against a fresh ``rastro_bench`` with the demo catalog (``seed_demo``), gunicorn (gthread), a
Celery worker (2 processes) draining the outbox and the sandbox PSP charging and calling back,
as in production, all on the same machine as the load.
Two measurements of 3-line orders with fresh Idempotency-Keys, after a warm-up:

- paced: orders started on a fixed schedule at the business peak (250/min) and at 10 times it,
  latency counted from the scheduled start, so a slow answer cannot hide the ones queued
  behind it. Checkout p99 ≤ 500 ms is judged here;
- saturation (last): CLIENTS threads post back to back for SECONDS (orders/s is the capacity;
  latency there is mostly queueing).

After each phase, the outbox backlog tells whether the consumers kept up.

Prints and records (``checkout`` key of ``bench-report.json``) orders/s, latency p50/p99/max
and, when ``make bench`` measured it in the same run, ``checkout_per_s / ceiling_tps``. Every
answer must be 201; anything else fails the run.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.database import REPO, bench_database_create, bench_database_url
from bench.report import REPORT, report_merge
from retail.payments.tests.processes import psp_start
from sandbox.marketplace import random_cpf
from tests.kernel.procs import Process, RedisServer, celery_worker, free_port, gunicorn, wait_for

CLIENTS = int(os.environ.get("BENCH_CHECKOUT_CLIENTS", 16))
SECONDS = float(os.environ.get("BENCH_CHECKOUT_SECONDS", 20))
PACED_SECONDS = float(os.environ.get("BENCH_CHECKOUT_PACED_SECONDS", 20))
PEAK_PER_MIN = 250  # the business peak (brief); paced runs at 1 and 10 times it
WARM_UP_S = 3.0
LINES = 3
TARGET_P99_MS = 500
PSP_SECRET = "whsec_YmVuY2gtY2hlY2tvdXQtcHNwLXNlY3JldA=="  # noqa: S105 - the bench PSP stand-in


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rastro-bench-checkout-"))
    redis = RedisServer(workdir).start()
    psp, psp_url = psp_start(workdir / "psp-data", workdir / "psp.log", PSP_SECRET)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench_database_url(),
        "REDIS_URL": redis.url,
        "CELERY_BROKER_URL": redis.url,
        "PSP_URL": psp_url,
        "PSP_WEBHOOK_SECRET": PSP_SECRET,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    bench_database_create(env)
    seed = json.loads(
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--json"],
            cwd=REPO, env=env, capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    processes: list[Process] = [
        redis,
        psp,
        gunicorn(env, workdir, port).start(),
        celery_worker("bench-checkout", env, workdir / "worker.log", concurrency=2).start(),
    ]
    base_url = f"http://127.0.0.1:{port}"
    api_key, skus = seed["channels"]["web"]["api_key"], [s["sku"] for s in seed["skus"]]
    try:
        wait_for(lambda: _answers(f"{base_url}/healthz"), what="gunicorn")
        paced_runs = [
            {**paced(base_url, api_key, skus, per_min), **_outbox_backlog()}
            for per_min in (PEAK_PER_MIN, 10 * PEAK_PER_MIN)
        ]
        result = {**saturate(base_url, api_key, skus), **_outbox_backlog(), "paced": paced_runs}
    finally:
        for process in reversed(processes):
            process.stop()
    ceiling = _ceiling_tps()
    if ceiling:
        result["ceiling_tps"] = ceiling
        result["ratio_to_ceiling"] = round(result["orders_per_s"] / ceiling, 3)
    result["target_p99_ms"] = TARGET_P99_MS
    result["meets_target_at_10x_peak"] = result["paced"][-1]["latency_p99_ms"] <= TARGET_P99_MS
    print(json.dumps({"checkout": result}, indent=2))
    report_merge("checkout", result)


class Checkouts:
    """Posts orders; keeps the latency of each 201 and every other answer as a failure."""

    def __init__(self, base_url: str, api_key: str, skus: list[str]) -> None:
        self.base_url, self.api_key, self.skus = base_url, api_key, skus
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=30
        )

    def post(self, http: httpx.Client, rng: random.Random, since: float, measure: bool) -> None:
        response = http.post(
            "/api/v1/orders/",
            json=_order(rng, self.skus),
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if response.status_code != 201:
            self.failures.append(f"{response.status_code} {response.text[:200]}")
        elif measure:
            self.latencies.append(time.monotonic() - since)

    def summary(self, seconds: float) -> dict[str, Any]:
        if self.failures:
            raise SystemExit(
                f"checkout bench: {len(self.failures)} non-201 answers, first: {self.failures[0]}"
            )
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return {
            "seconds": seconds,
            "orders": len(self.latencies),
            "orders_per_s": round(len(self.latencies) / seconds, 1),
            "latency_p50_ms": round(cuts[49] * 1000, 1),
            "latency_p99_ms": round(cuts[98] * 1000, 1),
            "latency_max_ms": round(max(self.latencies) * 1000, 1),
        }


def saturate(base_url: str, api_key: str, skus: list[str]) -> dict[str, Any]:
    """CLIENTS threads posting back to back: the capacity."""
    checkouts = Checkouts(base_url, api_key, skus)
    started = time.monotonic()
    measure_from, stop_at = started + WARM_UP_S, started + WARM_UP_S + SECONDS

    def client(number: int) -> None:
        rng = random.Random(number)  # noqa: S311 - load shape, not security
        with checkouts.client() as http:
            while (now := time.monotonic()) < stop_at:
                checkouts.post(http, rng, since=now, measure=now >= measure_from)

    _run_threads(client, CLIENTS)
    return {"clients": CLIENTS, **checkouts.summary(SECONDS), "lines_per_order": LINES}


def paced(base_url: str, api_key: str, skus: list[str], per_min: int) -> dict[str, Any]:
    """Orders started every ``60 / per_min`` s whatever the answers: latency at a given load."""
    checkouts = Checkouts(base_url, api_key, skus)
    interval = 60 / per_min
    offsets = iter([n * interval for n in range(int((WARM_UP_S + PACED_SECONDS) / interval))])
    lock = threading.Lock()
    origin = time.monotonic()

    def client(number: int) -> None:
        rng = random.Random(1000 + number)  # noqa: S311 - load shape, not security
        with checkouts.client() as http:
            while True:
                with lock:
                    offset = next(offsets, None)
                if offset is None:
                    return
                scheduled = origin + offset
                time.sleep(max(0.0, scheduled - time.monotonic()))
                checkouts.post(http, rng, since=scheduled, measure=offset >= WARM_UP_S)

    _run_threads(client, CLIENTS)
    return {"orders_per_min": per_min, **checkouts.summary(PACED_SECONDS)}


def _run_threads(target: Any, count: int) -> None:
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _order(rng: random.Random, skus: list[str]) -> dict[str, Any]:
    return {
        "customer": {"name": "Bench Buyer", "email": "bench@example.com", "cpf": random_cpf(rng)},
        "lines": [{"sku": sku, "quantity": 1} for sku in rng.sample(skus, LINES)],
        "payment": {"method": "card", "token": "tok_ok"},
        "shipping_address": {
            "street": "Rua A", "number": "1", "city": "São Paulo", "state": "SP",
            "postal_code": "01000-000",
        },
    }  # fmt: skip


def _outbox_backlog() -> dict[str, Any]:
    """Events the consumers had not caught up with when the phase ended (and the oldest's age):
    the worker shares the two cores with the checkout, so it may fall behind at saturation."""
    with psycopg.connect(bench_database_url()) as connection:
        row = connection.execute(
            "SELECT count(*), coalesce(extract(epoch FROM now() - min(occurred_at)), 0)"
            " FROM platform_outbox WHERE status = 'pending'"
        ).fetchone()
    assert row is not None  # an aggregate always answers one row
    pending, oldest_s = row
    return {"outbox_pending_after": pending, "outbox_oldest_pending_s": round(float(oldest_s), 1)}


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _ceiling_tps() -> float | None:
    if not REPORT.exists():
        return None
    ceiling = json.loads(REPORT.read_text()).get("ceiling") or {}
    return ceiling.get("ceiling_tps")


if __name__ == "__main__":
    main()
