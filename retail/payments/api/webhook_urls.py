"""``/webhooks/`` routes of the payments context (included by config/webhooks.py)."""

from django.urls import path

from retail.payments.api.marketplace_webhook import marketplace_webhook
from retail.payments.api.psp_webhook import psp_webhook

urlpatterns = [
    path("psp/", psp_webhook, name="psp-webhook"),
    path("marketplace/<slug:partner>/", marketplace_webhook, name="marketplace-webhook"),
]
