"""Reads of the audit log: the chain head, order traces, chain verification."""

from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from retail.audit import domain
from retail.audit.models import AuditCheckpoint, AuditEntry, AuditPurge

# The newest entry, or (if a purge removed everything) the purge's anchor, or the genesis; and
# the database clock read *after* the caller took the chain lock, so ``at`` follows ``seq``.
_HEAD_SQL = """
    SELECT head.seq, head.hash, clock_timestamp() FROM (
        (SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1)
        UNION ALL
        (SELECT through_seq, through_hash FROM audit_purge ORDER BY through_seq DESC LIMIT 1)
        UNION ALL
        (SELECT 0, %s)
    ) AS head ORDER BY head.seq DESC LIMIT 1
"""
VERIFY_CHUNK = 2000


def chain_head() -> tuple[int, str, datetime]:
    """``(seq, hash, now)`` of the chain's head. Take the chain lock first for a stable answer."""
    with connection.cursor() as cursor:
        cursor.execute(_HEAD_SQL, [domain.GENESIS_HASH])
        seq, hash_, now = cursor.fetchone()
    return seq, hash_, now


def order_trace(order_id: str) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(order_id=order_id).order_by("seq")


def chain_anchor() -> domain.Anchor:
    purge = AuditPurge.objects.order_by("-through_seq").first()
    if purge is None:
        return domain.Anchor()
    return domain.Anchor(purge.through_seq, purge.through_hash)


def chain_verify() -> domain.Verification:
    """Recompute the whole chain from its anchor and compare it with every checkpoint."""
    checkpoints = [
        domain.Checkpoint(seq, hash_, mac)
        for seq, hash_, mac in AuditCheckpoint.objects.order_by("id").values_list(
            "seq", "hash", "mac"
        )
    ]
    return domain.chain_verify(_stored_entries(), chain_anchor(), checkpoints, checkpoint_key())


def checkpoint_key() -> bytes:
    return settings.AUDIT_CHECKPOINT_KEY.encode()


def last_checkpoint_mac() -> str:
    return AuditCheckpoint.objects.order_by("-id").values_list("mac", flat=True).first() or ""


def _stored_entries() -> Iterator[domain.StoredEntry]:
    after = -1
    while True:
        chunk = list(AuditEntry.objects.filter(seq__gt=after).order_by("seq")[:VERIFY_CHUNK])
        for entry in chunk:
            yield domain.StoredEntry(entry.content(), entry.prev_hash, entry.hash)
        if len(chunk) < VERIFY_CHUNK:
            return
        after = chunk[-1].seq
