"""Thin Celery tasks of the compliance context (beat: settings.CELERY_BEAT_SCHEDULE)."""

from datetime import timedelta

from celery import shared_task

from retail.compliance import services

WINDOWED_RULES_LOOKBACK = timedelta(days=2)


@shared_task(name="compliance.windowed_rules_run")
def windowed_rules_run() -> int:
    """Re-runs the rules over recent operations: catches patterns completed by late records."""
    return len(services.rules_evaluate_recent(WINDOWED_RULES_LOOKBACK))
