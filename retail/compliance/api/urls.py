from django.urls import path

from retail.compliance.api.views import (
    AlertListView,
    CaseDecisionView,
    CaseDetailView,
    CaseListView,
)

urlpatterns = [
    path("compliance/alerts", AlertListView.as_view(), name="compliance-alerts"),
    path("compliance/cases", CaseListView.as_view(), name="compliance-cases"),
    path("compliance/cases/<str:case_id>", CaseDetailView.as_view(), name="compliance-case"),
    path(
        "compliance/cases/<str:case_id>/decision",
        CaseDecisionView.as_view(),
        name="compliance-case-decision",
    ),
]
