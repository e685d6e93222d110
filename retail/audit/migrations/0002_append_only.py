"""The audit tables refuse UPDATE and DELETE; ``audit_purge_expired`` is the one deletion path.

The trigger lets a DELETE through only inside ``audit_purge_expired`` (which sets a
transaction-local flag) and only for entries whose ``retain_until`` has passed, so even that
path cannot remove a record the 10-year rule still protects. TRUNCATE is not a row operation:
in production the application's role does not own these tables and has no TRUNCATE, UPDATE or
DELETE on them (docs/adr/0004-audit-chain.md).
"""

from django.db import migrations

TABLES = ("audit_entry", "audit_checkpoint", "audit_purge")
CHAIN_LOCK_KEY = 418581342580  # retail.audit.services.CHAIN_LOCK_KEY

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_entry' THEN
        IF current_setting('audit.purging', true) = 'on' AND OLD.retain_until < current_date THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit tables are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION audit_purge_expired(before date, actor text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    cutoff date := least(before, current_date);
    first_kept bigint;
    last_seq bigint;
    last_hash text;
    removed bigint;
    purge_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
    SELECT min(seq) INTO first_kept FROM audit_entry WHERE retain_until >= cutoff;
    SELECT seq, hash INTO last_seq, last_hash FROM audit_entry
        WHERE first_kept IS NULL OR seq < first_kept ORDER BY seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('audit.purging', 'on', true);
    DELETE FROM audit_entry WHERE seq <= last_seq;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('audit.purging', 'off', true);
    INSERT INTO audit_purge (at, before, through_seq, through_hash, deleted, actor)
        VALUES (clock_timestamp(), before, last_seq, last_hash, removed, actor)
        RETURNING id INTO purge_id;
    RETURN purge_id;
END $$;
REVOKE ALL ON FUNCTION audit_purge_expired(date, text) FROM PUBLIC;
"""

TRIGGERS = "\n".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
    f" FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();"
    for table in TABLES
)
DROP = "\n".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in TABLES)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunSQL(
            FUNCTIONS + TRIGGERS,
            DROP
            + "DROP FUNCTION IF EXISTS audit_purge_expired(date, text);"
            + "DROP FUNCTION IF EXISTS audit_refuse_change();",
        )
    ]
