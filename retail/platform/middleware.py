"""Request-scoped plumbing: request ids in logs and headers, the request body size limit."""

import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from retail.platform.problems import is_api_path, problem_response

log = structlog.get_logger("rastro.request")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Takes a well-formed ``X-Request-Id`` or makes one; logs it with every line of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-Id", "")
        request_id = offered if _VALID_REQUEST_ID.match(offered) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-Id"] = request_id
        log.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return response


class PayloadLimitMiddleware:
    """Refuses bodies over ``MAX_REQUEST_BODY_BYTES`` with 413 before any view reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BODY_BYTES
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            return problem_response(400, "bad_request", "Content-Length is not a number.")
        try:
            if declared > limit:
                raise RequestDataTooBig
            if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
                _ = request.body  # Django enforces DATA_UPLOAD_MAX_MEMORY_SIZE while reading
        except RequestDataTooBig:
            return problem_response(
                413, "payload_too_large", f"Request bodies are limited to {limit} bytes."
            )
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A database that is restarting, unreachable or timing out answers 503 with ``Retry-After``
    (nothing was committed: retrying with the same Idempotency-Key is safe), not a bare 500."""

    RETRY_AFTER_S = "1"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not (
            isinstance(exception, OperationalError | InterfaceError) and is_api_path(request.path)
        ):
            return None
        log.warning("database_unavailable", path=request.path, error=repr(exception))
        return problem_response(
            503,
            "database_unavailable",
            "The database is unavailable for a moment; retry with the same Idempotency-Key.",
            headers={"Retry-After": self.RETRY_AFTER_S},
        )
