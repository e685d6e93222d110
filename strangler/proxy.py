"""Forwarding to the legacy monolith with httpx, streamed both ways.

Keeps method, path, query, status, headers and cookies (every ``Set-Cookie`` byte for byte);
drops hop-by-hop headers (RFC 9110 §7.6.1); sets ``X-Forwarded-For/-Proto/-Host``; rewrites
redirects that point at the legacy host. Connect and read timeouts; idempotent methods are
retried once before anything reached the client; a circuit breaker per upstream and process.
Upstream failures answer problem+json 502/503/504, never a 500, never a hang.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import Morsel
from typing import IO, Any

import httpx
import structlog
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from strangler import metrics
from strangler.breaker import CircuitBreaker
from strangler.domain import IDEMPOTENT_METHODS, end_to_end, for_legacy, rewrite_location
from strangler.problems import problem_response

MESSAGES_COOKIE = "messages"  # django.contrib.messages' cookie storage

log = structlog.get_logger(__name__)

CHUNK_BYTES = 64 * 1024
GATEWAY_FAILURE_STATUSES = frozenset({502, 503, 504})  # the upstream itself is unwell


class UpstreamBroken(Exception):
    """The upstream failed after the response began: the server must cut the connection so the
    client sees a truncated body rather than a complete-looking one.
    """


@dataclass(frozen=True)
class Upstream:
    origin: str
    client: httpx.Client
    breaker: CircuitBreaker


_upstreams: dict[tuple[Any, ...], Upstream] = {}
_upstreams_lock = threading.Lock()


def upstream_for(origin: str) -> Upstream:
    """This process's client and breaker for ``origin`` (made after a fork, per settings)."""
    key = (
        os.getpid(),
        origin,
        settings.STRANGLER_CONNECT_TIMEOUT_S,
        settings.STRANGLER_READ_TIMEOUT_S,
        settings.STRANGLER_BREAKER_FAILURES,
        settings.STRANGLER_BREAKER_RESET_S,
    )
    with _upstreams_lock:
        if key not in _upstreams:
            connect_s, read_s = (
                settings.STRANGLER_CONNECT_TIMEOUT_S,
                settings.STRANGLER_READ_TIMEOUT_S,
            )
            client = httpx.Client(
                timeout=httpx.Timeout(connect=connect_s, read=read_s, write=read_s, pool=connect_s),
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
                follow_redirects=False,
                trust_env=False,
            )
            breaker = CircuitBreaker(
                settings.STRANGLER_BREAKER_FAILURES, settings.STRANGLER_BREAKER_RESET_S
            )
            _upstreams[key] = Upstream(origin.rstrip("/"), client, breaker)
        return _upstreams[key]


# --- the request -------------------------------------------------------------------------


class RequestBody:
    """The client's body, read from ``wsgi.input`` in chunks as the upstream takes it."""

    def __init__(self, stream: IO[bytes], length: int | None) -> None:
        self.stream = stream
        self.length = length  # None: to the end of the stream (chunked uploads)
        self.started = False

    def __iter__(self) -> Iterator[bytes]:
        self.started = True
        remaining = self.length
        while remaining is None or remaining > 0:
            chunk = self.stream.read(
                CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining)
            )
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _incoming_headers(meta: dict[str, Any]) -> list[tuple[str, str]]:
    headers = []
    for key, value in meta.items():
        if key.startswith("HTTP_") and key != "HTTP_HOST":
            headers.append((key[5:].replace("_", "-").title(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append((key.replace("_", "-").title(), value))
    return headers


def _public_origin(request: HttpRequest) -> str | None:
    try:
        return f"{request.scheme}://{request.get_host()}"
    except DisallowedHost:
        return None


def _upstream_headers(request: HttpRequest) -> list[tuple[bytes, bytes]]:
    own_cookies = (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, MESSAGES_COOKIE)
    headers = for_legacy(
        _incoming_headers(request.META), settings.STRANGLER_OWN_CREDENTIAL_PREFIXES, own_cookies
    )
    client_ip = request.META.get("REMOTE_ADDR", "")
    earlier = request.META.get("HTTP_X_FORWARDED_FOR", "")
    headers.append(("X-Forwarded-For", f"{earlier}, {client_ip}" if earlier else client_ip))
    headers.append(("X-Forwarded-Proto", request.scheme or "http"))
    public = _public_origin(request)  # the Host checked against ALLOWED_HOSTS, or none
    if public is not None:
        headers.append(("X-Forwarded-Host", public.split("://", 1)[1]))
    request_id = getattr(request, "request_id", None)
    if request_id and "HTTP_X_REQUEST_ID" not in request.META:
        headers.append(("X-Request-Id", request_id))
    # WSGI hands header values over as latin-1 decoded bytes: hand the same bytes on.
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def _request_body(request: HttpRequest) -> RequestBody | None:
    stream = request.META["wsgi.input"]
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return RequestBody(stream, None)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return RequestBody(stream, length) if length > 0 else None


def upstream_target(request: HttpRequest) -> str:
    """The target forwarded to legacy: as the client sent it (routing checks it first)."""
    raw = request.META.get("RAW_URI", "")  # gunicorn: the path as the client sent it
    return raw if raw.startswith("/") else request.get_full_path()


# --- the response ------------------------------------------------------------------------


class RawSetCookie(Morsel[str]):
    """One upstream ``Set-Cookie`` header, passed on byte for byte (Django keeps cookies in a
    dict of morsels and writes each as one header).
    """

    def __init__(self, raw: str) -> None:
        super().__init__()
        name, _, rest = raw.partition("=")
        value = rest.split(";")[0]
        self._key, self._value, self._coded_value = name.strip(), value, value
        self.raw = raw

    def OutputString(self, attrs: Any = None) -> str:
        return self.raw


def _django_response(
    upstream_response: httpx.Response,
    body: Iterator[bytes],
    upstream_origin: str,
    public_origin: str | None,
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, status=upstream_response.status_code)
    response.reason_phrase = upstream_response.reason_phrase or response.reason_phrase
    del response["Content-Type"]  # only what the upstream sent
    raw = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in upstream_response.headers.raw]
    for index, (name, value) in enumerate(end_to_end(raw)):
        lowered = name.lower()
        if lowered == "set-cookie":
            cookie = RawSetCookie(value)
            key = cookie.key if cookie.key not in response.cookies else f"{cookie.key}\0{index}"
            dict.__setitem__(response.cookies, key, cookie)
        elif lowered == "location" and public_origin:
            response[name] = rewrite_location(value, upstream_origin, public_origin)
        elif name in response:  # a repeated list field: one line, values in order
            response[name] = f"{response[name]}, {value}"
        else:
            response[name] = value
    return response


def _relay(upstream: Upstream, upstream_response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from upstream_response.iter_raw(CHUNK_BYTES)
    except httpx.HTTPError as error:
        upstream.breaker.record_failure()
        metrics.UPSTREAM_FAILURES.labels(upstream.origin, "broken").inc()
        log.warning("upstream_body_broken", upstream=upstream.origin, error=repr(error))
        raise UpstreamBroken(upstream.origin) from error
    finally:
        upstream_response.close()


# --- forwarding --------------------------------------------------------------------------


def _failure(upstream: Upstream, error: httpx.HTTPError) -> HttpResponse:
    upstream.breaker.record_failure()
    metrics.BREAKER_STATE.labels(upstream.origin).set(upstream.breaker.state)
    timed_out = isinstance(error, httpx.TimeoutException) and not isinstance(
        error, httpx.ConnectTimeout
    )
    kind = "timeout" if timed_out else "unreachable"
    metrics.UPSTREAM_FAILURES.labels(upstream.origin, kind).inc()
    log.warning("upstream_failed", upstream=upstream.origin, kind=kind, error=repr(error))
    if timed_out:
        return problem_response(
            504, "upstream_timeout", "The legacy system did not answer in time."
        )
    return problem_response(502, "upstream_unreachable", "The legacy system cannot be reached.")


def _unavailable(upstream: Upstream) -> HttpResponse:
    metrics.UPSTREAM_REJECTED.labels(upstream.origin).inc()
    metrics.BREAKER_STATE.labels(upstream.origin).set(upstream.breaker.state)
    retry_after = upstream.breaker.retry_after_s()
    return problem_response(
        503,
        "upstream_unavailable",
        f"The legacy system is failing; requests to it pause for {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
    )


def _retryable(error: httpx.HTTPError, method: str, body: RequestBody | None) -> bool:
    """Idempotent, nothing of the body consumed, and the upstream never began an answer."""
    nothing_sent = body is None or not body.started
    transient = isinstance(error, httpx.ConnectError | httpx.RemoteProtocolError)
    return method in IDEMPOTENT_METHODS and nothing_sent and transient


def forward(request: HttpRequest) -> HttpResponseBase:
    """The legacy monolith's answer to ``request`` (a ``StreamingHttpResponse``), or a
    problem+json 502/503/504 (400 for a request that cannot be forwarded at all).
    """
    upstream = upstream_for(settings.LEGACY_URL)
    method = request.method or "GET"
    body = _request_body(request)
    try:
        url = httpx.URL(upstream.origin + upstream_target(request))
        headers = _upstream_headers(request)
    except (httpx.InvalidURL, UnicodeError) as error:
        log.info("request_not_forwardable", error=repr(error))
        return problem_response(400, "bad_request", "The request cannot be forwarded.")
    attempts = 1 + settings.STRANGLER_RETRIES
    last_failure: HttpResponse | None = None
    for attempt in range(attempts):
        if not upstream.breaker.allow():
            return last_failure or _unavailable(upstream)
        try:
            upstream_request = httpx.Request(method, url, headers=headers, content=body)
            upstream_response = upstream.client.send(upstream_request, stream=True)
        except httpx.HTTPError as error:
            last_failure = _failure(upstream, error)
            if attempt + 1 < attempts and _retryable(error, method, body):
                time.sleep(0.05 * (attempt + 1))
                continue
            return last_failure
        if upstream_response.status_code in GATEWAY_FAILURE_STATUSES:
            upstream.breaker.record_failure()
            metrics.UPSTREAM_FAILURES.labels(upstream.origin, "status_5xx").inc()
        else:
            upstream.breaker.record_success()
        metrics.BREAKER_STATE.labels(upstream.origin).set(upstream.breaker.state)
        return _django_response(
            upstream_response,
            _relay(upstream, upstream_response),
            upstream.origin,
            _public_origin(request),
        )
    assert last_failure is not None  # the last attempt never continues
    return last_failure
