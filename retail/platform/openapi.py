"""OpenAPI pieces every API shares (drf-spectacular): the ``Idempotency-Key`` header and the
RFC 9457 problem responses, so that the schema at ``/api/schema/`` tells the truth."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from retail.platform.problems import PROBLEM_CONTENT_TYPE

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    OpenApiParameter.HEADER,
    required=True,
    description="1 to 255 printable ASCII characters; a retry with that key replays the answer "
    "(missing → 400 `idempotency_key_missing`, malformed → 400 `idempotency_key_invalid`).",
)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details; some codes add members (``errors``, ``parameter``, …)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="stable, machine-readable: e.g. `out_of_stock`")
    detail = serializers.CharField(required=False)


def problems(*statuses: int) -> dict[Any, OpenApiResponse]:
    """``responses={**problems(400, 401, 422)}``: each status answered as problem+json."""
    response = OpenApiResponse(
        ProblemSerializer, description="application/problem+json with a stable `code`"
    )
    return {(status, PROBLEM_CONTENT_TYPE): response for status in statuses}
