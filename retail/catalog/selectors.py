"""Reads: what a channel sells and at which price."""

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from retail.catalog.models import ChannelPrice, Sku


def sku_sellable_list(*, channel_code: str | None) -> QuerySet[Sku]:
    """Active SKUs of active products annotated with ``price``: the channel's, else the base."""
    channel_price = ChannelPrice.objects.filter(
        sku=OuterRef("pk"), channel_code=channel_code
    ).values("price")[:1]
    return Sku.objects.filter(is_active=True, product__is_active=True).annotate(
        price=Coalesce(Subquery(channel_price), "base_price")
    )


def sku_prices(*, codes: list[str], channel_code: str | None) -> dict[str, tuple[str, int]]:
    """``{code: (name, price)}`` for the sellable SKUs among ``codes`` (one query)."""
    rows = sku_sellable_list(channel_code=channel_code).filter(code__in=codes)
    return {sku.code: (sku.name, sku.price) for sku in rows}  # type: ignore[attr-defined]
