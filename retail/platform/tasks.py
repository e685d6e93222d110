"""Thin Celery tasks of the event kernel; beat runs the sweeps (settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task
from django.core.cache import cache

from retail.platform import idempotency, relay
from retail.platform.inbox import CORE_LANE
from retail.platform.outbox import RELAY_DRAIN_TASK, kick_pending_key


@shared_task(name=RELAY_DRAIN_TASK)
def relay_drain(lane: str = CORE_LANE) -> int:
    """Woken after a commit that emitted events of ``lane`` (sent to the lane's own queue);
    re-armed for the next kick before draining."""
    cache.delete(kick_pending_key(lane))
    return relay.relay_drain(lane=lane)


@shared_task(name="platform.relay_sweep")
def relay_sweep(lane: str = CORE_LANE) -> int:
    """Periodic safety net, one per lane on the lane's queue: delivers whatever a lost kick, a
    crash or a backoff left pending."""
    return relay.relay_drain(lane=lane)


@shared_task(name="platform.idempotency_keys_expire")
def idempotency_keys_expire() -> int:
    return idempotency.idempotency_keys_expire()
