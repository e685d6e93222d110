"""CPU per order on a grown database (issue 13): what each process kind spends on one checkout,
from the request to the last consumer, with 1,000 and with ``BENCH_GROWN_ORDERS`` past orders.

A phase sends ``BENCH_GROWTH_ORDERS`` orders (300) at ``BENCH_GROWTH_RATE`` per second (10),
a new customer each, or ``BENCH_GROWTH_HOT_ORDERS`` (100: each costs several times more, and
the run must stay within minutes) all by the hot customer (``BENCH_HOT_CUSTOMER_ORDERS`` past
orders of one CPF, 3,000, loaded with the largest database), then waits until it is idle: no
pending outbox event or side-lane delivery, no payment waiting for the PSP, and the workers'
CPU no longer moving (compliance evaluates after the relay's commit). The CPU that gunicorn,
the Celery worker, PostgreSQL and the PSP stand-in spent meanwhile (``bench.cpu``), divided by
the orders, is the phase's result. ``bench.checkout`` runs the phases (``make bench``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import psycopg

from bench import cpu
from bench.cpu import BENCH_DB, POSTGRES

GROWN_ORDERS = int(os.environ.get("BENCH_GROWN_ORDERS", 100_000))
SMALL_ORDERS = 1_000
HOT_CUSTOMER_ORDERS = int(os.environ.get("BENCH_HOT_CUSTOMER_ORDERS", 3_000))
ORDERS = int(os.environ.get("BENCH_GROWTH_ORDERS", 300))
HOT_ORDERS = int(os.environ.get("BENCH_GROWTH_HOT_ORDERS", 100))
RATE_PER_S = float(os.environ.get("BENCH_GROWTH_RATE", 10))
WARM_UP_ORDERS = 20
KINDS = ("gunicorn", "celery", POSTGRES, "psp")  # their sum is the total
IDLE_TIMEOUT_S = 300.0
QUIET_TICKS_PER_S = 2  # an idle worker's polling; more is still work


def scales() -> list[int]:
    """The database sizes measured, smallest first; the largest also gets the hot customer."""
    return sorted({min(SMALL_ORDERS, GROWN_ORDERS), GROWN_ORDERS})


def hot_orders(existing: int) -> int:
    return min(HOT_CUSTOMER_ORDERS, existing) if existing == GROWN_ORDERS else 0


Send = Callable[[int, str], dict[str, Any]]  # (orders, "new" | "hot") → checkout summary


def phase(
    existing: int, buyer: str, send: Send, roots: Mapping[str, list[int]], database_url: str
) -> dict[str, Any]:
    """One measured phase, after a short warm-up with the same buyer."""
    orders = HOT_ORDERS if buyer == "hot" else ORDERS
    send(WARM_UP_ORDERS, buyer)
    wait_idle(roots, database_url)
    load_before = os.getloadavg()[0]
    sessions = _sessions(database_url)
    before, started = cpu.snapshot(roots, database_url), time.monotonic()
    sent = send(orders, buyer)
    sending_s = time.monotonic() - started
    idle = wait_idle(roots, database_url)
    after, seconds = cpu.snapshot(roots, database_url), time.monotonic() - started
    spent = cpu.cpu_seconds(before, after)
    per_order = {kind: round(spent[kind] * 1000 / orders, 1) for kind in (*KINDS, BENCH_DB)}
    per_order["total"] = round(sum(spent[kind] for kind in KINDS) * 1000 / orders, 1)
    sessions = _sessions(database_url) - sessions
    return {
        "existing_orders": existing,
        "buyer": buyer,
        "orders": orders,
        "rate_per_s": RATE_PER_S,
        "cpu_ms_per_order": per_order,
        "seconds_sending": round(sending_s, 1),
        "seconds_until_idle": round(seconds, 1),
        "idle": idle,
        "database_sessions_per_order": round(sessions / orders, 2),
        "checkout_p50_ms": sent["latency_p50_ms"],
        "checkout_p99_ms": sent["latency_p99_ms"],
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def wait_idle(roots: Mapping[str, list[int]], database_url: str) -> bool:
    """True once nothing is left to do and the workers' CPU stands still; False on timeout."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    with psycopg.connect(database_url, autocommit=True) as connection:
        backlog = backlog_sql(connection)
        while time.monotonic() < deadline:
            row = connection.execute(backlog).fetchone()
            if row is not None and row[0] == 0 and _quiet(roots):
                return True
            time.sleep(0.2)
    return False


def _sessions(database_url: str) -> int:
    """Connections ever opened to the database (each new backend's start-up is PostgreSQL CPU
    that no lasting backend shows); this bench's own few are among them."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def backlog_sql(connection: psycopg.Connection) -> str:
    """Pending outbox events and payments waiting for the PSP, and pending side-lane
    deliveries where that table exists (lanes)."""
    parts = [
        "(SELECT count(*) FROM platform_outbox WHERE status = 'pending')",
        "(SELECT count(*) FROM payments_payment WHERE status IN ('requested', 'authorized'))",
    ]
    row = connection.execute("SELECT to_regclass('platform_lane_delivery')").fetchone()
    if row is not None and row[0] is not None:
        parts.append("(SELECT count(*) FROM platform_lane_delivery WHERE status = 'pending')")
    return "SELECT " + " + ".join(parts)


def _quiet(roots: Mapping[str, list[int]]) -> bool:
    """The gunicorn and Celery trees used (almost) no CPU over the last second."""

    def ticks() -> int:
        processes = cpu.stats()
        trees = cpu.descendants([*roots["gunicorn"], *roots["celery"]], processes)
        return sum(processes[pid].ticks for pid in trees)

    first = ticks()
    time.sleep(1.0)
    return ticks() - first <= QUIET_TICKS_PER_S


def table(phases: list[dict[str, Any]]) -> str:
    """The phases as a text table: ms of CPU per order by process kind."""
    columns = (*KINDS, "total", BENCH_DB)
    header = f"{'existing orders':>15} {'buyer':>5} {'orders':>6} "
    header += " ".join(f"{c:>9}" for c in columns)
    header += f" {'conn/order':>10} {'p99 ms':>7} {'load1':>11}"
    lines = [
        f"CPU ms per order (orders sent at {RATE_PER_S:g}/s, counted until idle;"
        f" {BENCH_DB}: backends of the bench database only)",
        header,
    ]
    for run in phases:
        cpu_ms = run["cpu_ms_per_order"]
        load = "→".join(f"{value:.2f}" for value in run["load_average_1m"])
        lines.append(
            f"{run['existing_orders']:>15,} {run['buyer']:>5} {run['orders']:>6} "
            + " ".join(f"{cpu_ms[c]:>9.1f}" for c in columns)
            + f" {run['database_sessions_per_order']:>10.2f}"
            + f" {run['checkout_p99_ms']:>7.0f} {load:>11}"
            + ("" if run["idle"] else "  (not idle at timeout)")
        )
    return "\n".join(lines)
