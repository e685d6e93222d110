"""Prometheus metrics of the routing layer (served at /metrics with the rest)."""

from prometheus_client import Counter, Gauge, Histogram

ROUTE_DECISIONS = Counter(
    "strangler_route_decisions_total",
    "Requests by matching route prefix, route mode and the side that answered.",
    ["route", "mode", "served_by"],
)
REQUEST_SECONDS = Histogram(
    "strangler_request_seconds",
    "Time to the response headers, by route and the side that answered.",
    ["route", "served_by"],
)
UPSTREAM_FAILURES = Counter(
    "strangler_upstream_failures_total",
    "Failed calls to an upstream, by kind (unreachable, timeout, broken, status_5xx).",
    ["upstream", "kind"],
)
UPSTREAM_REJECTED = Counter(
    "strangler_upstream_rejected_total",
    "Requests answered 503 because the upstream's circuit breaker was open.",
    ["upstream"],
)
BREAKER_STATE = Gauge(
    "strangler_breaker_state",
    "Circuit breaker per upstream in this process: 0 closed, 1 half-open, 2 open.",
    ["upstream"],
)
SHADOW_COMPARISONS = Counter(
    "strangler_shadow_comparisons_total",
    "Shadowed requests by route and result (match, mismatch, dropped, failed).",
    ["route", "result"],
)
