"""Checkout load (not a test; ``make bench``): ``POST /api/v1/orders/`` through a real gunicorn.

Against ``rastro_bench`` with the demo catalog (``seed_demo``), gunicorn (gthread) and one
Celery worker draining the outbox as in production, CLIENTS threads place 3-line orders with
fresh Idempotency-Keys for SECONDS after a warm-up. Prints and records (``checkout`` key of
``bench-report.json``) orders/s, latency p50/p99/max and, when ``make bench`` measured it in the
same run, ``checkout_per_s / ceiling_tps``. Every answer must be 201; anything else fails the run.
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

from bench.database import REPO, bench_database_ensure, bench_database_url
from bench.report import REPORT, report_merge
from sandbox.marketplace import random_cpf
from tests.kernel.procs import Process, RedisServer, celery_worker, free_port, gunicorn, wait_for

CLIENTS = int(os.environ.get("BENCH_CHECKOUT_CLIENTS", 16))
SECONDS = float(os.environ.get("BENCH_CHECKOUT_SECONDS", 20))
WARM_UP_S = 3.0
LINES = 3
TARGET_P99_MS = 500


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rastro-bench-checkout-"))
    redis = RedisServer(workdir).start()
    env = {
        **os.environ,
        "DATABASE_URL": bench_database_url(),
        "REDIS_URL": redis.url,
        "CELERY_BROKER_URL": redis.url,
        "LOG_LEVEL": "WARNING",
    }
    bench_database_ensure(env)
    seed = json.loads(
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--json"],
            cwd=REPO, env=env, capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    port = free_port()
    processes: list[Process] = [
        redis,
        gunicorn(env, workdir, port).start(),
        celery_worker("bench-checkout", env, workdir / "worker.log", concurrency=1).start(),
    ]
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base_url}/healthz"), what="gunicorn")
        result = load(
            base_url, seed["channels"]["web"]["api_key"], [s["sku"] for s in seed["skus"]]
        )
    finally:
        for process in reversed(processes):
            process.stop()
    ceiling = _ceiling_tps()
    if ceiling:
        result["ceiling_tps"] = ceiling
        result["ratio_to_ceiling"] = round(result["orders_per_s"] / ceiling, 3)
    result["target_p99_ms"] = TARGET_P99_MS
    print(json.dumps({"checkout": result}, indent=2))
    report_merge("checkout", result)


def load(base_url: str, api_key: str, skus: list[str]) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[str] = []
    started = time.monotonic()
    measure_from, stop_at = started + WARM_UP_S, started + WARM_UP_S + SECONDS

    def client(number: int) -> None:
        rng = random.Random(number)  # noqa: S311 - load shape, not security
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
            while (now := time.monotonic()) < stop_at:
                response = http.post(
                    "/api/v1/orders/",
                    json=_order(rng, skus),
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                if response.status_code != 201:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                elif now >= measure_from:
                    latencies.append(time.monotonic() - now)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"checkout bench: {len(failures)} non-201 answers, first: {failures[0]}")
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "clients": CLIENTS,
        "seconds": SECONDS,
        "orders": len(latencies),
        "orders_per_s": round(len(latencies) / SECONDS, 1),
        "latency_p50_ms": round(cuts[49] * 1000, 1),
        "latency_p99_ms": round(cuts[98] * 1000, 1),
        "latency_max_ms": round(max(latencies) * 1000, 1),
        "lines_per_order": LINES,
    }


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
