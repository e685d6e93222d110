"""Thin Celery tasks of the payments context: they take ids and call a service.

The after-commit tasks submit a payment or refund at once; when the PSP does not take it
(a 503, no answer) or the task is lost, the sweep (``payments.submit_sweep``, beat) owns the
retries, with a backoff per row (retail/payments/submissions.py): a broker message is never
the only copy of "this must reach the PSP".
"""

from collections.abc import Callable

import structlog
from celery import shared_task
from django.utils import timezone

from retail.payments import services, submissions
from retail.payments.psp import PspUnavailable

log = structlog.get_logger(__name__)


@shared_task(name=services.PAYMENT_SUBMIT_TASK)
def payment_submit(payment_id: str) -> None:
    _first_attempt(services.payment_submit, payment_id)


@shared_task(name=services.REFUND_SUBMIT_TASK)
def refund_submit(refund_id: str) -> None:
    _first_attempt(services.refund_submit, refund_id)


@shared_task(name="payments.submit_sweep")
def submit_sweep() -> int:
    return submissions.submit_sweep(now=timezone.now())


@shared_task(name="payments.stale_reconcile")
def stale_reconcile() -> int:
    return services.stale_reconcile(now=timezone.now())


def _first_attempt(submit: Callable[[str], None], object_id: str) -> None:
    try:
        submit(object_id)
    except PspUnavailable as error:  # still due: the sweep retries it after its grace
        log.info("payments.submit_left_to_sweep", id=object_id, error=str(error))
