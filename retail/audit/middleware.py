"""Request-level audit: one entry per effecting request, and auditors stay read-only.

``RequestTrailMiddleware`` sits after ``AuthenticationMiddleware``. After the response, every
non-safe request to ``/api/`` or ``/webhooks/`` that reached a view as someone (a channel key,
a staff user, a webhook whose signature verified) is appended in its own short transaction,
whatever its outcome: key, actor, channel, IP, request id, status. Anonymous junk (no route,
no credentials, a bad signature) is counted and logged, never kept for ten years, and never
waits for the chain's lock; a stored path is at most ``MAX_PATH`` characters. The effect has
already committed; if the audit database write fails the response still goes out and the
failure is logged and counted (the effect's events still reach the trail through the outbox).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter

from retail.audit import domain, services
from retail.audit.services import AUDITOR_GROUP
from retail.platform.parsers import json_parse
from retail.platform.problems import problem_response

log = structlog.get_logger(__name__)
AUDITED_PREFIXES = ("/api/", "/webhooks/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
REQUEST_TRAIL_FAILURES = Counter(
    "rastro_audit_request_trail_failures_total", "Effecting requests whose audit entry failed"
)
REQUEST_TRAIL_SKIPPED = Counter(
    "rastro_audit_request_trail_skipped_total",
    "Effecting requests kept out of the audit log: no route, no credentials or a bad signature",
)
MAX_JSON_BYTES = 64 * 1024  # larger bodies are not searched for an order id
MAX_PATH = 256
UNVERIFIED = frozenset({401, 404, 405})  # a webhook answered before its signature was checked


class RequestTrailMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in SAFE_METHODS or not request.path.startswith(AUDITED_PREFIXES):
            return self.get_response(request)
        started = time.perf_counter()
        request_body = _json_body(request)  # read before the view: the stream is consumed
        response = self.get_response(request)
        if not _from_someone(request, response):
            REQUEST_TRAIL_SKIPPED.inc()
            log.info(
                "audit.request_skipped", path=request.path[:MAX_PATH], status=response.status_code
            )
            return response
        try:
            request_trail_record(request, response, request_body, time.perf_counter() - started)
        except Exception:  # the effect committed: never turn it into a 500
            REQUEST_TRAIL_FAILURES.inc()
            log.error("audit.request_trail_failed", path=request.path, exc_info=True)
        return response


def request_trail_record(
    request: HttpRequest, response: HttpResponse, request_body: Any, duration_s: float
) -> None:
    webhook = request.path.startswith("/webhooks/")
    match = request.resolver_match
    path_arguments = match.kwargs if match else {}
    actor, channel = domain.actor_label(getattr(request, "user", None))
    if webhook:
        source = ":".join(part for part in request.path.split("/")[2:] if part)
        actor = actor or f"webhook:{source}"
        channel = channel or str(path_arguments.get("partner", ""))
    key = request.headers.get("webhook-id" if webhook else "Idempotency-Key", "")
    data = {
        "method": request.method,
        "path": request.path[:MAX_PATH],
        "route": match.route if match else "",
        "status": response.status_code,
        "replayed": response.get("Idempotent-Replayed") == "true",
        "ip": request.META.get("REMOTE_ADDR", ""),
        "duration_ms": round(duration_s * 1000, 1),
    }
    if webhook and isinstance(request_body, dict) and isinstance(request_body.get("type"), str):
        data["type"] = request_body["type"]
    with transaction.atomic():
        services.entry_append(
            kind=domain.Kind.WEBHOOK if webhook else domain.Kind.REQUEST,
            action=f"{request.method} {request.path[:MAX_PATH]}",
            actor=actor or "anonymous",
            channel=channel,
            idempotency_key=key,
            request_id=getattr(request, "request_id", ""),
            order_id=domain.request_order_id(path_arguments, request_body, _json_content(response)),
            data=data,
        )


def _from_someone(request: HttpRequest, response: HttpResponse) -> bool:
    """A request a view took as someone's: routed, and by a known principal or (webhooks) past
    the signature check, which answers 401 when it fails."""
    if request.resolver_match is None:
        return False
    actor, _ = domain.actor_label(getattr(request, "user", None))
    if actor:
        return True
    return request.path.startswith("/webhooks/") and response.status_code not in UNVERIFIED


def _json_body(request: HttpRequest) -> Any:
    try:
        if len(request.body) > MAX_JSON_BYTES:
            return None
        return json_parse(request.body)
    except Exception:  # noqa: BLE001 - not JSON, unreadable, too big: no order id from it
        return None


def _json_content(response: HttpResponse) -> Any:
    if getattr(response, "streaming", False) or "json" not in response.get("Content-Type", ""):
        return None
    try:
        content = response.content
        return json_parse(content) if len(content) <= MAX_JSON_BYTES else None
    except ValueError:
        return None


class AuditorReadOnlyMiddleware:
    """Auditors change nothing in the back office, whatever an admin class allows (403)."""

    ALLOWED = ("/admin/logout/", "/admin/login/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method not in SAFE_METHODS
            and request.path.startswith("/admin/")
            and not request.path.startswith(self.ALLOWED)
            and _is_auditor(request)
        ):
            return problem_response(403, "forbidden", "Auditors have read-only access.")
        return self.get_response(request)


def _is_auditor(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return user.groups.filter(name=AUDITOR_GROUP).exists()
