"""Shipments: one per paid order, moved along by staff (shipped, delivered)."""

from django.db import models
from django.utils import timezone

from retail.audit.public import audited_history
from retail.platform.ids import IdFactory


class Shipment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SHIPPED = "shipped"
        DELIVERED = "delivered"
        CANCELLED = "cancelled"

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("shp"), editable=False)
    order_id = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    shipping_address = models.JSONField(default=dict)
    carrier = models.CharField(max_length=64, blank=True)
    tracking_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    history = audited_history(excluded_fields=["shipping_address"])  # set once, personal data

    def __str__(self) -> str:
        return f"{self.pk} for {self.order_id} ({self.status})"
