"""``GET /api/v1/ledger/accounts/{code}/statement?from=&to=``: postings with a running balance."""

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.channels.public import StaffTokenAuthentication
from retail.ledger import selectors
from retail.ledger.api.params import cursor_encode, cursor_param, limit_param, time_param
from retail.ledger.api.trial_balance import LEDGER_READERS
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


class AccountStatementView(APIView):
    authentication_classes = [StaffTokenAuthentication]
    permission_classes = [LEDGER_READERS]

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
