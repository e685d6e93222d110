"""The chain guards itself: an entry must follow the head, checkpoints carry a MAC, and the
history tables are append-only like the audit tables.

- ``audit_entry_successor``: an INSERT whose ``seq`` is not the head's + 1 or whose
  ``prev_hash`` is not the head's hash is refused, whoever writes it (the head: the newest
  entry, else the last purge's anchor, else the genesis).
- ``audit_refuse_change`` takes an argument: ``purgeable`` tables (history tables) let a DELETE
  through like ``audit_entry`` does, only under the purge flag and past ``retain_until``.
- ``audit_checkpoint.mac``: HMAC-SHA256 under ``AUDIT_CHECKPOINT_KEY`` (not in the database)
  over the checkpoint and the previous checkpoint's MAC; existing checkpoints are signed here.
"""

from django.db import migrations, models

from retail.audit.domain import GENESIS_HASH

SUCCESSOR = f"""
CREATE OR REPLACE FUNCTION audit_entry_successor() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
    SELECT head.seq, head.hash INTO head_seq, head_hash FROM (
        (SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1)
        UNION ALL
        (SELECT through_seq, through_hash FROM audit_purge ORDER BY through_seq DESC LIMIT 1)
        UNION ALL
        (SELECT 0, '{GENESIS_HASH}')
    ) AS head ORDER BY head.seq DESC LIMIT 1;
    IF NEW.seq <> head_seq + 1 OR NEW.prev_hash <> head_hash THEN
        RAISE EXCEPTION 'audit entry % does not follow the chain head %', NEW.seq, head_seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_entry_follows_head BEFORE INSERT ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_successor();

CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND (TG_TABLE_NAME = 'audit_entry' OR TG_ARGV[0] = 'purgeable') THEN
        IF current_setting('audit.purging', true) = 'on' AND OLD.retain_until < current_date THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit tables are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""
UNDO = """
DROP TRIGGER IF EXISTS audit_entry_follows_head ON audit_entry;
DROP FUNCTION IF EXISTS audit_entry_successor();
"""


def sign_existing_checkpoints(apps, schema_editor):
    from retail.audit import domain, selectors

    key = selectors.checkpoint_key()
    checkpoints = apps.get_model("audit", "AuditCheckpoint")
    previous = ""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_checkpoint DISABLE TRIGGER audit_checkpoint_append_only")
        for checkpoint in checkpoints.objects.order_by("id"):
            previous = domain.checkpoint_mac(key, checkpoint.seq, checkpoint.hash, previous)
            cursor.execute(
                "UPDATE audit_checkpoint SET mac = %s WHERE id = %s", [previous, checkpoint.id]
            )
        cursor.execute("ALTER TABLE audit_checkpoint ENABLE TRIGGER audit_checkpoint_append_only")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.AddField(
            model_name="auditcheckpoint",
            name="mac",
            field=models.CharField(
                default="", help_text="HMAC under AUDIT_CHECKPOINT_KEY", max_length=64
            ),
            preserve_default=False,
        ),
        migrations.RunPython(sign_existing_checkpoints, migrations.RunPython.noop),
        migrations.RunSQL(SUCCESSOR, UNDO),
    ]
