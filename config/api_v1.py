"""Every ``/api/v1/`` route, one include per context that exposes an API."""

from django.urls import include, path

urlpatterns: list = [
    path("", include("retail.catalog.api.urls")),
    path("", include("retail.audit.api.urls")),
    path("", include("retail.orders.api.urls")),
    path("", include("retail.payments.api.urls")),  # orders/<id>/refunds
    path("", include("retail.ledger.api.urls")),
    path("", include("retail.compliance.api.urls")),
]
