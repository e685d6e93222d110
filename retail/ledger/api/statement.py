"""``GET /api/v1/ledger/accounts/{code}/statement?from=&to=``: postings with a running balance."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.channels.public import StaffTokenAuthentication
from retail.ledger import selectors
from retail.ledger.api.params import cursor_encode, cursor_param, limit_param, time_param
from retail.ledger.api.trial_balance import LEDGER_READERS, time_parameter
from retail.platform.openapi import problems
from retail.platform.problems import Problem


class StatementLineSerializer(serializers.Serializer):
    entry_id = serializers.IntegerField()
    posted_at = serializers.DateTimeField()
    occurred_at = serializers.DateTimeField()
    purpose = serializers.CharField()
    order_id = serializers.CharField()
    source_event_id = serializers.CharField()
    memo = serializers.CharField()
    debit = serializers.IntegerField()
    credit = serializers.IntegerField()
    balance = serializers.IntegerField(help_text="running balance on the account's normal side")


class AccountOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    normal_side = serializers.CharField()


class StatementOutput(serializers.Serializer):
    account = AccountOutput()
    from_ = serializers.DateTimeField(allow_null=True)
    to = serializers.DateTimeField(allow_null=True)
    opening_balance = serializers.IntegerField(help_text="centavos")
    closing_balance = serializers.IntegerField(help_text="centavos")
    lines = StatementLineSerializer(many=True)
    next = serializers.URLField(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # a Python keyword as a JSON member
        return fields


class AccountStatementView(APIView):
    authentication_classes = [StaffTokenAuthentication]
    permission_classes = [LEDGER_READERS]

    @extend_schema(
        operation_id="ledger_account_statement",
        parameters=[
            time_parameter("from", "postings at or after this time"),
            time_parameter("to", "postings up to this time"),
            OpenApiParameter("cursor", str, description="from the previous page's `next`"),
            OpenApiParameter("limit", int, description="lines per page, 1 to 5000 (default 500)"),
        ],
        responses={200: StatementOutput, **problems(400, 401, 403, 404)},
    )
    def get(self, request: Request, code: str) -> Response:
        posted_from, posted_to = time_param(request, "from"), time_param(request, "to")
        if posted_from and posted_to and posted_from > posted_to:
            raise Problem(400, "invalid_query_parameter", "from is after to", parameter="from")
        limit = limit_param(request, default=500, maximum=5000)
        after = cursor_param(request)
        account = selectors.account_get(code)
        if account is None:
            raise Problem(404, "account_not_found", f"No ledger account {code!r}.")
        statement = selectors.account_statement(
            account, posted_from=posted_from, posted_to=posted_to, after=after, limit=limit
        )
        lines = statement.lines
        closing = lines[-1].balance if lines else statement.opening_balance
        next_url = None
        if statement.has_more:
            query = request.query_params.copy()
            query["cursor"] = cursor_encode((lines[-1].posted_at, lines[-1].posting_id))
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {
                "account": {
                    "code": account.code,
                    "name": account.name,
                    "normal_side": account.normal_side,
                },
                "from": posted_from.isoformat() if posted_from else None,
                "to": posted_to.isoformat() if posted_to else None,
                "opening_balance": statement.opening_balance,
                "closing_balance": closing,
                "lines": StatementLineSerializer(lines, many=True).data,
                "next": next_url,
            }
        )
