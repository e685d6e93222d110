"""Thin Celery tasks of the event kernel; beat runs the sweeps (settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task
from django.core.cache import cache

from retail.platform import idempotency, relay
from retail.platform.outbox import KICK_PENDING_KEY, RELAY_DRAIN_TASK


@shared_task(name=RELAY_DRAIN_TASK)
def relay_drain() -> int:
    """Woken after a commit that emitted events; re-armed for the next kick before draining."""
    cache.delete(KICK_PENDING_KEY)
    return relay.relay_drain()


@shared_task(name="platform.relay_sweep")
def relay_sweep() -> int:
    """Periodic safety net: delivers whatever a lost kick, a crash or a backoff left pending."""
    return relay.relay_drain()


@shared_task(name="platform.idempotency_keys_expire")
def idempotency_keys_expire() -> int:
    return idempotency.idempotency_keys_expire()
