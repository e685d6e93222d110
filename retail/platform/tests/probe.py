"""A probe event and consumer for the kernel's tests: each application writes one effect row.

The effect table has no unique constraint on purpose, so a second application of the same
event would show up as a second row instead of being hidden by the database.
"""

import time
from dataclasses import dataclass
from typing import ClassVar

from django.db import connection

from retail.platform.events import DomainEvent
from retail.platform.inbox import EventContext, handles

EFFECT_TABLE = "kernel_probe_effect"
CONSUMER = "tests.probe_effect_write"


@dataclass(frozen=True, kw_only=True)
class ProbeHappened(DomainEvent):
    event_type: ClassVar[str] = "ProbeHappened"
    version: ClassVar[int] = 1
    aggregate_type: ClassVar[str] = "probe"
    position: int = 0
    poison: bool = False
    sleep_s: float = 0.0
    lock_key: int = 0  # when set, the handler takes this advisory lock (a contended row, say)


def effect_table_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {EFFECT_TABLE} (id bigserial PRIMARY KEY,"
            " event_id uuid NOT NULL, aggregate_id text NOT NULL, position int NOT NULL,"
            " pid int NOT NULL DEFAULT pg_backend_pid(), at timestamptz NOT NULL DEFAULT now())"
        )
        cursor.execute(f"TRUNCATE {EFFECT_TABLE}")


def effects() -> list[tuple[str, str, int]]:
    """(event_id, aggregate_id, position) of every application, in application order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT event_id::text, aggregate_id, position FROM {EFFECT_TABLE} ORDER BY id"  # noqa: S608
        )
        return list(cursor.fetchall())


class PoisonError(RuntimeError):
    pass


@handles(ProbeHappened, consumer=CONSUMER)
def probe_effect_write(event: ProbeHappened, context: EventContext) -> None:
    if event.poison:
        raise PoisonError(f"poison event at position {event.position}")
    if event.sleep_s:
        time.sleep(event.sleep_s)
    with connection.cursor() as cursor:
        if event.lock_key:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [event.lock_key])
        cursor.execute(
            f"INSERT INTO {EFFECT_TABLE} (event_id, aggregate_id, position) VALUES (%s, %s, %s)",  # noqa: S608
            [context.event_id, event.aggregate_id, event.position],
        )
