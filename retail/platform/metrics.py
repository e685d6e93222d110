"""Prometheus metrics of the event kernel and the ``/metrics`` view.

Web and worker processes each count; with ``PROMETHEUS_MULTIPROC_DIR`` set (``make run``
sets it) the view aggregates every process. Outbox depth is read from the database at
scrape time, so it is right whoever wrote the rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from retail.platform.relay import ClaimedEvent

DELIVERED = Counter(
    "rastro_outbox_delivered_total",
    "Outbox events applied to all consumers of a lane",
    ["event_type", "lane"],
)
DEAD_LETTERS = Counter(
    "rastro_outbox_dead_letters_total",
    "Outbox events moved to the dead letter of a lane",
    ["event_type", "lane"],
)
COMMIT_TO_HANDLED = Histogram(
    "rastro_outbox_commit_to_handled_seconds",
    "From the event's write to a lane's consumers having applied it",
    ["lane"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
IDEMPOTENT_REPLAYS = Counter(
    "rastro_idempotent_replays_total", "Responses replayed for a repeated Idempotency-Key"
)
WEBHOOK_REJECTS = Counter(
    "rastro_webhook_rejects_total", "Webhooks refused, by source and reason", ["source", "reason"]
)


def record_delivered(events: Sequence[ClaimedEvent], handled_at: datetime, lane: str) -> None:
    for event in events:
        DELIVERED.labels(event.event_type, lane).inc()
        COMMIT_TO_HANDLED.labels(lane).observe(
            max((handled_at - event.occurred_at).total_seconds(), 0.0)
        )


class OutboxCollector(Collector):
    """Pending and dead-lettered counts and the oldest pending age, read at scrape time."""

    def describe(self) -> Iterable[Metric]:
        """Names only, so registering the collector never touches the database."""
        return self._families({"by_type": {}, "oldest_pending_age_s": None, "lanes": {}})

    def collect(self) -> Iterable[Metric]:
        from retail.platform.selectors import outbox_status

        return self._families(outbox_status())

    @staticmethod
    def _families(status: dict[str, Any]) -> Iterable[Metric]:
        pending = GaugeMetricFamily(
            "rastro_outbox_pending", "Events waiting for delivery", labels=["event_type"]
        )
        dead = GaugeMetricFamily(
            "rastro_outbox_dead", "Dead-lettered events", labels=["event_type"]
        )
        for event_type, counts in status["by_type"].items():
            pending.add_metric([event_type], counts["pending"])
            dead.add_metric([event_type], counts["dead"])
        oldest = GaugeMetricFamily(
            "rastro_outbox_oldest_pending_age_seconds", "Age of the oldest pending event (lag)"
        )
        oldest.add_metric([], status["oldest_pending_age_s"] or 0.0)
        lane_pending = GaugeMetricFamily(
            "rastro_lane_pending", "Events waiting for a lane's consumers", labels=["lane"]
        )
        lane_dead = GaugeMetricFamily(
            "rastro_lane_dead", "Events dead-lettered in a lane", labels=["lane"]
        )
        lane_lag = GaugeMetricFamily(
            "rastro_lane_oldest_pending_age_seconds",
            "Age of a lane's oldest pending event (its consumers' lag)",
            labels=["lane"],
        )
        for lane, counts in status["lanes"].items():
            lane_pending.add_metric([lane], counts["pending"])
            lane_dead.add_metric([lane], counts["dead"])
            lane_lag.add_metric([lane], counts["oldest_pending_age_s"] or 0.0)
        return [pending, dead, oldest, lane_pending, lane_dead, lane_lag]


_OUTBOX_COLLECTOR = OutboxCollector()


def register_outbox_collector() -> None:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        REGISTRY.register(_OUTBOX_COLLECTOR)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_OUTBOX_COLLECTOR)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
