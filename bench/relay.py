"""Relay benchmark (not a test; ``make bench``), against its own database ``rastro_bench``.

(a) backlog drain: 10,000 pending events over 2,000 aggregates, then two prefork worker
    processes (concurrency 1 each) are told to sweep: events/s until every event is delivered;
(b) latency: the same workers and beat, a steady producer commits 10,000 events in
    transactions of 4 at 1,000 events/s, each commit kicking the relay: p50/p99/max from the
    event's ``occurred_at`` to its ``delivered_at`` (the relay's commit of the batch), with 8
    producer threads (one per aggregate, so each aggregate's events commit in order).

Both phases check every event had its effect exactly once. Results go to the ``relay`` key of
``bench-report.json``. Sizes can be changed with BENCH_EVENTS, BENCH_RATE, BENCH_WORKERS.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django

from bench.database import bench_database_create, bench_database_url
from bench.report import report_merge
from tests.kernel.procs import Process, RedisServer, celery_beat, celery_worker, wait_for

EVENTS = int(os.environ.get("BENCH_EVENTS", 10_000))
RATE = float(os.environ.get("BENCH_RATE", 1_000))
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
AGGREGATES = 2_000
PRODUCERS = 8  # threads: commits wait for the WAL flush, one writer cannot reach RATE
TRANSACTION_EVENTS = 4
TARGET_EVENTS_PER_S = 5_000
TARGET_P99_MS = 500


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rastro-bench-"))
    redis = RedisServer(workdir).start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": bench_database_url(),
        "REDIS_URL": redis.url,
        "CELERY_BROKER_URL": redis.url,
        "STRANGLER_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
    bench_database_create(env)
    os.environ.update(env)
    django.setup()
    processes: list[Process] = [redis]
    try:
        backlog = backlog_drain(workdir, env, redis, processes)
        latency = steady_latency()
    except BaseException:
        for process in processes:
            print(f"===== {process.name} =====\n{process.log()[-5000:]}")
        raise
    finally:
        for process in reversed(processes):
            process.stop()
    result = {
        "events": EVENTS,
        "aggregates": AGGREGATES,
        "workers": f"{WORKERS} x prefork concurrency 1",
        "batch_size": int(os.environ.get("OUTBOX_BATCH_SIZE", 500)),
        "cpus": os.cpu_count(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),  # other work on the machine
        **backlog,
        **latency,
        "targets": {"drain_events_per_s": TARGET_EVENTS_PER_S, "p99_ms": TARGET_P99_MS},
    }
    result["meets_targets"] = (
        result["drain_events_per_s"] >= TARGET_EVENTS_PER_S and result["p99_ms"] <= TARGET_P99_MS
    )
    print(json.dumps({"relay": result}, indent=2))
    report_merge("relay", result)


def backlog_drain(
    workdir: Path, env: dict[str, str], redis: RedisServer, processes: list[Process]
) -> dict[str, Any]:
    from celery import current_app

    from bench.consumer.handlers import effect_table_reset

    effect_table_reset()
    produce(EVENTS, transaction_events=500, rate=None)
    with redis.client() as client:
        client.flushall()  # the producer's kicks: the clock starts when the workers are told
    for number in range(WORKERS):
        worker = celery_worker(f"bench{number}", env, workdir / f"bench{number}.log", 1)
        processes.append(worker.start())
    for worker in processes[1:]:
        worker.wait_for_log(" ready.", timeout=60)
    workers = processes[1:]
    cpu_before = sum(group_cpu_seconds(worker.pid) for worker in workers)
    started = time.monotonic()
    for _ in range(WORKERS):
        current_app.send_task("platform.relay_sweep")
    processes.append(celery_beat(env, workdir).start())  # the sweep, as in production
    wait_for(lambda: pending() == 0, timeout=600, what="the backlog to drain")
    elapsed = time.monotonic() - started
    cpu = sum(group_cpu_seconds(worker.pid) for worker in workers) - cpu_before
    effects_check(EVENTS)
    return {
        "drain_seconds": round(elapsed, 3),
        "drain_events_per_s": round(EVENTS / elapsed),
        # load-independent: CPU the worker processes spent per event (PostgreSQL's not counted)
        "drain_worker_cpu_us_per_event": round(cpu / EVENTS * 1e6),
    }


def steady_latency() -> dict[str, Any]:
    from bench.consumer.handlers import effect_table_reset

    effect_table_reset()
    started = time.monotonic()
    produce(EVENTS, transaction_events=TRANSACTION_EVENTS, rate=RATE)
    produced_in = time.monotonic() - started
    wait_for(lambda: pending() == 0, timeout=600, what="the steady load to be delivered")
    effects_check(EVENTS)
    p50, p99, worst = percentiles_ms()
    return {
        "producer_events_per_s": round(EVENTS / produced_in),
        "producer_target_events_per_s": RATE,
        "events_per_transaction": TRANSACTION_EVENTS,
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": worst,
    }


def produce(count: int, *, transaction_events: int, rate: float | None) -> None:
    """``count`` events, ``transaction_events`` per transaction, paced at ``rate``/s in total
    by ``PRODUCERS`` threads. Event n goes to aggregate n mod AGGREGATES and to thread
    n mod PRODUCERS, so each aggregate has one writer and its events commit in seq order."""
    threads = [
        threading.Thread(
            target=produce_share,
            args=(range(share, count, PRODUCERS), transaction_events, rate and rate / PRODUCERS),
        )
        for share in range(PRODUCERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def produce_share(numbers: range, transaction_events: int, rate: float | None) -> None:
    from django.db import connection, transaction

    from bench.consumer.handlers import BenchHappened
    from retail.platform.outbox import emit

    pause: Callable[[], None] = paced(transaction_events / rate) if rate else lambda: None
    try:
        for first in range(0, len(numbers), transaction_events):
            with transaction.atomic():
                for n in numbers[first : first + transaction_events]:
                    emit(BenchHappened(aggregate_id=f"order-{n % AGGREGATES}", position=n))
            pause()
    finally:
        connection.close()


def paced(interval_s: float) -> Callable[[], None]:
    next_at = time.monotonic()

    def pause() -> None:
        nonlocal next_at
        next_at += interval_s
        time.sleep(max(0.0, next_at - time.monotonic()))

    return pause


def group_cpu_seconds(group: int) -> float:
    """User + system CPU of every live process in process group ``group`` (Linux /proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def pending() -> int:
    from retail.platform.models import OutboxMessage

    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count()


def effects_check(expected: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT event_id),"
            " bool_and(ordered) FROM (SELECT event_id, position > coalesce(lag(position)"
            " OVER (PARTITION BY aggregate_id ORDER BY id), -1) AS ordered FROM bench_effect) e"
        )
        total, distinct, ordered = cursor.fetchone()
    assert (total, distinct, ordered) == (expected, expected, True), (total, distinct, ordered)


def percentiles_ms() -> tuple[float, float, float]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY ms), max(ms)"
            " FROM (SELECT extract(epoch FROM delivered_at - occurred_at) * 1000 AS ms"
            " FROM platform_outbox) latencies"
        )
        (p50, p99), worst = cursor.fetchone()
    return round(p50, 1), round(p99, 1), round(float(worst), 1)


if __name__ == "__main__":
    main()
