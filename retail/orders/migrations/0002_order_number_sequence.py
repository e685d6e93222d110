from django.db import migrations

from retail.orders.models import NUMBER_SEQUENCE


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [
        migrations.RunSQL(
            f"CREATE SEQUENCE {NUMBER_SEQUENCE} START 1",
            f"DROP SEQUENCE {NUMBER_SEQUENCE}",
        ),
    ]
