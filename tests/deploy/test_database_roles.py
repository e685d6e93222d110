"""The application's role (what web, workers and beat connect as) owns no table: it cannot
TRUNCATE, ALTER (disable a trigger) or rewrite the append-only tables, and it can do its job."""

import psycopg
import pytest
from django.conf import settings

from retail.audit.models import AuditEntry
from retail.audit.public import app_database_url
from retail.audit.tests.factories import append, manage, staff_user

pytestmark = pytest.mark.django_db(transaction=True)


def as_app(statement: str) -> None:
    with psycopg.connect(app_database_url(), autocommit=True) as connection:
        connection.execute(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE audit_entry",
        "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only",
        "ALTER TABLE audit_entry DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "UPDATE audit_entry SET action = 'edited'",
        "DELETE FROM audit_entry",
        "UPDATE audit_checkpoint SET hash = 'x'",
        "TRUNCATE customers_piiaccesslog",
        "UPDATE inventory_historicalstockitem SET on_hand = 0",
        "TRUNCATE orders_order CASCADE",
        "DROP TABLE orders_order CASCADE",
        "CREATE TABLE planted (id int)",
    ],
)
def test_the_app_role_cannot(statement):
    append(2)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_app(statement)


def test_the_app_role_is_not_the_owner_nor_a_superuser():
    role = settings.DATABASE_APP_ROLE
    with psycopg.connect(app_database_url(), autocommit=True) as connection:
        user, superuser = connection.execute(
            "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        owned = connection.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
            [role],
        ).fetchone()[0]
    assert (user, superuser, owned) == (role, False, 0)


def test_the_app_role_appends_to_the_chain_and_runs_the_purge():
    append(2)
    staff_user("root", superuser=True)
    assert manage("audit_checkpoint")[0] == 0  # manage.py as the application connects
    code, output = manage("audit_purge", "--before", "2000-01-01", "--by", "root")
    assert code == 0, output
    head = AuditEntry.objects.get(seq=3).hash
    assert manage("audit_verify") == (0, f"OK 3 entries head={head}\n")
