"""The Celery app: outbox relay, event consumers and scheduled sweeps.

Each setting below is one that bites in production when left at its default
(RELIABILITY.md, "Celery settings that bite").
"""

import os

from celery import Celery, signals
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rastro")
app.config_from_object("django.conf:settings", namespace="CELERY")

# The longest task plus the longest countdown/ETA we ever schedule must stay below this,
# or Redis hands the same message to a second worker while the first still runs it.
VISIBILITY_TIMEOUT_S = 3600

app.conf.update(
    # Ack after the task ran, so a worker killed mid-task leaves the message for another.
    task_acks_late=True,
    # A worker process killed by a signal (SIGKILL, OOM) requeues its task instead of acking it.
    task_reject_on_worker_lost=True,
    # One message at a time per process: a slow task never hoards others behind it.
    worker_prefetch_multiplier=1,
    # On broker connection loss, cancel running acks_late tasks: they are redelivered anyway.
    worker_cancel_long_running_tasks_on_connection_loss=True,
    # Same visibility timeout for the broker and the result backend transport.
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
    result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
    # Tasks report through the database, never through results: keep Redis lean.
    task_ignore_result=True,
    # Tasks take ids; JSON keeps messages readable and rejects pickled objects.
    task_serializer="json",
    accept_content=["json"],
    # Keep retrying the broker at start-up instead of crashing the worker.
    broker_connection_retry_on_startup=True,
    # Every schedule and timestamp in UTC.
    timezone="UTC",
    enable_utc=True,
)
# Celery's Django fixup closes every database connection before and after each task unless
# this is set: a new PostgreSQL backend per task (fork, authentication, session set-up), more
# CPU than most of our tasks. It closes them every 2 x this many tasks instead; in between,
# the signals below treat each task like Django treats a request: CONN_MAX_AGE and
# CONN_HEALTH_CHECKS decide, and a connection left broken (a killed backend) is replaced.
app.conf["CELERY_DB_REUSE_MAX"] = 1000
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _database_connections_recycle(**kwargs: object) -> None:
    close_old_connections()
