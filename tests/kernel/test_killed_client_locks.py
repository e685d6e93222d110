"""A process killed while its query waits on a lock must not leave its PostgreSQL backend
holding the locks it took before (``client_connection_check_interval``): without it, the
backend waits on, locks held, until its statement times out 30 s later, and every request,
relay or test flush that needs those locks waits or fails with it."""

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from django.db import connection, connections, transaction

from retail.audit.database_roles import app_database_url
from tests.kernel.procs import REPO, wait_for

pytestmark = [pytest.mark.django_db(transaction=True)]
HELD_BY_THE_TEST, HELD_BY_THE_VICTIM = 7_301, 7_302
# With the application's database settings: take one lock, then wait for the test's.
VICTIM = f"""
import django
django.setup()
from django.db import connection, transaction
with transaction.atomic(), connection.cursor() as cursor:
    cursor.execute("SELECT pg_advisory_xact_lock({HELD_BY_THE_VICTIM})")
    print("holding", flush=True)
    cursor.execute("SELECT pg_advisory_xact_lock({HELD_BY_THE_TEST})")
"""


def _waiting_on_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND objid = %s",
            [HELD_BY_THE_TEST],
        )
        return cursor.fetchone()[0] == 1


def test_a_killed_client_s_backend_lets_its_locks_go_within_seconds():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": app_database_url(),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HELD_BY_THE_TEST])
        victim = subprocess.Popen(
            [sys.executable, "-c", VICTIM], cwd=REPO, env=env, stdout=subprocess.PIPE
        )
        assert victim.stdout is not None
        assert victim.stdout.readline() == b"holding\n"
        wait_for(_waiting_on_a_lock, timeout=10, what="the victim to wait on the test's lock")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)

        # The test still holds what the victim waits for: only the dead client check can end
        # the victim's backend (and with it, its lock). Asked from another session, so that
        # no deadlock detection ends it instead.
        started = time.monotonic()
        with psycopg.connect(app_database_url(), autocommit=True) as other:
            other.execute("SET lock_timeout = '5s'")
            try:
                other.execute("SELECT pg_advisory_lock(%s)", [HELD_BY_THE_VICTIM])
            except psycopg.errors.LockNotAvailable:
                pytest.fail("the killed client's backend still holds its lock after 5 s")
        assert time.monotonic() - started < 5
