"""``POST /webhooks/psp/``: the PSP reports payment and refund outcomes (Standard Webhooks).

Verified on the raw bytes, deduplicated by ``webhook-id`` in the same transaction as the
effect; a duplicate answers 200 and changes nothing. A well-signed webhook that matches no
payment or refund answers 422 and is kept in ``payments_unmatched_webhook`` for reconciliation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from retail.payments import services
from retail.payments.domain import PSP_PAYMENT_REPORTS, PSP_REFUND_REPORTS
from retail.platform import webhooks
from retail.platform.parsers import json_parse
from retail.platform.problems import Problem, problem_response

SOURCE = "psp"
PAYMENT_TYPES = frozenset(name for name in PSP_PAYMENT_REPORTS if name.startswith("payment."))
REFUND_TYPES = frozenset(name for name in PSP_REFUND_REPORTS if name.startswith("refund."))


@csrf_exempt
def psp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return problem_response(405, "method_not_allowed", headers={"Allow": "POST"})

    def apply(webhook_id: str) -> None:
        services.psp_webhook_apply(psp_webhook_parse(request.body))

    try:
        secrets = [settings.PSP_WEBHOOK_SECRET, *settings.PSP_WEBHOOK_PREVIOUS_SECRETS]
        webhooks.receive(request, source=SOURCE, secrets=secrets, apply=apply)
    except webhooks.WebhookDuplicate:
        return JsonResponse({"received": True, "duplicate": True})
    except Problem as problem:
        if problem.status == 422:
            _record_unmatched(request, problem.code)
        return problem_response(problem.status, problem.code, problem.detail, **problem.extra)
    return JsonResponse({"received": True, "duplicate": False})


def psp_webhook_parse(body: bytes) -> services.PspWebhook:
    """The webhook's content, or ``Problem(422, "invalid_payload")`` naming what is wrong."""
    message = _json_object(body)
    data = message.get("data")
    kind = message.get("type")
    # ``type`` may be any JSON value: only a string can be looked up in a set
    if not isinstance(kind, str) or kind not in PAYMENT_TYPES | REFUND_TYPES:
        raise _invalid(["type must be a payment.* or refund.* event"])
    if not isinstance(data, dict):
        raise _invalid(["data must be an object"])
    required: dict[str, type] = {
        "payment_id": str,
        "order_id": str,
        "amount": int,
        "psp_reference": str,
    }
    if kind in REFUND_TYPES:
        required["refund_id"] = str
    errors = [
        f"data.{name} must be a {kind_.__name__}"
        for name, kind_ in required.items()
        if not isinstance(data.get(name), kind_) or isinstance(data.get(name), bool)
    ]
    if errors:
        raise _invalid(errors)
    return services.PspWebhook(
        type=str(kind),
        payment_id=data["payment_id"],
        order_id=data["order_id"],
        amount=data["amount"],
        psp_reference=data["psp_reference"],
        refund_id=data.get("refund_id", ""),
    )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        message = json_parse(body)
    except (ValueError, UnicodeDecodeError):
        raise _invalid(["the body is not JSON"]) from None
    if not isinstance(message, dict):
        raise _invalid(["the body must be a JSON object"])
    return message


def _invalid(errors: list[str]) -> Problem:
    return Problem(422, "invalid_payload", "The webhook body is not valid.", errors=errors)


def _storable(value: object) -> str:
    """Text PostgreSQL can keep: JSON strings may hold NUL and lone surrogates, it cannot."""
    return str(value).replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _record_unmatched(request: HttpRequest, code: str) -> None:
    try:
        message = json_parse(request.body)
        data = message.get("data") or {}
        event_type = _storable(message.get("type", ""))
        reference = _storable(data.get("refund_id") or data.get("payment_id") or "")
    except (ValueError, UnicodeDecodeError, AttributeError):
        event_type = reference = ""
    services.unmatched_webhook_record(
        source=SOURCE,
        webhook_id=request.headers.get("webhook-id", ""),
        code=code,
        event_type=event_type,
        reference=reference,
        body=request.body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
    )
