"""``GET /api/v1/audit/orders/{id}/trace`` (auditor): the order's entries, in chain order."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.audit import selectors
from retail.audit.public import AUDITOR_GROUP
from retail.channels.public import HasRole, StaffTokenAuthentication
from retail.platform.openapi import problems


class TraceEntrySerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    action = serializers.CharField()
    actor = serializers.CharField()
    channel = serializers.CharField()
    idempotency_key = serializers.CharField()
    request_id = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment] # DRF pops declared fields
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class TraceSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    entries = TraceEntrySerializer(many=True)


class OrderTraceView(APIView):
    authentication_classes = [StaffTokenAuthentication]
    permission_classes = [HasRole(AUDITOR_GROUP)]

    @extend_schema(
        responses={200: TraceSerializer, **problems(401, 403)},
        summary="Every audited step of one order",
    )
    def get(self, request: Request, order_id: str) -> Response:
        entries = selectors.order_trace(order_id)
        return Response(TraceSerializer({"order_id": order_id, "entries": entries}).data)
