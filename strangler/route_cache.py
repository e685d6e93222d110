"""Each process's cached route table, re-checked against the database stamp once a second.

The per-request cost is a clock read and a comparison; once per ``STRANGLER_ROUTE_REFRESH_S``
one request per process reads the one-row stamp table (and reloads the routes if the stamp
moved). Works the same in gunicorn and Celery processes and survives forks: nothing runs in
the background. If the database cannot be read, the last table keeps serving.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.db import DatabaseError

from strangler import selectors
from strangler.domain import RouteTable

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Snapshot:
    table: RouteTable
    stamp: selectors.Stamp | None
    checked_at: float
    loaded: bool


_EMPTY = Snapshot(RouteTable([]), None, -math.inf, loaded=False)


class RouteCache:
    def __init__(self) -> None:
        self._snapshot = _EMPTY
        self._lock = threading.Lock()

    def table(self) -> RouteTable:
        snapshot = self._snapshot
        if time.monotonic() - snapshot.checked_at < settings.STRANGLER_ROUTE_REFRESH_S:
            return snapshot.table
        # Until the first load every thread waits for it (an empty table would send everything
        # to legacy); afterwards one thread re-checks while the others use the current table.
        if not self._lock.acquire(blocking=not snapshot.loaded):
            return snapshot.table
        try:
            if self._snapshot is snapshot:
                self._snapshot = self._refreshed(snapshot)
            return self._snapshot.table
        finally:
            self._lock.release()

    def _refreshed(self, snapshot: Snapshot) -> Snapshot:
        now = time.monotonic()
        try:
            stamp = selectors.route_table_stamp()  # read first: a change after it reloads again
            if snapshot.loaded and stamp is not None and stamp == snapshot.stamp:
                return Snapshot(snapshot.table, stamp, now, loaded=True)
            return Snapshot(selectors.route_table_load(), stamp, now, loaded=True)
        except DatabaseError as error:
            log.warning("route_table_refresh_failed", error=str(error))
            return Snapshot(snapshot.table, snapshot.stamp, now, loaded=snapshot.loaded)

    def invalidate(self) -> None:
        """The next request reloads the table (this process only; others follow the stamp)."""
        self._snapshot = _EMPTY


route_cache = RouteCache()
