"""The benchmark's event and consumer: one small insert per event, like a real handler."""

from dataclasses import dataclass
from typing import ClassVar

from django.db import connection

from retail.platform.events import DomainEvent
from retail.platform.inbox import EventContext, handles

EFFECT_TABLE = "bench_effect"
CONSUMER = "bench.effect_write"


@dataclass(frozen=True, kw_only=True)
class BenchHappened(DomainEvent):
    event_type: ClassVar[str] = "BenchHappened"
    version: ClassVar[int] = 1
    aggregate_type: ClassVar[str] = "bench"
    position: int


def effect_table_reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {EFFECT_TABLE} (id bigserial PRIMARY KEY,"
            " event_id uuid NOT NULL, aggregate_id text NOT NULL, position int NOT NULL,"
            " at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
        cursor.execute(
            f"TRUNCATE {EFFECT_TABLE}, platform_outbox, platform_lane_delivery,"
            " platform_inbox_receipt RESTART IDENTITY"
        )


@handles(BenchHappened, consumer=CONSUMER)
def bench_effect_write(event: BenchHappened, context: EventContext) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EFFECT_TABLE} (event_id, aggregate_id, position) VALUES (%s, %s, %s)",  # noqa: S608
            [context.event_id, event.aggregate_id, event.position],
        )
