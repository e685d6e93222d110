"""The event kernel's tables: idempotency keys, the outbox, inbox receipts, webhook receipts."""

import uuid

from django.db import models
from django.db.models import Q


class IdempotencyKey(models.Model):
    """The stored outcome of one effecting request, committed in the same transaction as its effect.

    Only finished requests have a row: a request in flight holds a transaction-scoped advisory
    lock instead (see ``retail.platform.idempotency``), so a crash leaves nothing to recover.
    """

    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body")
    response_status = models.PositiveSmallIntegerField()
    response_content_type = models.CharField(max_length=100)
    response_body = models.BinaryField()
    response_location = models.CharField(max_length=500, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "platform_idempotency_key"
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique_in_scope")
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.key} → {self.response_status}"


class OutboxMessage(models.Model):
    """A domain event written in the same transaction as the state change that caused it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        DEAD = "dead"

    seq = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    aggregate_type = models.CharField(max_length=50)
    aggregate_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=100)
    version = models.PositiveSmallIntegerField()
    payload = models.JSONField()
    occurred_at = models.DateTimeField()
    request_id = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(help_text="not retried before this time")
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "platform_outbox"
        indexes = [
            models.Index(
                fields=["seq"], condition=Q(status="pending"), name="outbox_pending_by_seq"
            ),
            models.Index(
                fields=["aggregate_type", "aggregate_id", "seq"],
                condition=Q(status="pending"),
                name="outbox_pending_by_aggregate",
            ),
            models.Index(fields=["aggregate_type", "aggregate_id"], name="outbox_by_aggregate"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} v{self.version} {self.aggregate_type}:{self.aggregate_id}"


class LaneDelivery(models.Model):
    """The delivery of one outbox event to one side lane (``compliance``, ``audit``…).

    Written with the event (``emit``), so a side lane depends on nothing but the outbox: its
    relay claims these rows as the core relay claims outbox rows (oldest pending per aggregate
    first), and its failures, backoff and dead letters are its own.
    """

    id = models.BigAutoField(primary_key=True)
    lane = models.CharField(max_length=32)
    message = models.ForeignKey(
        OutboxMessage, on_delete=models.CASCADE, db_column="seq", related_name="lane_deliveries"
    )
    aggregate_type = models.CharField(max_length=50)
    aggregate_id = models.CharField(max_length=64)
    status = models.CharField(
        max_length=10, choices=OutboxMessage.Status.choices, default=OutboxMessage.Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(help_text="not retried before this time")
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "platform_lane_delivery"
        constraints = [
            models.UniqueConstraint(fields=["lane", "message"], name="lane_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["lane", "message"],
                condition=Q(status="pending"),
                name="lane_pending_by_seq",
            ),
            models.Index(
                fields=["lane", "aggregate_type", "aggregate_id", "message"],
                condition=Q(status="pending"),
                name="lane_pending_by_aggregate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lane} ← {self.message_id}"


class InboxReceipt(models.Model):
    """Consumer ``consumer`` has applied event ``event_id``; written with the consumer's effect."""

    consumer = models.CharField(max_length=100)
    event_id = models.UUIDField()
    handled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "platform_inbox_receipt"
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event_id"], name="inbox_receipt_unique")
        ]

    def __str__(self) -> str:
        return f"{self.consumer} ← {self.event_id}"


class WebhookReceipt(models.Model):
    """A webhook accepted from ``source``; its ``webhook-id`` is the idempotency key."""

    source = models.CharField(max_length=100)
    webhook_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "platform_webhook_receipt"
        constraints = [
            models.UniqueConstraint(fields=["source", "webhook_id"], name="webhook_receipt_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.webhook_id}"
