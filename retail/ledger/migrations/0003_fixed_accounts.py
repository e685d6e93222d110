"""The accounts every ledger has; per-channel and per-partner accounts are created on first use."""

from django.db import migrations

# Frozen copy of retail.ledger.domain.FIXED_ACCOUNTS as of this migration.
FIXED_ACCOUNTS = [
    ("psp_clearing", "PSP clearing", "asset", "debit"),
    ("sales_revenue", "Sales revenue", "revenue", "credit"),
    ("sales_refunds", "Refunds (contra-revenue)", "contra_revenue", "debit"),
]


def create_fixed_accounts(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    for code, name, kind, normal_side in FIXED_ACCOUNTS:
        Account.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "normal_side": normal_side}
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_database_rules")]

    operations = [migrations.RunPython(create_fixed_accounts, migrations.RunPython.noop)]
