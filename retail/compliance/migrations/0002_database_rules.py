"""Compliance rules the database enforces, whatever the code path (ORM, raw SQL, psql).

- Operation records and decisions are append-only: UPDATE refused (art. 28: corrections are
  new records; art. 48: a decision stands).
- No compliance row is deleted before its ``retain_until`` (art. 67), nor has it lowered.
- The SISCOAF occurrence numbers come from a sequence.
"""

from django.db import migrations

APPEND_ONLY = ["compliance_operation_record", "compliance_case_decision"]
RETAINED = [
    "compliance_operation_record",
    "compliance_case_decision",
    "compliance_alert",
    "compliance_alert_operation",
    "compliance_case",
    "compliance_communication",
]
UPDATABLE = [table for table in RETAINED if table not in APPEND_ONLY]

FORWARD = """
CREATE SEQUENCE compliance_occurrence_seq;

CREATE FUNCTION compliance_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'compliance: % is append-only, UPDATE refused (record a correction)',
        TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE FUNCTION compliance_retained() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.retain_until > current_date THEN
        RAISE EXCEPTION 'compliance: % row is retained until %, DELETE refused',
            TG_TABLE_NAME, OLD.retain_until USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END $$;

CREATE FUNCTION compliance_retention_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.retain_until < OLD.retain_until THEN
        RAISE EXCEPTION 'compliance: % retain_until cannot be brought forward',
            TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
"""
FORWARD += "".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION compliance_append_only();\n"
    for table in APPEND_ONLY
)
FORWARD += "".join(
    f"CREATE TRIGGER {table}_retained BEFORE DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION compliance_retained();\n"
    for table in RETAINED
)
FORWARD += "".join(
    f"CREATE TRIGGER {table}_retention_kept BEFORE UPDATE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION compliance_retention_kept();\n"
    for table in UPDATABLE
)

BACKWARD = (
    "".join(f"DROP TRIGGER {table}_append_only ON {table};\n" for table in APPEND_ONLY)
    + "".join(f"DROP TRIGGER {table}_retained ON {table};\n" for table in RETAINED)
    + "".join(f"DROP TRIGGER {table}_retention_kept ON {table};\n" for table in UPDATABLE)
    + """
DROP FUNCTION compliance_retention_kept();
DROP FUNCTION compliance_retained();
DROP FUNCTION compliance_append_only();
DROP SEQUENCE compliance_occurrence_seq;
"""
)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
