"""The strangler layer's entry point: every request meets the route table first.

Sits before the body-size limit (legacy bodies stream through unlimited) and stamps
``X-Served-By`` on every response, Rastro's own paths included. With ``STRANGLER_ENABLED``
off (the pytest default, see conftest.py) it only stamps ``X-Served-By: new``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

from strangler import canary, metrics, proxy, shadow
from strangler.domain import SAFE_METHODS, Mode, Side, decide, is_canonical_target, is_operational
from strangler.problems import problem_response
from strangler.route_cache import route_cache

SERVED_BY_HEADER = "X-Served-By"
NO_ROUTE = "(none)"


class StranglerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not settings.STRANGLER_ENABLED or is_operational(
            request.path_info, settings.STRANGLER_OPERATIONAL_PREFIXES
        ):
            return self._stamped(self.get_response(request), Side.NEW)
        if not is_canonical_target(proxy.upstream_target(request)):
            return self._stamped(
                problem_response(
                    400,
                    "path_not_canonical",
                    "The path has dot segments, empty segments or encoded separators.",
                ),
                Side.NEW,
            )
        started = time.perf_counter()
        method = request.method or "GET"
        rule = route_cache.table().match(request.path_info, method)
        client, new_client = (
            canary.client_key(request) if rule and rule.mode is Mode.CANARY else (None, False)
        )
        side, shadowed = decide(rule, client)
        if side is Side.NEW:
            response = self.get_response(request)
        else:
            response = proxy.forward(request)
            # Shadow only what legacy answered (a streamed response, not a 502/503/504 of ours).
            legacy_answered = isinstance(response, StreamingHttpResponse)
            if rule and shadowed and method in SAFE_METHODS and legacy_answered:
                shadow.attach(response, rule, request, self.get_response)
        if client and new_client:
            canary.client_cookie_set(response, client)
        route = rule.prefix if rule else NO_ROUTE
        mode = rule.mode.value if rule else NO_ROUTE
        metrics.ROUTE_DECISIONS.labels(route, mode, side.value).inc()
        metrics.REQUEST_SECONDS.labels(route, side.value).observe(time.perf_counter() - started)
        return self._stamped(response, side)

    @staticmethod
    def _stamped(response: HttpResponseBase, side: Side) -> HttpResponseBase:
        response[SERVED_BY_HEADER] = side.value
        return response
