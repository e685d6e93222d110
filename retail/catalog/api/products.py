"""``GET /api/v1/products/``: what the calling channel sells, at its prices, with availability."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.catalog import selectors
from retail.channels.public import ChannelKeyAuthentication, ChannelPrincipal, IsChannel
from retail.inventory import public as inventory
from retail.platform.openapi import problems
from retail.platform.problems import Problem


class ProductSerializer(serializers.Serializer):
    sku = serializers.CharField(source="code")
    name = serializers.CharField()
    price = serializers.IntegerField()
    currency = serializers.CharField(default="BRL")
    available = serializers.IntegerField()


class ProductCursorPagination(CursorPagination):
    ordering = "code"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound as error:  # DRF's answer for a cursor it cannot decode
            raise Problem(400, "invalid_cursor", "The cursor is not one we issued.") from error

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"results": data, "next": self.get_next_link()})


class ProductPageSerializer(serializers.Serializer):
    results = ProductSerializer(many=True)
    next = serializers.URLField(allow_null=True)


class ProductListView(APIView):
    authentication_classes = [ChannelKeyAuthentication]
    permission_classes = [IsChannel]

    @extend_schema(
        operation_id="product_list",
        parameters=[
            OpenApiParameter("cursor", str, description="from the previous page's `next`"),
            OpenApiParameter("limit", int, description="page size, at most 200 (default 50)"),
        ],
        responses={200: ProductPageSerializer, **problems(400, 401)},
    )
    def get(self, request: Request) -> Response:
        channel: ChannelPrincipal = request.user  # type: ignore[assignment]
        paginator = ProductCursorPagination()
        page = paginator.paginate_queryset(
            selectors.sku_sellable_list(channel_code=channel.code), request, view=self
        )
        skus = list(page or [])
        stock = inventory.available([sku.code for sku in skus])
        for sku in skus:
            sku.available = stock[sku.code]  # type: ignore[attr-defined]
        return paginator.get_paginated_response(ProductSerializer(skus, many=True).data)
