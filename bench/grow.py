"""Grow the bench database: past orders with everything each left behind (issue 13).

A checkout that is fast on an empty database may not be on a year's worth of data: the
compliance rules read a holder's history and identity peers, indexes deepen, the audit chain
and the outbox grow. ``grow`` bulk-loads into an already-migrated database ``orders`` paid web
orders spread over the last 180 days (``bench.grow_plan``), with their customers, lines,
payments, stock reservations and moves, shipments, history rows, compliance operation records,
balanced ledger entries, delivered outbox events with their inbox receipts (and side-lane
deliveries where lanes exist), PSP webhook receipts, the last day's idempotency keys and a
valid continuation of the audit hash chain. No trigger is disabled: the append-only, retention
and ledger-balance rules judge these rows as they judge the application's.

How, fast: the orders are planned here and staged in an UNLOGGED table with one COPY; the
database then fills most tables with INSERT … SELECT from the stage (``bench.grow_tables``) on
two connections while this process streams, through COPY on three more, the tables only Python
can compute (``bench.grow_streams``: CPF hashes and ciphertexts, event payloads, the audit
chain). Receipts and lane deliveries follow from the loaded outbox, the AML rules' windowed
aggregates from the loaded operation records. Then VACUUM ANALYZE (the
measurement must not meet autovacuum's first pass over millions of new rows, nor plans made
for empty tables) and a CHECKPOINT (nor the load's dirty pages).

Tolerant of a schema in flux: a table that does not exist is skipped, a column a table no
longer has is left out, and a table that needs a column no loader knows is skipped; each is
reported under ``skipped``. Run it on an idle database (reserved sequence values are assumed
to be the only ones taken meanwhile).

``python -m bench.grow ORDERS [--hot N]`` grows ``rastro_bench`` (migrated) by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import django
import psycopg
from django.conf import settings

from bench.database import bench_database_url
from bench.grow_plan import EVENTS_PER_ORDER, PastOrder, Plan, Reserved, Sku, order_plan
from bench.grow_streams import EVENT_TYPES, STREAMS, Event, Stream, order_events
from bench.grow_tables import (
    DERIVED,
    FROM_OUTBOX,
    STAGE,
    STAGE_COLUMNS,
    Context,
    Derived,
    Table,
    stage_row,
)
from retail.platform import inbox

NUMBER_SEQUENCE = "orders_order_number_seq"  # retail.orders.models (not imported: models)


@dataclass(frozen=True)
class Column:
    type: str  # without its modifier: a cast never truncates
    required: bool  # NOT NULL with no default: an INSERT must give it


Schema = dict[str, dict[str, Column]]  # table → column name → Column


class Skipped(Exception):
    """A table this load cannot fill as the schema stands now."""


def grow(database_url: str, orders: int, hot_customer_orders: int = 0) -> dict[str, Any]:
    """Loads ``orders`` past orders (``hot_customer_orders`` of them by one customer) into the
    migrated database at ``database_url``; returns what it loaded, how long it took, what it
    skipped and who the hot customer is (``cpf``, to place more orders as them)."""
    if not 0 <= hot_customer_orders <= orders:
        raise ValueError("hot_customer_orders must be between 0 and orders")
    started = time.monotonic()
    _django_setup()
    with psycopg.connect(database_url, autocommit=True) as connection:
        schema, now = _schema(connection), _now(connection)
        reserved = _reserve(connection, orders)
        plan = order_plan(orders, hot_customer_orders, _skus(connection), reserved, now)
    timings = {"plan_s": time.monotonic() - started}
    context = _context(reserved)
    rows: dict[str, int] = {}
    skipped: dict[str, str] = {}
    _stage(database_url, plan)
    timings["stage_s"] = time.monotonic() - started
    with ThreadPoolExecutor(max_workers=len(DERIVED)) as pool:
        groups = [
            pool.submit(_insert_all, database_url, group, context, schema) for group in DERIVED
        ]
        rows.update(_copy_all(database_url, plan, schema, skipped))
        timings["streams_s"] = time.monotonic() - started
        from_outbox = _insert_all(database_url, FROM_OUTBOX, context, schema)
        timings["receipts_s"] = time.monotonic() - started
        for inserted in (*(group.result() for group in groups), from_outbox):
            rows.update(inserted.loaded)
            skipped.update(inserted.skipped)
    timings["tables_s"] = time.monotonic() - started
    _settle(database_url)
    timings["vacuum_analyze_s"] = time.monotonic() - started
    return {
        "orders": orders,
        "hot_customer": _hot(plan, hot_customer_orders),
        "seconds": round(time.monotonic() - started, 1),
        "elapsed_at": {name: round(seconds, 1) for name, seconds in timings.items()},
        "rows": rows,
        "skipped": skipped,
    }


def _django_setup() -> None:
    """Settings (the CPF keys derive from SECRET_KEY, as in the bench's processes) and the
    apps (their handlers fill the consumer registry)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


_SCHEMA_SQL = """
    SELECT c.relname, a.attname, format_type(a.atttypid, NULL),
           a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
      AND a.attnum > 0 AND NOT a.attisdropped
"""


def _schema(connection: psycopg.Connection) -> Schema:
    schema: Schema = {}
    for table, column, type_, required in connection.execute(_SCHEMA_SQL):
        schema.setdefault(table, {})[column] = Column(type_, required)
    return schema


def _now(connection: psycopg.Connection) -> datetime:
    row = connection.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]


def _skus(connection: psycopg.Connection) -> list[Sku]:
    """The active SKUs at the web channel's price (its override, else the base price)."""
    rows = connection.execute(
        "SELECT s.code, s.name, coalesce(p.price, s.base_price) FROM catalog_sku s"
        " LEFT JOIN catalog_channelprice p ON p.sku_id = s.id AND p.channel_code = 'web'"
        " WHERE s.is_active ORDER BY s.code"
    ).fetchall()
    if len(rows) < 4:
        raise RuntimeError("grow needs a catalog (seed_demo) of at least 4 active SKUs")
    return [Sku(code, name, price) for code, name, price in rows]


def _reserve(connection: psycopg.Connection, orders: int) -> Reserved:
    """Order numbers, outbox seqs and journal entry ids the orders' rows refer to each other by."""

    def taken(sequence: str, count: int) -> list[int]:
        rows = connection.execute(
            "SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count]
        ).fetchall()
        return [value for (value,) in rows]

    def serial(table: str, column: str) -> str:
        row = connection.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
        return str(row.fetchone()[0])  # type: ignore[index]

    return Reserved(
        order_numbers=taken(NUMBER_SEQUENCE, orders),
        outbox_seqs=taken(serial("platform_outbox", "seq"), orders * EVENTS_PER_ORDER),
        journal_entry_ids=taken(serial("ledger_journal_entry", "id"), orders * 2),
    )


def _context(reserved: Reserved) -> Context:
    core = getattr(inbox, "CORE_LANE", "core")
    consumers = [(kind, c) for kind in EVENT_TYPES for c in inbox.consumers_of(kind)]
    return Context(
        beneficiary_name=settings.COMPLIANCE_REPORTER_NAME,
        beneficiary_document=settings.COMPLIANCE_REPORTER_CNPJ,
        psp_name=settings.COMPLIANCE_PSP_NAME,
        idempotency_ttl=timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_S),
        consumers=[(kind, consumer.name) for kind, consumer in consumers],
        side_lanes=sorted(
            {(kind, lane) for kind, c in consumers if (lane := getattr(c, "lane", core)) != core}
        ),
        outbox_seqs=(min(reserved.outbox_seqs, default=0), max(reserved.outbox_seqs, default=0)),
    )


def _stage(database_url: str, plan: Plan) -> None:
    """The orders, one row each, in ``STAGE`` (dropped by ``_settle``)."""
    columns = ", ".join(f"{name} {type_}" for name, type_ in STAGE_COLUMNS.items())
    with psycopg.connect(database_url) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {STAGE}")
        connection.execute(f"CREATE UNLOGGED TABLE {STAGE} ({columns})")
        names = ", ".join(STAGE_COLUMNS)
        with connection.cursor().copy(f"COPY {STAGE} ({names}) FROM STDIN") as copy:
            for order in plan.orders:
                copy.write_row(stage_row(order))


@dataclass(frozen=True)
class Inserted:
    loaded: dict[str, int]
    skipped: dict[str, str]


def _insert_all(
    database_url: str, tables: Iterable[Table], context: Context, schema: Schema
) -> Inserted:
    """The tables in one transaction (a journal entry commits with its postings)."""
    loaded, skipped = {}, {}
    with psycopg.connect(database_url) as connection:
        for table in tables:
            derived = table(context)
            try:
                statement = _insert_sql(derived, schema)
            except Skipped as reason:
                skipped[derived.table] = str(reason)
                continue
            if statement:
                loaded[derived.table] = connection.execute(statement).rowcount
    return Inserted(loaded, skipped)


def _insert_sql(derived: Derived, schema: Schema) -> str:
    """``INSERT INTO table (columns) SELECT … UNION ALL SELECT …``, each value cast to its
    column's type (a NULL in every variant would otherwise be text); "" when nothing to load."""
    if not derived.variants:
        return ""
    names = list(derived.variants[0])
    assert all(list(variant) == names for variant in derived.variants), derived.table
    table = _columns(derived.table, names, schema)
    kept = [name for name in names if name in table]
    selects = " UNION ALL ".join(
        "SELECT "
        + ", ".join(f"CAST({variant[name]} AS {table[name].type})" for name in kept)
        + f" {derived.source}"
        for variant in derived.variants
    )
    return f"INSERT INTO {derived.table} ({', '.join(kept)}) {selects} {derived.suffix}"


def _columns(table: str, names: Iterable[str], schema: Schema) -> dict[str, Column]:
    """The table's columns; Skipped if it does not exist or needs one that ``names`` lacks."""
    if table not in schema:
        raise Skipped("no such table")
    unknown = sorted(
        name for name, column in schema[table].items() if column.required and name not in names
    )
    if unknown:
        raise Skipped(f"needs columns no loader fills: {', '.join(unknown)}")
    return schema[table]


def _copy_all(
    database_url: str, plan: Plan, schema: Schema, skipped: dict[str, str]
) -> dict[str, int]:
    """One pass over the orders, each stream's rows sent through its own COPY (connection)."""
    with contextlib.ExitStack() as stack:
        writers = []
        for make in STREAMS:
            connection = stack.enter_context(psycopg.connect(database_url))
            stream = make(connection)
            try:
                writers.append(_Writer(stack, connection, stream, schema))
            except Skipped as reason:
                skipped[stream.table] = str(reason)
        for order in plan.orders:
            events = order_events(order)
            for writer in writers:
                writer.write(order, events)
    return {writer.stream.table: writer.count for writer in writers}


class _Writer:
    """A stream's COPY, leaving out the columns its table no longer has."""

    def __init__(self, stack: contextlib.ExitStack, connection: psycopg.Connection,
                 stream: Stream, schema: Schema) -> None:  # fmt: skip
        table = _columns(stream.table, stream.columns, schema)
        kept = [index for index, name in enumerate(stream.columns) if name in table]
        self.kept = None if len(kept) == len(stream.columns) else kept
        names = ", ".join(stream.columns[index] for index in kept)
        command = f"COPY {stream.table} ({names}) FROM STDIN"
        self.copy = stack.enter_context(connection.cursor().copy(command))
        self.stream, self.count = stream, 0

    def write(self, order: PastOrder, events: list[Event]) -> None:
        for row in self.stream.rows(order, events):
            self.copy.write_row(row if self.kept is None else [row[i] for i in self.kept])
            self.count += 1


def _settle(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {STAGE}")
        _aml_aggregates_backfill(connection)
        connection.execute("VACUUM (ANALYZE)")
        connection.execute("CHECKPOINT")


def _aml_aggregates_backfill(connection: psycopg.Connection) -> None:
    """The AML rules' windowed aggregates of the loaded records, computed as the migration that
    introduced them computed them for the records already there (where that schema exists)."""
    row = connection.execute("SELECT to_regclass('compliance_holder_activity')").fetchone()
    if row is None or row[0] is None:
        return
    migration = importlib.import_module("retail.compliance.migrations.0006_windowed_aggregates")
    connection.execute(migration.BACKFILL)


def _hot(plan: Plan, orders: int) -> dict[str, Any] | None:
    if plan.hot is None:
        return None
    hot = plan.hot
    return {"customer_id": hot.id, "cpf": hot.cpf, "name": hot.name, "email": hot.email,
            "orders": orders}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("orders", type=int)
    parser.add_argument("--hot", type=int, default=0, help="orders of one hot customer")
    parser.add_argument("--database-url", default=bench_database_url())
    arguments = parser.parse_args()
    print(json.dumps(grow(arguments.database_url, arguments.orders, arguments.hot), indent=2))


if __name__ == "__main__":
    main()
