"""Checkout load (not a test; ``make bench``): ``POST /api/v1/orders/`` through a real gunicorn.

Against ``rastro_bench`` with the demo catalog (``seed_demo``) and a history: grown
(``bench.grow``) to 1,000 past orders, then afresh to ``BENCH_GROWN_ORDERS`` (100,000, one hot
customer's included), with the Procfile's layout: gunicorn (gthread, 3 x 8), a core Celery
worker (2 processes), a side-lane worker (1 process), the sandbox PSP charging and calling
back, all on the same two cores as the load. On each database, ``bench.growth`` measures the
CPU per order of every process kind (new customers; on the largest also the hot customer):
``growth`` key of ``bench-report.json``, printed as a table. Then, on the largest database:

- ``bench.steps``: open-loop steps at 4.2/s, 42/s and up to the highest rate held, each with
  checkout and order→paid p50/p99 and the backlog (``steps``);
- saturation (last): CLIENTS threads post back to back for SECONDS (orders/s is the capacity;
  latency there is mostly queueing), and its ratio to the raw-SQL ceiling when ``make bench``
  measured it in the same run.

Every answer must be the expected one; anything else fails the run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from bench import growth, steps
from bench.database import REPO, bench_database_create, bench_database_url
from bench.grow import grow
from bench.load import LINES, Buyer, Checkouts, new_customer, paced_run, run_threads
from bench.report import REPORT, report_merge
from retail.payments.tests.processes import psp_start
from retail.platform.inbox import CORE_LANE
from tests.kernel.procs import Process, RedisServer, celery_worker, free_port, gunicorn, wait_for

CLIENTS = int(os.environ.get("BENCH_CHECKOUT_CLIENTS", 16))
SECONDS = float(os.environ.get("BENCH_CHECKOUT_SECONDS", 20))
WARM_UP_S = 3.0
TARGET_P99_MS = 500
PSP_SECRET = "whsec_YmVuY2gtY2hlY2tvdXQtcHNwLXNlY3JldA=="  # noqa: S105 - the bench PSP stand-in


@dataclass(frozen=True)
class Outside:
    """What the system under load talks to: its own Redis and the PSP stand-in."""

    env: dict[str, str]  # the processes' environment
    workdir: Path
    port: int  # gunicorn's
    psp: Process


@contextlib.contextmanager
def outside(prefix: str) -> Iterator[Outside]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")  # the lane queues
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
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
    try:
        yield Outside(env, workdir, port, psp)
    finally:
        psp.stop()
        redis.stop()


def main() -> None:
    phases: list[dict[str, Any]] = []
    grown: list[dict[str, Any]] = []
    with outside("rastro-bench-checkout-") as world:
        for existing in growth.scales():
            seed, loaded = database_grown(world.env, existing)
            grown.append({key: loaded[key] for key in ("orders", "seconds", "rows", "skipped")})
            with serving(world) as roots:
                app = App(f"http://127.0.0.1:{world.port}", seed, loaded["hot_customer"])
                database_url = world.env["DATABASE_URL"]
                phases += [growth.phase(existing, buyer, app.send, roots, database_url)
                           for buyer in app.buyers()]  # fmt: skip
                if existing == growth.GROWN_ORDERS:
                    result = app.checkout_load(roots, database_url)
    report_merge("growth", {"phases": phases, "grown": grown, "cpus": os.cpu_count()})
    ceiling = _ceiling_tps()
    if ceiling:
        result["ceiling_tps"] = ceiling
        result["ratio_to_ceiling"] = round(result["orders_per_s"] / ceiling, 3)
        held = steps.highest_held(result["steps"])
        if held:
            result["held_ratio_to_ceiling"] = round(held["orders_per_s"] / ceiling, 3)
    result["target_p99_ms"] = TARGET_P99_MS
    print(json.dumps({"checkout": result}, indent=2))
    report_merge("checkout", result)
    print(growth.table(phases))
    print(steps.table(result["steps"]))


def database_grown(env: dict[str, str], existing: int) -> tuple[dict[str, Any], dict[str, Any]]:
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
def serving(world: Outside) -> Iterator[dict[str, list[int]]]:
    """The Procfile's layout on the database as it is now: gunicorn, the core worker (2
    processes) and the side-lane worker (1); yields the root pids of each process kind whose
    CPU is measured."""
    lanes = settings.OUTBOX_LANE_QUEUES
    side_queues = [queue for lane, queue in lanes.items() if lane != CORE_LANE]
    env, workdir = world.env, world.workdir
    processes = [
        gunicorn(env, workdir, world.port).start(),
        celery_worker("core", env, workdir / "core.log", 2, [lanes[CORE_LANE]]).start(),
        celery_worker("side", env, workdir / "side.log", 1, side_queues).start(),
    ]
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{world.port}/healthz"), what="gunicorn")
        yield {
            "gunicorn": [processes[0].pid],
            "celery": [processes[1].pid, processes[2].pid],
            "psp": [world.psp.pid],
        }
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

        def order(http: httpx.Client, rng: random.Random, scheduled: float, _: float) -> None:
            checkouts.post(http, rng, since=scheduled, measure=True)

        offsets = [n * interval for n in range(count)]
        paced_run(offsets, order, checkouts.client, CLIENTS, seed=None)
        return checkouts.summary(count * interval)

    def _buyer(self, buyer: str) -> Buyer:
        hot = self.hot
        if buyer == "hot" and hot is not None:
            return lambda rng: {"name": hot["name"], "email": hot["email"], "cpf": hot["cpf"]}
        return new_customer

    def checkout_load(self, roots: dict[str, list[int]], database_url: str) -> dict[str, Any]:
        """Open-loop steps, then saturation (module docstring)."""
        stepped = steps.run_steps(self.base_url, self.api_key, self.skus, roots, database_url)
        growth.wait_idle(roots, database_url)
        saturation = saturate(self.base_url, self.api_key, self.skus)
        return {
            **saturation, "steps": stepped, "highest_held": steps.highest_held(stepped),
            "existing_orders": growth.GROWN_ORDERS,
        }  # fmt: skip


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

    run_threads(client, CLIENTS)
    return {"clients": CLIENTS, **checkouts.summary(SECONDS), "lines_per_order": LINES}


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
