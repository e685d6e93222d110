"""Events the orders context emits: one per status transition (aggregate: the order)."""

from dataclasses import dataclass
from typing import ClassVar

from retail.platform.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OrderEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "order"
    order_id: str  # the same as aggregate_id, named for consumers' convenience
    number: str
    channel: str
    customer_id: str
    total: int
    currency: str = "BRL"


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(OrderEvent):
    """Checkout succeeded, stock is reserved; payments starts the PSP payment from this.

    ``payment_method`` is ``card`` or ``pix`` (token from the storefront) or ``marketplace``
    (the partner collected the money: no PSP payment, empty token).
    """

    event_type: ClassVar[str] = "OrderPlaced"
    payment_method: str
    payment_token: str
    lines: list[dict]  # [{"sku", "quantity", "unit_price", "total"}]
    customer_name: str  # the holder of the operation (compliance, art. 28)
    customer_email: str
    # The shopper's device: the body's ``client.ip``, else the address our trusted proxies saw
    # (X-Forwarded-For, TRUSTED_PROXIES); never the calling server's own. "" when unknown
    # (always for partner orders).
    client_ip: str
    client_user_agent: str = ""  # the body's ``client.user_agent``; absent from older payloads
    external_order_id: str = ""


@dataclass(frozen=True, kw_only=True)
class OrderPaid(OrderEvent):
    event_type: ClassVar[str] = "OrderPaid"


@dataclass(frozen=True, kw_only=True)
class OrderPaymentFailed(OrderEvent):
    """The payment failed or did not arrive in time; the reserved stock was released."""

    event_type: ClassVar[str] = "OrderPaymentFailed"
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEvent):
    """Cancelled before shipping; stock released. Payments refunds what it captured."""

    event_type: ClassVar[str] = "OrderCancelled"
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderFulfilled(OrderEvent):
    event_type: ClassVar[str] = "OrderFulfilled"


@dataclass(frozen=True, kw_only=True)
class OrderDelivered(OrderEvent):
    event_type: ClassVar[str] = "OrderDelivered"


@dataclass(frozen=True, kw_only=True)
class OrderRefunded(OrderEvent):
    event_type: ClassVar[str] = "OrderRefunded"
    refunded: int


@dataclass(frozen=True, kw_only=True)
class OrderPartiallyRefunded(OrderEvent):
    event_type: ClassVar[str] = "OrderPartiallyRefunded"
    refunded: int
