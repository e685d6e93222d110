"""Products, their SKUs and prices in integer centavos (base price, per-channel overrides)."""

from django.db import models
from django.utils import timezone

from retail.audit.public import audited_history


class Product(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    def __str__(self) -> str:
        return self.name


class Sku(models.Model):
    code = models.CharField(max_length=64, unique=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="skus")
    name = models.CharField(max_length=200)
    base_price = models.BigIntegerField(help_text="centavos (BRL)")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(base_price__gte=0), name="catalog_sku_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class ChannelPrice(models.Model):
    """A channel's own price for a SKU; without one the channel sells at the base price."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="channel_prices")
    channel_code = models.SlugField(max_length=32)
    price = models.BigIntegerField(help_text="centavos (BRL)")
    history = audited_history()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sku", "channel_code"], name="catalog_one_price_per_sku_and_channel"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="catalog_channel_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.channel_code}"
