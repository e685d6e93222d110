"""The application's PostgreSQL role owns no table (docs/security.md, "Database roles").

Migrations run as the owner of the schema; every other process (web, workers, beat, commands)
connects as ``DATABASE_APP_ROLE``, which may read and write rows but not TRUNCATE, ALTER
(disable a trigger), or change the append-only tables: audit entries, checkpoints and purges
and the PII access log take INSERT only, the history tables INSERT and the retention purge's
DELETE (their trigger lets only expired rows go). After every ``migrate`` the owner grants
exactly that (post_migrate), so a table added later is covered too.
"""

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from retail.audit.services import history_models

APPEND_ONLY = ("audit_entry", "audit_checkpoint", "audit_purge", "customers_piiaccesslog")


def app_role_grant(**_signal: Any) -> None:
    """Run as the owner after every ``migrate`` (post_migrate); idempotent."""
    role = settings.DATABASE_APP_ROLE
    if not role:
        return  # one role for everything (a local run that did not ask for the split)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise ImproperlyConfigured(
                f"DATABASE_APP_ROLE {role!r} does not exist (scripts/ensure-services.sh makes it)"
            )
        existing = set(connection.introspection.table_names(cursor))
        quoted = connection.ops.quote_name(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        for table in sorted(existing & set(APPEND_ONLY)):
            cursor.execute(f"REVOKE UPDATE, DELETE ON {_quoted(table)} FROM {quoted}")
        history_tables = {model._meta.db_table for model in history_models()}
        for table in sorted(existing & history_tables):
            cursor.execute(f"REVOKE UPDATE ON {_quoted(table)} FROM {quoted}")
        cursor.execute("SELECT to_regproc('audit_purge_expired') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute(f"GRANT EXECUTE ON FUNCTION audit_purge_expired(date, text) TO {quoted}")


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def app_database_url() -> str:
    """This database's URL as the application connects to it: as ``DATABASE_APP_ROLE`` when
    there is one (no password: local trust), for the processes tests and scripts start."""
    database = connection.settings_dict
    user = settings.DATABASE_APP_ROLE or database["USER"] or ""
    credentials = quote(user) if settings.DATABASE_APP_ROLE else _credentials(database)
    host, port = database["HOST"] or "localhost", database["PORT"] or 5432
    at = f"{credentials}@" if credentials else ""
    return f"postgres://{at}{host}:{port}/{database['NAME']}"


def _credentials(database: dict[str, Any]) -> str:
    credentials = quote(database["USER"] or "")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"])
    return credentials
