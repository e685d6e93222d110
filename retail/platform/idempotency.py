"""Idempotency keys for effecting POSTs: one decorator, ``@idempotent``, on the view method.

How a request goes (CONTRACT.md "Idempotency"):
1. ``Idempotency-Key`` is validated (400 ``idempotency_key_missing`` / ``_invalid``).
2. One transaction opens. A transaction-scoped advisory lock on (scope, key) is *tried*: if
   another request holds it, 409 ``idempotency_key_in_use`` at once, never a wait.
3. A stored outcome for the key is replayed byte for byte with ``Idempotent-Replayed: true``
   (or 422 ``idempotency_key_reused`` if method, path or body differ).
4. Otherwise the view runs inside a savepoint. A 4xx rolls the savepoint back (no half-written
   effect) and is stored; a success is stored with its effect; both commit together.
5. An unexpected error rolls everything back and stores nothing: the retry runs afresh.
   A deadlock or serialization failure is retried here first (``TRANSACTION_ATTEMPTS``):
   PostgreSQL rolled the whole attempt back, so running it again is safe.

Only finished requests ever have a row. A crashed request's lock dies with its connection,
so the key is usable again at once (well within the contract's 60 s); a hung one is cut off
by PostgreSQL's ``idle_in_transaction_session_timeout`` (settings.DATABASES).
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from psycopg import errors
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.views import APIView

from retail.platform import metrics
from retail.platform.models import IdempotencyKey
from retail.platform.parsers import json_parse
from retail.platform.problems import Problem, drf_exception_handler

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
TRANSACTION_ATTEMPTS = 5

ViewMethod = Callable[..., HttpResponse]


def idempotent(view_method: ViewMethod) -> ViewMethod:
    @functools.wraps(view_method)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        key = _validated_key(request)
        scope = _scope(request)
        fingerprint = _fingerprint(request)
        attempt = 1
        while True:
            try:
                return _once(view, view_method, request, scope, key, fingerprint, args, kwargs)
            except OperationalError as error:
                if attempt >= TRANSACTION_ATTEMPTS or not _is_transient(error):
                    raise
            # A deadlock victim or serialization failure committed nothing: run it again.
            time.sleep(random.uniform(0, 0.05 * attempt))  # noqa: S311 - jitter, not secrecy
            attempt += 1

    return wrapper


def _once(
    view: APIView,
    view_method: ViewMethod,
    request: Request,
    scope: str,
    key: str,
    fingerprint: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> HttpResponse:
    """One attempt: the lock, the lookup, the view and the stored outcome, in one transaction."""
    with transaction.atomic():
        if not _try_lock(scope, key):
            raise Problem(
                409,
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still being processed; retry later.",
            )
        stored = _stored_outcome(scope, key)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise Problem(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with a different request.",
                )
            metrics.IDEMPOTENT_REPLAYS.inc()
            response = _response_from(stored)
            response[REPLAYED_HEADER] = "true"
            return response
        outcome = _run_in_savepoint(view, view_method, request, *args, **kwargs)
        if outcome.status_code >= 500:
            transaction.set_rollback(True)  # a 5xx commits nothing and stores nothing
            return outcome
        stored = IdempotencyKey.objects.create(
            scope=scope,
            key=key,
            fingerprint=fingerprint,
            response_status=outcome.status_code,
            response_content_type=outcome.get("Content-Type", "application/json"),
            response_body=outcome.content,
            response_location=outcome.get("Location", ""),
            request_id=getattr(request, "request_id", ""),
            expires_at=timezone.now() + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_S),
        )
    return _response_from(stored)


def idempotency_keys_expire() -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def _is_transient(error: OperationalError) -> bool:
    return isinstance(error.__cause__, (errors.DeadlockDetected, errors.SerializationFailure))


def _validated_key(request: Request) -> str:
    key = request.headers.get(HEADER)
    if key is None:
        raise Problem(400, "idempotency_key_missing", f"The {HEADER} header is required.")
    if not (1 <= len(key) <= MAX_KEY_LENGTH and all(" " <= char <= "~" for char in key)):
        raise Problem(
            400,
            "idempotency_key_invalid",
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
        )
    return key


def _scope(request: Request) -> str:
    principal = request.user
    scope = getattr(principal, "idempotency_scope", None)
    return scope if isinstance(scope, str) else f"user:{getattr(principal, 'pk', 'anonymous')}"


def _fingerprint(request: Request) -> str:
    raw = request._request.body  # read before the view parses it; DRF re-reads the cached body
    try:
        canonical = json.dumps(json_parse(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = raw  # not JSON (or nested too deep): the bytes themselves
    digest = hashlib.sha256()
    for part in (str(request.method).encode(), request.path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _try_lock(scope: str, key: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"{scope}\n{key}"]
        )
        return bool(cursor.fetchone()[0])


def _stored_outcome(scope: str, key: str) -> IdempotencyKey | None:
    stored = IdempotencyKey.objects.filter(scope=scope, key=key).first()
    if stored is not None and stored.expires_at <= timezone.now():
        stored.delete()  # expired but not swept yet: the key is free again
        return None
    return stored


def _run_in_savepoint(
    view: APIView, view_method: ViewMethod, request: Request, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Run the view; keep its writes only if it succeeded. Returns a rendered response."""
    savepoint = transaction.savepoint()
    answer: HttpResponse | None
    try:
        answer = view_method(view, request, *args, **kwargs)
    except (Problem, APIException) as error:
        answer = drf_exception_handler(error, {"request": request, "view": view})
    assert answer is not None  # the handler answers every Problem and APIException
    response = view.finalize_response(request, answer, *args, **kwargs)  # type: ignore[arg-type]
    if isinstance(response, SimpleTemplateResponse):  # DRF's Response renders lazily
        response.render()
    if response.status_code >= 400:
        transaction.savepoint_rollback(savepoint)
    else:
        transaction.savepoint_commit(savepoint)
    return response


def _response_from(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        bytes(stored.response_body),
        status=stored.response_status,
        content_type=stored.response_content_type,
    )
    if stored.response_location:
        response["Location"] = stored.response_location
    return response
