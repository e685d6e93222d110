"""``POST /webhooks/marketplace/{partner}/``: a partner's order, already paid to the partner.

Signed per Standard Webhooks with the partner's current secrets (several during a rotation).
The same ``external_order_id`` always maps to the same order: 201 the first time, 200 with
the same order after; a delivery racing the first gets 409 ``webhook_in_progress`` (the
partner retries). The answer is the order as ``GET /api/v1/orders/{id}/`` shows it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers

from retail.channels import public as channels
from retail.orders import public as orders
from retail.payments import selectors, services
from retail.payments.api.inputs import StrictIntegerField, TextField
from retail.platform import webhooks
from retail.platform.parsers import json_parse
from retail.platform.problems import Problem, problem_response

MAX_LINES = 100
MAX_QUANTITY = 999


class CustomerInput(serializers.Serializer):
    name = TextField(max_length=200)
    email = serializers.EmailField(max_length=254)
    cpf = TextField(max_length=14)


class LineInput(serializers.Serializer):
    sku = TextField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class PartnerOrderInput(serializers.Serializer):
    external_order_id = TextField(max_length=200)
    customer = CustomerInput()
    lines = serializers.ListField(child=LineInput(), min_length=1, max_length=MAX_LINES)
    total = StrictIntegerField(min_value=0)


@csrf_exempt
def marketplace_webhook(request: HttpRequest, partner: str) -> HttpResponse:
    if request.method != "POST":
        return problem_response(405, "method_not_allowed", headers={"Allow": "POST"})
    known = channels.partner_get(partner)
    if known is None or not known.is_active:
        return problem_response(404, "unknown_partner", "No such marketplace partner.")

    try:
        order_id, created = _receive(request, partner)
    except Problem as problem:
        return problem_response(problem.status, problem.code, problem.detail, **problem.extra)
    return JsonResponse(orders.order_document(order_id), status=201 if created else 200)


def _receive(request: HttpRequest, partner: str) -> tuple[str, bool]:
    """``(order_id, created)``; a duplicate ``webhook-id`` gets the order it made the first time."""

    def apply(webhook_id: str) -> tuple[str, bool]:
        return services.partner_order_settle(partner=partner, order=_parsed(request.body))

    try:
        return webhooks.receive(
            request,
            source=f"marketplace:{partner}",
            secrets=channels.partner_webhook_secrets(partner),
            apply=apply,
        )
    except webhooks.WebhookDuplicate:
        settled = selectors.partner_order_get(partner, _parsed(request.body).external_order_id)
        if settled is None:  # cannot happen: the receipt commits with the order
            raise Problem(409, "webhook_in_progress", "Retry this delivery.") from None
        return settled.order_id, False


def _parsed(body: bytes) -> services.PartnerOrderRequest:
    try:
        message = json_parse(body)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "malformed_json", "The body is not JSON.") from None
    payload = PartnerOrderInput(data=message)
    if not payload.is_valid():
        raise Problem(
            422, "validation_error", "The request body is not valid.", errors=payload.errors
        )
    data = payload.validated_data
    return services.PartnerOrderRequest(
        external_order_id=data["external_order_id"],
        customer_name=data["customer"]["name"],
        customer_email=data["customer"]["email"],
        customer_cpf=data["customer"]["cpf"],
        lines=[(line["sku"], line["quantity"]) for line in data["lines"]],
        total=data["total"],
    )
