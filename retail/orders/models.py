"""Orders and their lines. ``payments``/``refunds`` are a read model kept by this context's
handlers of payments events (the payments context owns the truth)."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from retail.audit.public import audited_history
from retail.orders.domain import MAX_QUANTITY, Status
from retail.platform.ids import IdFactory

NUMBER_SEQUENCE = "orders_order_number_seq"


class Order(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("ord"), editable=False)
    number = models.CharField(max_length=32, unique=True)
    channel_code = models.SlugField(max_length=32)
    external_order_id = models.CharField(max_length=128, blank=True)  # partners' orders
    customer_id = models.CharField(max_length=40, db_index=True)
    status = models.CharField(
        max_length=24, choices=[(status.value, status.value) for status in Status]
    )
    status_reason = models.CharField(max_length=200, blank=True)
    shipped_at = models.DateTimeField(
        null=True, blank=True, help_text="when its shipment left: no cancelling after"
    )
    currency = models.CharField(max_length=3, default="BRL")
    total = models.BigIntegerField(help_text="centavos")
    payment_method = models.CharField(max_length=16)
    shipping_address = models.JSONField(default=dict)
    payments = models.JSONField(default=list)
    refunds = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    retain_until = models.DateField()
    history = audited_history(excluded_fields=["payments", "refunds"])

    class Meta:
        permissions = [("cancel_order", "Can cancel an order (admin action)")]
        indexes = [models.Index(fields=["channel_code", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="orders_total_gte_0"),
            models.UniqueConstraint(
                fields=["channel_code", "external_order_id"],
                condition=~Q(external_order_id=""),
                name="orders_one_order_per_partner_order",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    quantity = models.IntegerField()
    unit_price = models.BigIntegerField()
    total = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="orders_one_line_per_sku"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_QUANTITY),
                name="orders_line_quantity_1_to_999",
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orders_unit_price_gte_0"),
            models.CheckConstraint(
                condition=Q(total=F("quantity") * F("unit_price")), name="orders_line_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.sku}"
