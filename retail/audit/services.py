"""Writes to the audit log. Appends run inside the caller's transaction, serialised by one lock.

``pg_advisory_xact_lock`` on a fixed key is held from the append until the caller commits, so
the next appender reads a committed head: ``seq`` has no gaps (a rolled-back append frees its
number), and every ``prev_hash`` is the hash of the entry just before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.utils import timezone

from retail.audit import domain, selectors
from retail.audit.models import AuditCheckpoint, AuditEntry, AuditPurge, RetainedHistory

log = structlog.get_logger(__name__)
CHAIN_LOCK_KEY = 0x617564_6974  # "audit": one chain, one lock
AUDITOR_GROUP = "auditor"


class AuditOutsideTransaction(RuntimeError):
    pass


def chain_lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def entry_append(
    *,
    kind: str,
    action: str,
    actor: str = "",
    channel: str = "",
    idempotency_key: str = "",
    request_id: str = "",
    order_id: str | None = None,
    data: Any = None,
) -> AuditEntry:
    """Append one entry to the chain; must run inside the transaction of what it records."""
    entry = {
        "kind": kind,
        "action": action,
        "actor": actor,
        "channel": channel,
        "idempotency_key": idempotency_key,
        "request_id": request_id,
        "order_id": order_id,
        "data": data,
    }
    return entries_append([entry])[0]


def entries_append(entries: list[dict[str, Any]]) -> list[AuditEntry]:
    """Append entries (``entry_append``'s keyword arguments each) under one lock, in order."""
    for entry in entries:
        if entry["kind"] not in domain.Kind.ALL:
            raise ValueError(f"unknown audit kind {entry['kind']!r}")
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("an audit entry is written in its operation's transaction")
    chain_lock()
    prev_seq, prev_hash, now = selectors.chain_head()
    rows = []
    for offset, entry in enumerate(entries, start=1):
        data = entry.get("data")
        content = domain.EntryContent(
            seq=prev_seq + offset,
            at=now,
            kind=entry["kind"],
            action=_text(entry["action"])[:200],
            actor=_text(entry.get("actor", ""))[:200],
            channel=_text(entry.get("channel", ""))[:64],
            idempotency_key=_text(entry.get("idempotency_key", ""))[:255],
            request_id=_text(entry.get("request_id", ""))[:128],
            order_id=None if entry.get("order_id") is None else _text(entry["order_id"])[:64],
            data=_json_value(domain.redact(data if data is not None else {})),
            retain_until=domain.retain_until(now),
        )
        entry_hash = content.hash_after(prev_hash)
        rows.append(AuditEntry(**vars(content), prev_hash=prev_hash, hash=entry_hash))
        prev_hash = entry_hash
    return AuditEntry.objects.bulk_create(rows)


def _json_value(value: Any) -> Any:
    """What PostgreSQL's jsonb will hand back, so the hash recomputes from the stored row."""
    return _without_nul(json.loads(json.dumps(value, default=str)))


def _text(value: str) -> str:
    """PostgreSQL text holds no NUL: a client's NUL is recorded as U+FFFD, not lost."""
    return value.replace("\x00", "\ufffd")


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_text(key): _without_nul(item) for key, item in value.items()}
    return value


def checkpoint_create() -> AuditCheckpoint:
    with transaction.atomic():
        chain_lock()
        seq, hash_, now = selectors.chain_head()
        mac = domain.checkpoint_mac(
            selectors.checkpoint_key(), seq, hash_, selectors.last_checkpoint_mac()
        )
        checkpoint = AuditCheckpoint.objects.create(at=now, seq=seq, hash=hash_, mac=mac)
    # Also outside the database: the log keeps every checkpoint for as long as it is shipped.
    log.info("audit.checkpoint", seq=seq, hash=hash_, mac=mac)
    return checkpoint


@dataclass(frozen=True)
class Purged:
    entries: AuditPurge | None
    history: dict[str, int]  # history table → rows deleted


def retention_purge(*, before: date, actor: str) -> Purged:
    """Remove audit entries (through the database's one deletion path) and history rows whose
    ``retain_until`` is before ``before``, and log that it did; one transaction."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT audit_purge_expired(%s, %s)", [before, actor])
            purge_id = cursor.fetchone()[0]
        entries = None if purge_id is None else AuditPurge.objects.get(pk=purge_id)
        history = _history_purge(before)
        entry_append(
            kind=domain.Kind.STAFF,
            action="audit.purged",
            actor=actor,
            data={
                "before": before.isoformat(),
                "deleted": 0 if entries is None else entries.deleted,
                "through_seq": None if entries is None else entries.through_seq,
                "history_deleted": history,
            },
        )
    return Purged(entries, history)


def _history_purge(before: date) -> dict[str, int]:
    """Under the purge flag, which the tables' triggers honour only past ``retain_until``."""
    deleted: dict[str, int] = {}
    cutoff = min(before, timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('audit.purging', 'on', true)")
    for model in history_models():
        count, _ = model._default_manager.filter(retain_until__lt=cutoff).delete()
        if count:
            deleted[model._meta.db_table] = count
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('audit.purging', 'off', true)")
    return deleted


def history_models() -> list[type[RetainedHistory]]:
    return [model for model in apps.get_models() if issubclass(model, RetainedHistory)]


def history_tables_seal(**_signal: Any) -> None:
    """Every history table refuses UPDATE and DELETE like the audit tables (a DELETE passes
    only for a retention purge of expired rows). Run after every ``migrate`` (post_migrate),
    so a history table added later is sealed too. Idempotent."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regproc('audit_refuse_change') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return  # migrated only part of the way: audit's migration 0002 is not applied yet
        existing = set(connection.introspection.table_names(cursor))
        for model in history_models():
            if model._meta.db_table not in existing:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            name = connection.ops.quote_name(f"{model._meta.db_table}_append_only")
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION audit_refuse_change('purgeable')"
            )


def auditor_permissions_sync() -> int:
    """The ``auditor`` group may view every model and change none. Idempotent."""
    group, _ = Group.objects.get_or_create(name=AUDITOR_GROUP)
    view = list(Permission.objects.filter(codename__startswith="view_"))
    group.permissions.set(view)
    return len(view)
