"""Thin Celery tasks of the audit context (beat: settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from retail.audit import services


@shared_task(name="audit.checkpoint")
def audit_checkpoint() -> int:
    """Daily: record the chain head, so a later truncation of the tail is detectable."""
    return services.checkpoint_create().seq
