"""``GET /api/v1/audit/verify`` (auditor): recompute the chain and compare it with checkpoints."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.audit import selectors
from retail.audit.public import AUDITOR_GROUP
from retail.channels.public import HasRole, StaffTokenAuthentication
from retail.platform.openapi import problems


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    entries = serializers.IntegerField()
    head = serializers.CharField()
    first_broken = serializers.IntegerField(allow_null=True)


class ChainVerifyView(APIView):
    authentication_classes = [StaffTokenAuthentication]
    permission_classes = [HasRole(AUDITOR_GROUP)]

    @extend_schema(
        responses={200: VerificationSerializer, **problems(401, 403)},
        summary="Verify the audit hash chain",
    )
    def get(self, request: Request) -> Response:
        return Response(VerificationSerializer(selectors.chain_verify()).data)
