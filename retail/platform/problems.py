"""RFC 9457 problem details: every error Rastro answers, with a stable machine-readable ``code``."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework.views import exception_handler as drf_default_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://rastro.dev/problems/"
API_PATH_PREFIXES = ("/api/", "/webhooks/", "/healthz", "/readyz")

log = structlog.get_logger(__name__)


class Problem(Exception):
    """Raise anywhere below a view to answer with a problem+json response."""

    def __init__(self, status: int, code: str, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return problem_body(self.status, self.code, self.detail, **self.extra)


def problem_body(status: int, code: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def problem_response(
    status: int,
    code: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    content = json.dumps(problem_body(status, code, detail, **extra), separators=(",", ":"))
    response = HttpResponse(content, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# DRF's own exceptions, each mapped to one stable code.
_DRF_CODES: dict[type[drf.APIException], tuple[int, str]] = {
    drf.ParseError: (400, "malformed_json"),
    drf.NotAuthenticated: (401, "unauthenticated"),
    drf.AuthenticationFailed: (401, "unauthenticated"),
    drf.PermissionDenied: (403, "forbidden"),
    drf.NotFound: (404, "not_found"),
    drf.MethodNotAllowed: (405, "method_not_allowed"),
    drf.NotAcceptable: (406, "not_acceptable"),
    drf.UnsupportedMediaType: (415, "unsupported_media_type"),
    drf.Throttled: (429, "rate_limited"),
}


_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """DRF ``EXCEPTION_HANDLER``: everything a view raises becomes problem+json."""
    if isinstance(exc, Problem):
        return problem_response(exc.status, exc.code, exc.detail, **exc.extra)
    if isinstance(exc, drf.ValidationError):
        return problem_response(
            422, "validation_error", "The request body is not valid.", errors=exc.detail
        )
    response = drf_default_handler(exc, context)
    if response is None:
        return None  # not an API exception: Django's 500 handler answers
    status, code = next(
        (mapped for cls, mapped in _DRF_CODES.items() if isinstance(exc, cls)),
        (response.status_code, "error"),
    )
    detail = str(exc.detail) if isinstance(exc, drf.APIException) else None
    headers = {
        k: v for k, v in response.items() if k in ("Allow", "Retry-After", "WWW-Authenticate")
    }
    return problem_response(status, code, detail, headers=headers)


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATH_PREFIXES)


# Django's handlers (config/urls.py): problem+json on API paths, Django's pages elsewhere.
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request.path):
        return problem_response(400, "bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request.path):
        return problem_response(403, "forbidden")
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request.path):
        return problem_response(404, "not_found")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path):
        return problem_response(500, "internal_error")
    return defaults.server_error(request)
