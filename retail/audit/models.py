"""The audit tables (``audit_…``): entries, daily checkpoints of the head, retention purges.

The database refuses UPDATE and DELETE on all three (migration 0002); the one way out is
``audit_purge_expired``, which removes only a prefix of entries whose ``retain_until`` passed.
"""

from datetime import date
from typing import Any

from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from retail.audit import domain


class AuditEntry(models.Model):
    KIND_CHOICES = [(kind, kind) for kind in domain.Kind.ALL]

    seq = models.BigIntegerField(primary_key=True, help_text="strictly increasing, no gaps")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    action = models.CharField(max_length=200)
    actor = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    order_id = models.CharField(  # noqa: DJ001 - null: the entry is about no order
        max_length=64, null=True, blank=True, db_index=True
    )
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    retain_until = models.DateField(db_index=True)

    class Meta:
        db_table = "audit_entry"
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.action}"

    def content(self) -> domain.EntryContent:
        return domain.EntryContent(
            seq=self.seq,
            at=self.at,
            kind=self.kind,
            action=self.action,
            actor=self.actor,
            channel=self.channel,
            idempotency_key=self.idempotency_key,
            request_id=self.request_id,
            order_id=self.order_id,
            data=self.data,
            retain_until=self.retain_until,
        )


class AuditCheckpoint(models.Model):
    """The chain head at a moment; a later verify that cannot find it has lost its tail."""

    at = models.DateTimeField(default=timezone.now)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    mac = models.CharField(max_length=64, help_text="HMAC under AUDIT_CHECKPOINT_KEY")

    class Meta:
        db_table = "audit_checkpoint"

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}… at {self.at:%Y-%m-%d %H:%M}"


class AuditPurge(models.Model):
    """A retention purge: entries up to ``through_seq`` were removed; the chain restarts there."""

    at = models.DateTimeField()
    before = models.DateField()
    through_seq = models.BigIntegerField()
    through_hash = models.CharField(max_length=64)
    deleted = models.BigIntegerField()
    actor = models.CharField(max_length=200)

    class Meta:
        db_table = "audit_purge"

    def __str__(self) -> str:
        return f"purge through #{self.through_seq} by {self.actor}"


def retain_until_now() -> date:
    return domain.retain_until(timezone.now())


class RetainedHistory(models.Model):
    """Base of history tables (``HistoricalRecords(bases=[RetainedHistory])``): keeps who did it
    (channel, staff or system, also when that is not a Django user) and until when."""

    retain_until = models.DateField(default=retain_until_now, db_index=True)
    history_actor = models.CharField(max_length=200, blank=True, default="")
    history_request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.history_actor:
            self.history_actor, self.history_request_id = history_context()
        super().save(*args, **kwargs)


def history_context() -> tuple[str, str]:
    """The actor label and request id of the change being made now (``system`` off requests)."""
    request = getattr(HistoricalRecords.context, "request", None)
    actor, _ = domain.actor_label(getattr(request, "user", None))
    return actor or domain.SYSTEM_ACTOR, getattr(request, "request_id", "")
