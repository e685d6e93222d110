"""The proxy's own errors as RFC 9457 problem+json, in Rastro's format (CONTRACT.md).

strangler may not import retail (import-linter), hence this small twin of its helper.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from django.http import HttpResponse

PROBLEM_TYPE_BASE = "https://rastro.dev/problems/"


def problem_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    response = HttpResponse(
        json.dumps(body, separators=(",", ":")),
        status=status,
        content_type="application/problem+json",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
