"""Checkout load (not a test; ``make bench``): ``POST /api/v1/orders/`` through a real gunicorn.

Against ``rastro_bench`` with the demo catalog (``seed_demo``) and a history: grown
(``bench.grow``) to 1,000 past orders, then afresh to ``BENCH_GROWN_ORDERS`` (100,000, one hot
customer's included), with gunicorn (gthread), a Celery worker (2 processes) draining the
outbox and the sandbox PSP charging and calling back, as in production, all on the same
machine as the load. On each database, ``bench.growth`` measures the CPU per order of every
process kind (new customers; on the largest also the hot customer): ``growth`` key of
``bench-report.json``, printed as a table. Then, on the largest database, two measurements of
3-line orders with fresh Idempotency-Keys, after a warm-up:

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

import contextlib
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import growth
from bench.database import REPO, bench_database_create, bench_database_url
from bench.grow import grow
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
    phases: list[dict[str, Any]] = []
    grown: list[dict[str, Any]] = []
    try:
        for existing in growth.scales():
            seed, loaded = _database_grown(env, existing)
            grown.append({key: loaded[key] for key in ("orders", "seconds", "rows", "skipped")})
            with _serving(env, workdir, port, psp) as roots:
                app = App(f"http://127.0.0.1:{port}", seed, loaded["hot_customer"])
                phases += [growth.phase(existing, buyer, app.send, roots, env["DATABASE_URL"])
                           for buyer in app.buyers()]  # fmt: skip
                if existing == growth.GROWN_ORDERS:
                    idle = growth.wait_idle(roots, env["DATABASE_URL"])
                    result = {**app.checkout_load(), "idle_before": idle}
    finally:
        psp.stop()
        redis.stop()
    report_merge("growth", {"phases": phases, "grown": grown, "cpus": os.cpu_count()})
    ceiling = _ceiling_tps()
    if ceiling:
        result["ceiling_tps"] = ceiling
        result["ratio_to_ceiling"] = round(result["orders_per_s"] / ceiling, 3)
    result["target_p99_ms"] = TARGET_P99_MS
    result["meets_target_at_10x_peak"] = result["paced"][-1]["latency_p99_ms"] <= TARGET_P99_MS
    print(json.dumps({"checkout": result}, indent=2))
    report_merge("checkout", result)
    print(growth.table(phases))


def _database_grown(env: dict[str, str], existing: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh ``rastro_bench`` with the demo catalog and ``existing`` past orders."""
    bench_database_create(env)
    seed = json.loads(
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--json"],
            cwd=REPO, env=env, capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    loaded = grow(env["DATABASE_URL"], existing, growth.hot_orders(existing))
    print(f"grown: {existing:,} past orders in {loaded['seconds']} s", flush=True)
    return seed, loaded


@contextlib.contextmanager
def _serving(
    env: dict[str, str], workdir: Path, port: int, psp: Process
) -> Iterator[dict[str, int]]:
    """gunicorn and the Celery worker (2 processes) on the database as it is now; yields the
    root pid of each process kind whose CPU is measured."""
    processes = [
        gunicorn(env, workdir, port).start(),
        celery_worker("bench-checkout", env, workdir / "worker.log", concurrency=2).start(),
    ]
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), what="gunicorn")
        yield {"gunicorn": processes[0].pid, "celery": processes[1].pid, "psp": psp.pid}
    finally:
        for process in reversed(processes):
            process.stop()


class App:
    """The running system as the load sees it: the web channel, its SKUs, the hot customer."""

    def __init__(self, base_url: str, seed: dict[str, Any], hot: dict[str, Any] | None) -> None:
        self.base_url, self.hot = base_url, hot
        self.api_key = seed["channels"]["web"]["api_key"]
        self.skus = [sku["sku"] for sku in seed["skus"]]

    def buyers(self) -> list[str]:
        return ["new", "hot"] if self.hot else ["new"]

    def send(self, count: int, buyer: str) -> dict[str, Any]:
        """``count`` orders at ``growth.RATE_PER_S``, each by a new customer or the hot one."""
        checkouts = Checkouts(self.base_url, self.api_key, self.skus, self._buyer(buyer))
        interval = 1 / growth.RATE_PER_S
        _paced_run(checkouts, [n * interval for n in range(count)], measure_from=0.0, seed=None)
        return checkouts.summary(count * interval)

    def _buyer(self, buyer: str) -> Buyer:
        hot = self.hot
        if buyer == "hot" and hot is not None:
            return lambda rng: {"name": hot["name"], "email": hot["email"], "cpf": hot["cpf"]}
        return _new_customer

    def checkout_load(self) -> dict[str, Any]:
        """Paced at the business peak and 10 times it, then saturation (module docstring)."""
        paced_runs = [
            {**paced(self.base_url, self.api_key, self.skus, per_min), **_outbox_backlog()}
            for per_min in (PEAK_PER_MIN, 10 * PEAK_PER_MIN)
        ]
        saturation = saturate(self.base_url, self.api_key, self.skus)
        return {
            **saturation, **_outbox_backlog(), "paced": paced_runs,
            "existing_orders": growth.GROWN_ORDERS,
        }  # fmt: skip


Buyer = Callable[[random.Random], dict[str, str]]  # the order's "customer"


def _bench_buyer(rng: random.Random) -> dict[str, str]:
    """A new CPF each time, the same name and e-mail (the checkout load's buyers)."""
    return {"name": "Bench Buyer", "email": "bench@example.com", "cpf": random_cpf(rng)}


def _new_customer(rng: random.Random) -> dict[str, str]:
    """A customer never seen: a new CPF and e-mail (growth phases)."""
    return {**_bench_buyer(rng), "email": f"buyer.{rng.getrandbits(48):012x}@example.com"}


class Checkouts:
    """Posts orders; keeps the latency of each 201 and every other answer as a failure."""

    def __init__(
        self, base_url: str, api_key: str, skus: list[str], buyer: Buyer = _bench_buyer
    ) -> None:
        self.base_url, self.api_key, self.skus, self.buyer = base_url, api_key, skus, buyer
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=30
        )

    def post(self, http: httpx.Client, rng: random.Random, since: float, measure: bool) -> None:
        response = http.post(
            "/api/v1/orders/",
            json=_order(rng, self.skus, self.buyer(rng)),
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
    offsets = [n * interval for n in range(int((WARM_UP_S + PACED_SECONDS) / interval))]
    _paced_run(checkouts, offsets, measure_from=WARM_UP_S, seed=1000)
    return {"orders_per_min": per_min, **checkouts.summary(PACED_SECONDS)}


def _paced_run(
    checkouts: Checkouts, offsets: list[float], measure_from: float, seed: int | None
) -> None:
    """CLIENTS threads start the orders at ``offsets`` (s from now); those from
    ``measure_from`` on are measured. ``seed`` None: fresh customers on every run."""
    pending = iter(offsets)
    lock = threading.Lock()
    origin = time.monotonic()

    def client(number: int) -> None:
        rng = random.Random(None if seed is None else seed + number)  # noqa: S311 - load shape
        with checkouts.client() as http:
            while True:
                with lock:
                    offset = next(pending, None)
                if offset is None:
                    return
                scheduled = origin + offset
                time.sleep(max(0.0, scheduled - time.monotonic()))
                checkouts.post(http, rng, since=scheduled, measure=offset >= measure_from)

    _run_threads(client, CLIENTS)


def _run_threads(target: Any, count: int) -> None:
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _order(rng: random.Random, skus: list[str], customer: dict[str, str]) -> dict[str, Any]:
    return {
        "customer": customer,
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
