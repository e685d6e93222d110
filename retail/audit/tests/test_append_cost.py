"""The price of the chain lock: µs per append alone and with 4 concurrent writers (printed)."""

import statistics
import threading
import time

import pytest
from django.db import connection, connections, transaction

from retail.audit import selectors, services

pytestmark = pytest.mark.django_db(transaction=True)
APPENDS = 200


def timed_appends(count: int, out: list[float]) -> None:
    try:
        for number in range(count):
            with transaction.atomic():
                started = time.perf_counter()
                services.entry_append(kind="event", action="Bench", data={"n": number})
                out.append(time.perf_counter() - started)
    finally:
        connections.close_all()


def timed_round_trips(count: int) -> list[float]:
    """The baseline: three trivial statements in a transaction (what an append costs at least)."""
    out = []
    for _ in range(count):
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            for _ in range(3):
                cursor.execute("SELECT 1")
            out.append(time.perf_counter() - started)
    return out


def test_append_cost_alone_and_with_four_writers(capsys):
    baseline = timed_round_trips(APPENDS)
    alone: list[float] = []
    timed_appends(APPENDS, alone)
    together: list[float] = []
    started = time.perf_counter()
    threads = [threading.Thread(target=timed_appends, args=(APPENDS, together)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    assert len(together) == 4 * APPENDS
    assert selectors.chain_verify().entries == 5 * APPENDS
    with capsys.disabled():
        print(
            f"\naudit append: 3 x SELECT 1 median {statistics.median(baseline) * 1e6:.0f} µs;"
            f" alone median {statistics.median(alone) * 1e6:.0f} µs"
            f" p95 {statistics.quantiles(alone, n=20)[18] * 1e6:.0f} µs;"
            f" 4 writers median {statistics.median(together) * 1e6:.0f} µs"
            f" p95 {statistics.quantiles(together, n=20)[18] * 1e6:.0f} µs,"
            f" {len(together) / wall:.0f} appends/s"
        )
