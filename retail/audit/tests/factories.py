"""Staff users with roles and tokens, and a few ways to build or break the chain in tests."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection, transaction

from retail.audit import services
from retail.audit.database_roles import app_database_url
from retail.channels.public import staff_token_issue


def staff_user(username: str, role: str | None = None, *, superuser: bool = False) -> User:
    user = User.objects.create_user(
        username=username, password="pw-for-tests", is_staff=True, is_superuser=superuser
    )
    if role is not None:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def staff_token(username: str, role: str) -> str:
    return staff_token_issue(user_id=staff_user(username, role).pk)


def append(count: int, **fields: object) -> list[int]:
    seqs = []
    for number in range(count):
        with transaction.atomic():
            entry = services.entry_append(
                kind=str(fields.get("kind", "event")),
                action=str(fields.get("action", f"Probe{number}")),
                order_id=fields.get("order_id"),  # type: ignore[arg-type]
                data={"n": number},
            )
        seqs.append(entry.seq)
    return seqs


@contextmanager
def without_triggers() -> Iterator[None]:
    """A transaction in which no trigger fires: only a PostgreSQL superuser (the test role, an
    attacker who owns the database; never the application's role) can do this."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        yield


def as_superuser_without_trigger(sql: str, params: list[object]) -> None:
    """Plant a change the triggers would refuse."""
    with without_triggers(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def manage(*arguments: str) -> tuple[int, str]:
    """Run ``manage.py`` in a subprocess on the test database: ``(exit code, stdout + stderr)``."""
    done = subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *arguments],
        env={**os.environ, "DATABASE_URL": app_database_url()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr
