"""The ``engineer`` group: the only one that may flip route toggles."""

from django.db import migrations

from strangler.permissions import engineer_group_ensure


def forward(apps, schema_editor):
    engineer_group_ensure(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("strangler", "0002_route_table_stamp_trigger"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
