"""``GET /api/v1/ledger/trial-balance[?as_of=]``: every account's net balance; totals equal."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.channels.public import HasRole, StaffTokenAuthentication
from retail.ledger import selectors
from retail.ledger.api.params import time_param
from retail.platform.openapi import problems

LEDGER_READERS = HasRole("finance", "auditor")


class AccountBalanceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    normal_side = serializers.CharField()
    debit = serializers.IntegerField(help_text="net balance in centavos when it is a debit")
    credit = serializers.IntegerField(help_text="net balance in centavos when it is a credit")
    balance = serializers.IntegerField(help_text="balance on the account's normal side")


class TrialBalanceOutput(serializers.Serializer):
    as_of = serializers.DateTimeField(allow_null=True)
    currency = serializers.ChoiceField(choices=["BRL"])
    accounts = AccountBalanceSerializer(many=True)
    total_debit = serializers.IntegerField(help_text="centavos; always equals total_credit")
    total_credit = serializers.IntegerField(help_text="centavos")


def time_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, str, description=f"{description}; RFC 3339 with an offset (2026-11-25T12:00:00Z)"
    )


class TrialBalanceView(APIView):
    authentication_classes = [StaffTokenAuthentication]
    permission_classes = [LEDGER_READERS]

    @extend_schema(
        operation_id="ledger_trial_balance",
        parameters=[time_parameter("as_of", "balances as they were at this time")],
        responses={200: TrialBalanceOutput, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        as_of = time_param(request, "as_of")
        accounts = selectors.trial_balance(as_of=as_of)
        return Response(
            {
                "as_of": as_of.isoformat() if as_of else None,
                "currency": "BRL",
                "accounts": AccountBalanceSerializer(accounts, many=True).data,
                "total_debit": sum(account.debit for account in accounts),
                "total_credit": sum(account.credit for account in accounts),
            }
        )
