"""Payment attempts, refunds, partner settlements and webhooks we could not match."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from retail.audit.public import audited_history
from retail.payments.domain import PaymentStatus, RefundStatus
from retail.platform.ids import IdFactory


def first_submission_due() -> datetime:
    """When the submission sweep may take a new row over from its after-commit task."""
    return timezone.now() + timedelta(seconds=settings.PSP_SUBMIT_GRACE_S)


class Submission(models.Model):
    """Fields of a request the PSP must accept (retail/payments/submissions.py): the row is due
    at ``retry_at`` until ``submitted_at`` is set. Scheduling, not state: kept out of history."""

    submitted_at = models.DateTimeField(null=True, blank=True, help_text="the PSP accepted it")
    submit_attempts = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(default=first_submission_due)

    class Meta:
        abstract = True


SUBMISSION_HISTORY_EXCLUDED = ["submit_attempts", "retry_at"]


def unsubmitted_index(name: str) -> models.Index:
    """The sweep's to-do list: only rows the PSP has not accepted yet, by when they are due."""
    return models.Index(
        fields=["retry_at"], condition=Q(status="requested", submitted_at=None), name=name
    )


class Payment(Submission):
    """One attempt to collect an order's money through the PSP (``pay_…`` is its PSP key)."""

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("pay"), editable=False)
    order_id = models.CharField(max_length=40)
    channel = models.CharField(max_length=50)
    amount = models.PositiveBigIntegerField(help_text="centavos")
    currency = models.CharField(max_length=3, default="BRL")
    method = models.CharField(max_length=20)
    token = models.CharField(max_length=200, help_text="the PSP's payment token, never card data")
    status = models.CharField(
        max_length=20,
        choices=[(status.value, status.value) for status in PaymentStatus],
        default=PaymentStatus.REQUESTED,
    )
    psp_reference = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    refund_when_captured = models.BooleanField(
        default=False, help_text="the order was cancelled before the capture: refund it in full"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = audited_history(excluded_fields=["token", *SUBMISSION_HISTORY_EXCLUDED])

    class Meta:
        db_table = "payments_payment"
        permissions = [("reconcile_payment", "Can ask the PSP and apply its answer (admin action)")]
        constraints = [
            models.UniqueConstraint(fields=["order_id"], name="payments_one_payment_per_order"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_amount_positive"),
        ]
        indexes = [
            models.Index(
                fields=["updated_at"],
                condition=Q(status__in=["requested", "authorized"]),
                name="payments_unsettled_age",
            ),
            unsubmitted_index("payments_payment_unsubmitted"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.status} {self.amount}"


class Refund(Submission):
    """Money going back to the customer for a captured payment (``ref_…`` is its PSP key)."""

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("ref"), editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order_id = models.CharField(max_length=40, db_index=True)
    amount = models.PositiveBigIntegerField(help_text="centavos")
    reason = models.CharField(max_length=500)
    status = models.CharField(
        max_length=20,
        choices=[(status.value, status.value) for status in RefundStatus],
        default=RefundStatus.REQUESTED,
    )
    psp_reference = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = audited_history(excluded_fields=SUBMISSION_HISTORY_EXCLUDED)

    class Meta:
        db_table = "payments_refund"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_positive"),
        ]
        indexes = [
            models.Index(
                fields=["updated_at"],
                condition=Q(status="requested"),
                name="payments_refund_pending_age",
            ),
            unsubmitted_index("payments_refund_unsubmitted"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.status} {self.amount}"


class PartnerOrder(models.Model):
    """A marketplace order the partner collected: one per ``(partner, external_order_id)``."""

    partner = models.CharField(max_length=50)
    external_order_id = models.CharField(max_length=200)
    order_id = models.CharField(max_length=40, unique=True)
    amount = models.PositiveBigIntegerField(help_text="centavos the partner owes us")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_partner_order"
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_order_id"], name="payments_partner_order_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner}/{self.external_order_id} → {self.order_id}"


class UnmatchedWebhook(models.Model):
    """A well-signed webhook we answered 422 (unknown reference, mismatch): for reconciliation."""

    source = models.CharField(max_length=60)
    webhook_id = models.CharField(max_length=255)
    code = models.CharField(max_length=60)
    event_type = models.CharField(max_length=60, blank=True)
    reference = models.CharField(max_length=255, blank=True, help_text="the id it names")
    body = models.TextField()
    deliveries = models.PositiveIntegerField(default=1)
    first_received_at = models.DateTimeField(auto_now_add=True)
    last_received_at = models.DateTimeField(auto_now=True)
    resolved = models.BooleanField(default=False)
    history = audited_history(excluded_fields=["body"])

    class Meta:
        db_table = "payments_unmatched_webhook"
        permissions = [("resolve_unmatchedwebhook", "Can mark as resolved (admin action)")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "webhook_id"], name="payments_unmatched_webhook_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.webhook_id} {self.code}"
