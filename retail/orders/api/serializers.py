"""Input of ``POST /api/v1/orders/``: strict JSON types, bounded sizes, clean text."""

from typing import Any

from rest_framework import serializers

from retail.orders.domain import MAX_LINES, MAX_QUANTITY, Status
from retail.platform.client_address import ip_normalize


def _encodable(value: str) -> None:
    """Lone surrogates (legal in JSON, not in UTF-8) would fail in the database: refuse here."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise serializers.ValidationError("Text must be valid Unicode.") from error


class TextField(serializers.CharField):
    """A string, never a number or a boolean turned into one; NUL and surrogates refused."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(_encodable)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: no strings, floats or booleans."""

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class IpAddressField(TextField):
    """An IPv4 or IPv6 address (no zone), in its canonical spelling."""

    default_error_messages = {"invalid_ip": "Enter a valid IPv4 or IPv6 address."}

    def to_internal_value(self, data: Any) -> str:
        try:
            return ip_normalize(super().to_internal_value(data))
        except ValueError:
            self.fail("invalid_ip")


class CustomerInput(serializers.Serializer):
    name = TextField(max_length=200)
    email = serializers.EmailField(max_length=254)
    cpf = TextField(max_length=14)


class LineInput(serializers.Serializer):
    sku = TextField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class PaymentInput(serializers.Serializer):
    method = serializers.ChoiceField(choices=["card", "pix"])
    token = TextField(max_length=200)


class ShippingAddressInput(serializers.Serializer):
    street = TextField(max_length=200)
    number = TextField(max_length=20)
    city = TextField(max_length=100)
    state = TextField(max_length=50)
    postal_code = TextField(max_length=20)


class ClientInput(serializers.Serializer):
    """The shopper's device as the channel saw it (never the channel's own server)."""

    ip = IpAddressField(required=False)
    user_agent = TextField(max_length=512, allow_blank=True, required=False)


class OrderInput(serializers.Serializer):
    customer = CustomerInput()
    lines = serializers.ListField(child=LineInput(), min_length=1, max_length=MAX_LINES)
    payment = PaymentInput()
    shipping_address = ShippingAddressInput()
    client = ClientInput(required=False)


class OrderLineOutput(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.IntegerField(help_text="centavos")
    total = serializers.IntegerField(help_text="centavos")


class PaymentOutput(serializers.Serializer):
    id = serializers.CharField(help_text="pay_…")
    status = serializers.ChoiceField(choices=["pending", "authorized", "captured", "failed"])
    amount = serializers.IntegerField(help_text="centavos")
    psp_reference = serializers.CharField()


class RefundOutput(serializers.Serializer):
    id = serializers.CharField(help_text="ref_…")
    status = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    amount = serializers.IntegerField(help_text="centavos")


class OrderOutput(serializers.Serializer):
    """The order document (documentation only: selectors.order_document builds it)."""

    id = serializers.CharField(help_text="ord_…")
    number = serializers.CharField(help_text="R-YYYY-NNNNNN")
    status = serializers.ChoiceField(choices=[status.value for status in Status])
    channel = serializers.CharField()
    total = serializers.IntegerField(help_text="centavos")
    currency = serializers.CharField()
    lines = OrderLineOutput(many=True)
    payments = PaymentOutput(many=True)
    refunds = RefundOutput(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
