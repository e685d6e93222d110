"""Thin Celery tasks of the orders context (beat: settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task
from django.utils import timezone

from retail.orders import services


@shared_task(name="orders.expire_unpaid")
def orders_expire_unpaid() -> int:
    """Orders whose payment did not arrive before their reservation deadline fail (stock back)."""
    return services.order_expire_unpaid(now=timezone.now())
