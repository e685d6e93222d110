"""Every ``/webhooks/`` route (partners and the PSP call these; no other auth than signatures)."""

from django.urls import include, path

urlpatterns: list = [
    path("", include("retail.payments.api.webhook_urls")),
]
