"""Thin Celery tasks of the payments context: they take ids and call a service.

Talking to the PSP is retried with exponential backoff only because it is safe: every
request carries the same ``Idempotency-Key`` (our id) on every retry. When retries run out,
the beat task ``payments.stale_reconcile`` asks the PSP and carries on from there.
"""

from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from retail.payments import services
from retail.payments.psp import PspUnavailable

RETRY_CAP_S = 60.0


def retry_countdown(retries: int) -> float:
    return float(min(settings.PSP_RETRY_BASE_S * 2**retries, RETRY_CAP_S))


@shared_task(bind=True, name=services.PAYMENT_SUBMIT_TASK, max_retries=None)
def payment_submit(self: Any, payment_id: str) -> None:
    _with_retries(self, services.payment_submit, payment_id)


@shared_task(bind=True, name=services.REFUND_SUBMIT_TASK, max_retries=None)
def refund_submit(self: Any, refund_id: str) -> None:
    _with_retries(self, services.refund_submit, refund_id)


@shared_task(name="payments.stale_reconcile")
def stale_reconcile() -> int:
    return services.stale_reconcile(now=timezone.now())


def _with_retries(task: Any, submit: Callable[[str], None], object_id: str) -> None:
    try:
        submit(object_id)
    except PspUnavailable as error:
        if task.request.retries >= settings.PSP_MAX_RETRIES:
            return  # stale_reconcile picks it up after PAYMENT_RECONCILE_AFTER_S
        raise task.retry(exc=error, countdown=retry_countdown(task.request.retries)) from error
