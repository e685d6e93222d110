"""Shadow traffic: legacy answers the client; the new side answers the same safe request in a
thread pool, off the critical path, and the difference is recorded (strangler.models).

The comparison starts once legacy's body has been streamed to the client completely (it is
collected on the way, up to ``STRANGLER_SHADOW_MAX_BODY_BYTES``; larger bodies compare
statuses only). When the pool is saturated, shadow work is dropped, never queued without bound.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import structlog
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

from strangler import metrics, services
from strangler.domain import RouteRule, body_differences

log = structlog.get_logger(__name__)

GetResponse = Callable[[HttpRequest], HttpResponseBase]

_pool: tuple[int, ThreadPoolExecutor, threading.BoundedSemaphore] | None = None
_pool_lock = threading.Lock()


def _this_process_pool() -> tuple[ThreadPoolExecutor, threading.BoundedSemaphore]:
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            executor = ThreadPoolExecutor(
                max_workers=settings.STRANGLER_SHADOW_WORKERS, thread_name_prefix="strangler-shadow"
            )
            _pool = (
                os.getpid(),
                executor,
                threading.BoundedSemaphore(settings.STRANGLER_SHADOW_MAX_PENDING),
            )
        return _pool[1], _pool[2]


def _shadow_environ(request: HttpRequest) -> dict[str, Any]:
    """The request again, without a body (only safe methods are shadowed)."""
    environ = dict(request.META)
    environ["wsgi.input"] = io.BytesIO(b"")
    environ["CONTENT_LENGTH"] = "0"
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return environ


def _read(response: HttpResponseBase, limit: int) -> bytes | None:
    """The body, or None past ``limit`` bytes."""
    chunks: Iterable[bytes] = (
        response.streaming_content if response.streaming else [response.content]  # type: ignore[attr-defined]
    )
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _compare(
    rule: RouteRule,
    environ: dict[str, Any],
    legacy_status: int,
    legacy_body: bytes | None,
    get_response: GetResponse,
) -> None:
    close_old_connections()
    try:
        new_response = get_response(WSGIRequest(environ))
        try:
            new_body = _read(new_response, settings.STRANGLER_SHADOW_MAX_BODY_BYTES)
        finally:
            new_response.close()
        differences = []
        if new_response.status_code != legacy_status:
            differences.append(f"status {legacy_status} vs {new_response.status_code}")
        if legacy_body is not None and new_body is not None:
            differences += body_differences(legacy_body, new_body, rule.shadow_ignore_fields)
        assert rule.route_id is not None
        services.shadow_comparison_record(
            route_id=rule.route_id,
            method=environ["REQUEST_METHOD"],
            path=environ.get("PATH_INFO", "")
            + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""),
            legacy_status=legacy_status,
            new_status=new_response.status_code,
            differences=differences,
        )
        metrics.SHADOW_COMPARISONS.labels(rule.prefix, "mismatch" if differences else "match").inc()
    except Exception:
        metrics.SHADOW_COMPARISONS.labels(rule.prefix, "failed").inc()
        log.exception("shadow_comparison_failed", route=rule.prefix)
    finally:
        close_old_connections()


def _collecting(
    chunks: Iterator[bytes], limit: int, on_complete: Callable[[bytes | None], None]
) -> Iterator[bytes]:
    """Passes the chunks through, keeping a copy up to ``limit`` bytes; calls ``on_complete``
    with it (None past the limit) once the last chunk went out.
    """
    kept: bytearray | None = bytearray()
    for chunk in chunks:
        if kept is not None:
            kept += chunk
            if len(kept) > limit:
                kept = None
        yield chunk
    on_complete(None if kept is None else bytes(kept))


def attach(
    response: HttpResponseBase,
    rule: RouteRule,
    request: HttpRequest,
    get_response: GetResponse,
) -> None:
    """Schedules the shadow comparison for when legacy's streamed ``response`` has been sent."""
    assert isinstance(response, StreamingHttpResponse)
    environ = _shadow_environ(request)

    def submit(legacy_body: bytes | None) -> None:
        executor, slots = _this_process_pool()
        if not slots.acquire(blocking=False):
            metrics.SHADOW_COMPARISONS.labels(rule.prefix, "dropped").inc()
            return

        def job() -> None:
            try:
                _compare(rule, environ, response.status_code, legacy_body, get_response)
            finally:
                slots.release()

        executor.submit(job)

    response.streaming_content = _collecting(
        cast(Iterator[bytes], response.streaming_content),
        settings.STRANGLER_SHADOW_MAX_BODY_BYTES,
        submit,
    )
