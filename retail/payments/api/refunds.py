"""``POST /api/v1/orders/{id}/refunds``: a channel refunds (part of) its order's capture."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.channels.public import ChannelKeyAuthentication, ChannelPrincipal, IsChannel
from retail.orders import public as orders
from retail.payments import services
from retail.payments.api.inputs import StrictIntegerField, TextField
from retail.payments.domain import RefundExceedsCaptured, RefundStatus
from retail.payments.models import Refund
from retail.platform.idempotency import idempotent
from retail.platform.openapi import IDEMPOTENCY_KEY, problems
from retail.platform.problems import Problem

MAX_AMOUNT = 10**12  # centavos; anything larger is certainly more than was captured


class RefundInput(serializers.Serializer):
    amount = StrictIntegerField(min_value=1, max_value=MAX_AMOUNT)
    reason = TextField(max_length=500, allow_blank=False)


class RefundDocument(serializers.Serializer):
    """The refund as ``POST`` answers it (documentation only: ``refund_body`` builds it)."""

    id = serializers.CharField(help_text="ref_…")
    order_id = serializers.CharField(help_text="ord_…")
    status = serializers.ChoiceField(choices=[status.value for status in RefundStatus])
    amount = serializers.IntegerField(help_text="centavos")
    currency = serializers.ChoiceField(choices=["BRL"])
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


def refund_body(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "order_id": refund.order_id,
        "status": refund.status,
        "amount": refund.amount,
        "currency": "BRL",
        "reason": refund.reason,
        "created_at": refund.created_at.isoformat().replace("+00:00", "Z"),
    }


class OrderRefundCreateView(APIView):
    authentication_classes = [ChannelKeyAuthentication]
    permission_classes = [IsChannel]

    @extend_schema(
        operation_id="order_refund_create",
        request=RefundInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: RefundDocument, **problems(400, 401, 403, 404, 409, 413, 415, 422)},
        description="Refunds (part of) the order's captured payment; the PSP confirms later. "
        "More than is still refundable → 422 `refund_exceeds_captured`.",
    )
    @idempotent
    def post(self, request: Request, order_id: str) -> Response:
        principal: ChannelPrincipal = request.user  # type: ignore[assignment]
        document = orders.order_document(order_id)
        if document is None or document["channel"] != principal.code:
            raise Problem(404, "not_found", "No such order.")
        payload = RefundInput(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            refund = services.refund_request(
                order_id=order_id,
                amount=payload.validated_data["amount"],
                reason=payload.validated_data["reason"],
            )
        except RefundExceedsCaptured as refused:
            raise Problem(
                422,
                "refund_exceeds_captured",
                f"At most {refused.refundable} centavos can still be refunded.",
                refundable=refused.refundable,
            ) from None
        return Response(refund_body(refund), status=201)
