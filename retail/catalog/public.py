"""The catalog facade: prices of SKUs as a channel sees them."""

from dataclasses import dataclass

from retail.catalog import selectors, services


@dataclass(frozen=True)
class SkuPrice:
    sku: str
    name: str
    price: int  # centavos
    currency: str = "BRL"


def sku_prices(codes: list[str], *, channel_code: str | None) -> dict[str, SkuPrice]:
    """Sellable SKUs among ``codes`` with the channel's price (``None``: base prices).

    Unknown or inactive SKUs are simply absent from the answer (one query).
    """
    rows = selectors.sku_prices(codes=codes, channel_code=channel_code)
    return {
        code: SkuPrice(sku=code, name=name, price=price) for code, (name, price) in rows.items()
    }


def sku_ensure(*, code: str, name: str, base_price: int) -> SkuPrice:
    """Idempotent seeding: the SKU as stored (an existing one keeps its price)."""
    sku = services.sku_ensure(code=code, name=name, base_price=base_price)
    return SkuPrice(sku=sku.code, name=sku.name, price=sku.base_price)
