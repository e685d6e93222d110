"""Writes: products, SKUs and channel prices (seeding and back office)."""

from django.db import transaction

from retail.catalog.models import ChannelPrice, Product, Sku


def sku_ensure(*, code: str, name: str, base_price: int) -> Sku:
    """Creates the SKU (and a product of the same name) once; later calls leave it as it is."""
    with transaction.atomic():
        existing = Sku.objects.filter(code=code).first()
        if existing is not None:
            return existing
        product = Product.objects.create(name=name)
        return Sku.objects.create(code=code, product=product, name=name, base_price=base_price)


def channel_price_set(*, sku: Sku, channel_code: str, price: int) -> ChannelPrice:
    channel_price, _ = ChannelPrice.objects.update_or_create(
        sku=sku, channel_code=channel_code, defaults={"price": price}
    )
    return channel_price
