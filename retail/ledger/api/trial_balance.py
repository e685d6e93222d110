"""``GET /api/v1/ledger/trial-balance[?as_of=]``: every account's net balance; totals equal."""

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.channels.public import HasRole, StaffTokenAuthentication
from retail.ledger import selectors
from retail.ledger.api.params import time_param

LEDGER_READERS = HasRole("finance", "auditor")


class AccountBalanceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    normal_side = serializers.CharField()
    debit = serializers.IntegerField(help_text="net balance in centavos when it is a debit")
    credit = serializers.IntegerField(help_text="net balance in centavos when it is a credit")
    balance = serializers.IntegerField(help_text="balance on the account's normal side")


class TrialBalanceView(APIView):
    authentication_classes = [StaffTokenAuthentication]
    permission_classes = [LEDGER_READERS]

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
