from django.urls import path

from retail.ledger.api.statement import AccountStatementView
from retail.ledger.api.trial_balance import TrialBalanceView

urlpatterns = [
    path("ledger/trial-balance", TrialBalanceView.as_view(), name="ledger-trial-balance"),
    path(
        "ledger/accounts/<str:code>/statement",
        AccountStatementView.as_view(),
        name="ledger-account-statement",
    ),
]
