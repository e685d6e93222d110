"""Storefront order endpoints: place, read, cancel (CONTRACT.md). POSTs are idempotent."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.channels.public import ChannelKeyAuthentication, ChannelPrincipal, IsChannel
from retail.customers.public import InvalidCpf, cpf_normalize
from retail.orders import selectors, services
from retail.orders.api.serializers import OrderInput, OrderOutput
from retail.platform.client_address import request_client_ip
from retail.platform.idempotency import idempotent
from retail.platform.openapi import IDEMPOTENCY_KEY, problems
from retail.platform.problems import Problem


class ChannelView(APIView):
    authentication_classes = [ChannelKeyAuthentication]
    permission_classes = [IsChannel]

    def channel(self, request: Request) -> ChannelPrincipal:
        return request.user  # type: ignore[return-value]


class OrderCreateView(ChannelView):
    @extend_schema(
        operation_id="order_place",
        request=OrderInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OrderOutput,
            **problems(400, 401, 403, 409, 413, 415, 422),
        },
        description="Prices come from the catalog (never the client); stock is reserved "
        "atomically; unknown SKU → 422 `unknown_sku`, missing stock → 409 `out_of_stock`, "
        "bad CPF → 422 `invalid_cpf`. Lines naming one SKU twice are merged.",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        payload = OrderInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data: dict[str, Any] = payload.validated_data
        try:
            cpf_normalize(data["customer"]["cpf"])
        except InvalidCpf as error:
            raise Problem(422, "invalid_cpf", str(error)) from error
        client = data.get("client", {})
        order, lines = services.order_place(
            services.Checkout(
                channel=self.channel(request).code,
                customer_name=data["customer"]["name"],
                customer_email=data["customer"]["email"],
                customer_cpf=data["customer"]["cpf"],
                lines=[(line["sku"], line["quantity"]) for line in data["lines"]],
                payment_method=data["payment"]["method"],
                payment_token=data["payment"]["token"],
                shipping_address=dict(data["shipping_address"]),
                client_ip=client.get("ip") or request_client_ip(request.META),
                client_user_agent=client.get("user_agent", ""),
            )
        )
        return Response(
            selectors.order_document(order, lines),
            status=201,
            headers={"Location": f"/api/v1/orders/{order.pk}/"},
        )


class OrderDetailView(ChannelView):
    @extend_schema(operation_id="order_get", responses={200: OrderOutput, **problems(401, 404)})
    def get(self, request: Request, order_id: str) -> Response:
        order = selectors.order_get_for_channel(
            channel_code=self.channel(request).code, order_id=order_id
        )
        if order is None:
            raise Problem(404, "not_found", "No such order.")
        return Response(selectors.order_document(order))


class OrderCancelView(ChannelView):
    @extend_schema(
        operation_id="order_cancel",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: OrderOutput, **problems(400, 401, 403, 404, 409, 413, 415)},
        description="Allowed until shipped (then 409 `invalid_transition`); releases stock.",
    )
    @idempotent
    def post(self, request: Request, order_id: str) -> Response:
        order = services.order_cancel(channel_code=self.channel(request).code, order_id=order_id)
        return Response(selectors.order_document(order))
