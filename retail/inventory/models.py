"""Stock per SKU, reservations (with their deadline) and the moves that explain every change."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from retail.audit.public import audited_history


class StockItem(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    on_hand = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    history = audited_history()  # written by inventory.services._apply (one INSERT per change)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inventory_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="inventory_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="inventory_reserved_lte_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Reservation(models.Model):
    """Stock held for one reference (an order id) until it is committed, released or expired."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        COMMITTED = "committed"
        RELEASED = "released"
        EXPIRED = "expired"
        RETURNED = "returned"  # committed, then the order was cancelled: back on hand

    reference = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = audited_history()

    class Meta:
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status="active"),
                name="inventory_active_by_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.PROTECT, related_name="lines")
    sku = models.CharField(max_length=64)
    quantity = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "sku"], name="inventory_one_line_per_sku"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_line_qty_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.sku}"


class StockMove(models.Model):
    """One change of one SKU's counters, with why and for what (append-only)."""

    class Reason(models.TextChoices):
        RECEIVE = "receive"
        RESERVE = "reserve"
        RELEASE = "release"
        EXPIRE = "expire"
        COMMIT = "commit"
        RETURN = "return"

    sku = models.CharField(max_length=64, db_index=True)
    delta_on_hand = models.BigIntegerField(default=0)
    delta_reserved = models.BigIntegerField(default=0)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    reference = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.sku} {self.reason} {self.reference}"
