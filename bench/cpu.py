"""CPU time of the bench's processes, by kind, read from ``/proc/<pid>/stat``.

A kind is a process tree: gunicorn (master and workers), the Celery worker (and its prefork
children), the PSP stand-in, and PostgreSQL: the postmaster serving the bench database and all
its processes (backends of every database, background workers); other clusters on the machine,
such as the private ones some tests start, are not counted. A process counts its
own user and system time plus that of its children it has reaped, so work done by a process
that exits between two snapshots (a replaced worker, a closed backend) is still counted, by its
parent. A snapshot's difference with an earlier one is the CPU the kind spent meanwhile.

``postgres_bench_db`` is the backends connected to the bench database alone (listed by
``pg_stat_activity``): the machine's PostgreSQL may be serving someone else's tests at the same
time. A backend that closes between the snapshots is missing from it (a lower bound).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
POSTGRES = "postgres"
BENCH_DB = "postgres_bench_db"


@dataclass(frozen=True)
class Stat:
    pid: int
    parent: int
    comm: str
    started: int  # clock ticks after boot: tells a reused pid from the process it had
    ticks: int  # utime + stime + cutime + cstime


def stats() -> dict[int, Stat]:
    """Every process now running, by pid (one that exits while being read is left out)."""
    found = {}
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = path.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        # fields[0] is field 3 (state): utime..cstime are fields 14-17, starttime is 22
        ticks = sum(int(value) for value in fields[11:15])
        pid = int(path.parent.name)
        found[pid] = Stat(pid, int(fields[1]), comm, int(fields[19]), ticks)
    return found


def descendants(roots: Iterable[int], processes: Mapping[int, Stat]) -> set[int]:
    """``roots`` (those still running) and every process below them."""
    children: dict[int, list[int]] = {}
    for stat in processes.values():
        children.setdefault(stat.parent, []).append(stat.pid)
    found, pending = set(), [root for root in roots if root in processes]
    while pending:
        pid = pending.pop()
        found.add(pid)
        pending.extend(children.get(pid, ()))
    return found


Snapshot = dict[str, dict[tuple[int, int], int]]  # kind → (pid, started) → ticks


def snapshot(roots: Mapping[str, list[int]], database_url: str) -> Snapshot:
    """CPU ticks of each kind's processes now: ``roots`` (kind → root pids), the PostgreSQL
    serving ``database_url`` (the parent of this snapshot's own backend), and the backends of
    that database (this one left out)."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        own = connection.info.backend_pid
        processes = stats()
    kinds = {kind: descendants(pids, processes) for kind, pids in roots.items()}
    kinds[POSTGRES] = descendants([processes[own].parent], processes) - {own}
    kinds[BENCH_DB] = {pid for (pid,) in rows} & kinds[POSTGRES]
    return {
        kind: {(pid, processes[pid].started): processes[pid].ticks for pid in pids}
        for kind, pids in kinds.items()
    }


def cpu_seconds(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds each kind spent between the snapshots.

    The whole-tree kinds compare totals (an exited process's time moved to its parent); the
    bench database's backends compare each backend still there with itself (new ones count
    in full).
    """
    spent = {}
    for kind, now in after.items():
        then = before.get(kind, {})
        if kind == BENCH_DB:
            ticks = sum(value - then.get(key, 0) for key, value in now.items())
        else:
            ticks = sum(now.values()) - sum(then.values())
        spent[kind] = ticks / TICKS_PER_S
    return spent
