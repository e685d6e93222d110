"""Open-loop steps (``make bench``): orders offered at a fixed rate whatever the answers, at the
business peak (250/min, 4.2/s), then up in steps until one is not held, then at 10 times the
peak (42/s), and past it while steps are held: the highest rate held is the capacity.

Beside every 20 orders, 4 product-list reads and 1 replay of an order already answered (same
key, same body: 201 again with ``Idempotent-Replayed: true``). Latency counts from the
scheduled start, so a slow answer cannot hide the requests queued behind it. Per step:

- checkout p50/p99/max of the new orders;
- order→paid p50/p99: from the order's creation to its first ``paid`` history row, the PSP
  stand-in's processing delay included (``psp_delay_ms``: subtract it to compare with the
  target, which excludes the PSP);
- the backlog when the last answer came (pending outbox events and side-lane deliveries,
  payments waiting for the PSP), and how long it took to reach 0.

A step is held when every answer was right, checkout p99 ≤ 500 ms and the backlog was back to
0 within ``HELD_DRAIN_S`` of the step's end: the complete flow kept up, not only the API.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx
import psycopg

from bench import growth
from bench.load import Checkouts, paced_run, quantiles_ms
from sandbox.psp.engine import PROCESSING_DELAY

PEAK_PER_S = 250 / 60  # the business peak (brief)
BELOW_10X = (8.0, 12.0, 16.0, 20.0, 25.0, 30.0, 35.0)
ABOVE_10X = (60.0, 80.0, 100.0, 125.0, 150.0, 200.0)
STEP_SECONDS = float(os.environ.get("BENCH_STEP_SECONDS", 20))
CLIENTS = int(os.environ.get("BENCH_STEP_CLIENTS", 48))
HELD_P99_MS = 500
HELD_DRAIN_S = 10.0
DRAIN_TIMEOUT_S = 60.0
# One cycle of requests: 20 orders, 4 reads, 1 replay, interleaved.
PATTERN = (("order",) * 5 + ("read",)) * 4 + ("replay",)
ORDERS_PER_CYCLE = PATTERN.count("order")


def run_steps(
    base_url: str, api_key: str, skus: list[str], roots: Mapping[str, list[int]], database_url: str
) -> list[dict[str, Any]]:
    """The peak, the rates between it and 10 times it while held, 10 times it, the rates past
    it while held (module docstring)."""

    def run(rate: float) -> dict[str, Any]:
        growth.wait_idle(roots, database_url)
        step = Step(base_url, api_key, skus, rate).run(database_url)
        print(_line(step), flush=True)
        return step

    steps = [run(PEAK_PER_S)]
    for rate in BELOW_10X:
        if not steps[-1]["held"]:
            break
        steps.append(run(rate))
    steps.append(run(10 * PEAK_PER_S))
    for rate in ABOVE_10X:
        if not steps[-1]["held"]:
            break
        steps.append(run(rate))
    return steps


def highest_held(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    held = [step for step in steps if step["held"]]
    return max(held, key=lambda step: step["offered_per_s"]) if held else None


class Step(Checkouts):
    """One step: ``rate`` orders per second for ``STEP_SECONDS``, with reads and replays."""

    def __init__(self, base_url: str, api_key: str, skus: list[str], rate: float) -> None:
        super().__init__(base_url, api_key, skus)
        self.rate = rate
        self.answered: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.reads = self.replays = 0

    def run(self, database_url: str) -> dict[str, Any]:
        slot_rate = self.rate * len(PATTERN) / ORDERS_PER_CYCLE
        offsets = [n / slot_rate for n in range(int(STEP_SECONDS * slot_rate))]
        started = time.monotonic()
        paced_run(offsets, self.request, self.client, CLIENTS, seed=None)
        sending_s = time.monotonic() - started
        summary = self.summary(sending_s)
        with psycopg.connect(database_url, autocommit=True) as connection:
            backlog_at_end, drain_s = _drain(connection)
            paid = _order_to_paid(connection, self.order_ids)
        to_paid = quantiles_ms(paid)
        held = (
            summary["latency_p99_ms"] is not None
            and summary["latency_p99_ms"] <= HELD_P99_MS
            and drain_s is not None
            and drain_s <= HELD_DRAIN_S
        )
        return {
            "offered_per_s": round(self.rate, 1),
            **summary,
            "reads": self.reads,
            "replays": self.replays,
            "backlog_at_end": backlog_at_end,
            "backlog_drained_s": drain_s,
            "order_to_paid_p50_ms": to_paid["p50_ms"],
            "order_to_paid_p99_ms": to_paid["p99_ms"],
            "psp_delay_ms": PROCESSING_DELAY * 1000,
            "not_paid": len(self.order_ids) - len(paid),
            "held": held,
        }

    def request(
        self, http: httpx.Client, rng: random.Random, scheduled: float, offset: float
    ) -> None:
        slot = round(offset * self.rate * len(PATTERN) / ORDERS_PER_CYCLE)
        kind = PATTERN[slot % len(PATTERN)]
        if kind == "read":
            self._read(http)
        elif kind == "replay" and self.answered:
            self._replay(http, rng)
        else:
            self.post(http, rng, scheduled, measure=True)

    def sent(self, key: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.answered.append((key, body))

    def _read(self, http: httpx.Client) -> None:
        response = http.get("/api/v1/products/")
        self.reads += 1
        if response.status_code != 200:
            self.failures.append(f"read: {response.status_code} {response.text[:200]}")

    def _replay(self, http: httpx.Client, rng: random.Random) -> None:
        with self.lock:
            key, body = rng.choice(self.answered)
        response = http.post("/api/v1/orders/", json=body, headers={"Idempotency-Key": key})
        self.replays += 1
        if response.status_code != 201 or response.headers.get("Idempotent-Replayed") != "true":
            self.failures.append(f"replay: {response.status_code} {response.text[:200]}")


def _drain(connection: psycopg.Connection) -> tuple[int, float | None]:
    """The backlog now, and the seconds until it was 0 (None: not within the timeout)."""
    backlog = growth.backlog_sql(connection)
    started = time.monotonic()
    at_end = _count(connection, backlog)
    remaining = at_end
    while remaining and time.monotonic() - started < DRAIN_TIMEOUT_S:
        time.sleep(0.1)
        remaining = _count(connection, backlog)
    return at_end, None if remaining else round(time.monotonic() - started, 1)


def _count(connection: psycopg.Connection, sql: str) -> int:
    row = connection.execute(sql).fetchone()
    assert row is not None  # a SELECT of counts answers one row
    return int(row[0])


def _order_to_paid(connection: psycopg.Connection, order_ids: list[str]) -> list[float]:
    """Seconds from each order's creation to its first ``paid`` version (paid orders only)."""
    rows = connection.execute(
        "SELECT extract(epoch FROM min(h.history_date) - min(o.created_at))"
        " FROM orders_order o JOIN orders_historicalorder h ON h.id = o.id AND h.status = 'paid'"
        " WHERE o.id = ANY(%s) GROUP BY o.id",
        [order_ids],
    ).fetchall()
    return [float(seconds) for (seconds,) in rows]


def _line(step: dict[str, Any]) -> str:
    drained = step["backlog_drained_s"]
    return (
        f"step {step['offered_per_s']:>6.1f}/s: {step['orders_per_s']:>6.1f} orders/s,"
        f" checkout p50 {step['latency_p50_ms']} p99 {step['latency_p99_ms']} ms,"
        f" order→paid p50 {step['order_to_paid_p50_ms']} p99 {step['order_to_paid_p99_ms']} ms,"
        f" backlog {step['backlog_at_end']} → 0 in {'>60' if drained is None else drained} s,"
        f" {'held' if step['held'] else 'NOT held'}"
    )


def table(steps: list[dict[str, Any]]) -> str:
    return "\n".join(
        ["Open-loop steps (checkout and order→paid in ms; PSP delay included)"]
        + [_line(step) for step in steps]
    )
