"""The documented monitoring rules with their default parameters (edited in admin afterwards)."""

from django.db import migrations

RULES = [
    ("structuring", "structuring", "Structuring: several operations just below a threshold",
     "Several credits by one customer just below a threshold (R$ 10,000) within a window."),
    ("velocity", "velocity", "Velocity: many operations or payment instruments",
     "Many payment attempts or many distinct payment instruments by one customer in a window."),
    ("profile", "profile", "Amount incompatible with the customer's profile",
     "A credit far above the average of the customer's earlier credits."),
    ("dormant", "dormant", "Dormant customer moving a large sum",
     "A large credit by a customer with no operation for a long time."),
    ("shared-identity", "shared_identity", "Many customers sharing one e-mail or IP",
     "Distinct customers using the same e-mail address or IP address within a window."),
    ("pass-through", "pass_through", "Pass-through: received then refunded quickly",
     "Most of a captured amount refunded soon after it was received."),
    ("pep", "pep", "Politically exposed person",
     "An operation by a PEP, in office or within 5 years of leaving it."),
    ("cash-50k", "cash", "Cash of R$ 50,000 or more (art. 49)",
     "Cash operations at or above R$ 50,000: communicated to COAF automatically."),
]

DEFAULTS = {
    "structuring": {"thresholds": [1000000], "margin_percent": 10, "min_count": 3,
                    "window_hours": 72},
    "velocity": {"window_minutes": 60, "max_operations": 10, "max_instruments": 3},
    "profile": {"multiplier": 10, "min_history": 3, "lookback_days": 180, "min_amount": 500000},
    "dormant": {"dormant_days": 180, "min_amount": 1000000},
    "shared_identity": {"attributes": ["email", "client_ip"], "min_customers": 4,
                        "window_days": 30},
    "pass_through": {"window_hours": 48, "min_ratio_percent": 80, "min_amount": 100000},
    "pep": {"years_after_office": 5, "min_amount": 0},
    "cash": {"threshold": 5000000, "methods": ["cash"]},
}


def create_rules(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    for code, kind, name, description in RULES:
        Rule.objects.get_or_create(
            code=code,
            defaults={"kind": kind, "name": name, "description": description,
                      "parameters": DEFAULTS[kind]},
        )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0002_database_rules")]
    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
