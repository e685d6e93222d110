"""History tables are append-only in the database, like the chain."""

import pytest
from django.db import DatabaseError, connection, transaction

from retail.audit.services import history_models
from retail.inventory import public as inventory

pytestmark = pytest.mark.django_db(transaction=True)


def refused(statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(statement)


def test_every_history_table_has_the_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_object_table FROM information_schema.triggers"
            " WHERE trigger_name = event_object_table || '_append_only'"
            " AND event_manipulation = 'UPDATE'"
        )
        sealed = {table for (table,) in cursor.fetchall()}
    tables = {model._meta.db_table for model in history_models()}
    assert len(tables) >= 8
    assert tables <= sealed


def test_a_history_row_can_be_neither_changed_nor_deleted():
    inventory.stock_ensure_available(sku="SEALED", at_least=5, reference="test")
    history = next(m for m in history_models() if m._meta.db_table.endswith("historicalstockitem"))
    table = history._meta.db_table
    rows = list(history.objects.values_list("history_id", "on_hand"))
    assert rows

    refused(f"UPDATE {table} SET on_hand = 0")  # noqa: S608 - a table name of ours
    refused(f"DELETE FROM {table}")  # noqa: S608

    assert list(history.objects.values_list("history_id", "on_hand")) == rows
