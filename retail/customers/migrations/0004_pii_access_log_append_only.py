"""Who saw whose personal data is kept like the audit log: the database refuses UPDATE and
DELETE on it (the audit app's trigger function)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_pii_keys_of_their_own"),
        ("audit", "0003_integrity"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER customers_piiaccesslog_append_only"
            " BEFORE UPDATE OR DELETE ON customers_piiaccesslog"
            " FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
            "DROP TRIGGER IF EXISTS customers_piiaccesslog_append_only ON customers_piiaccesslog",
        )
    ]
