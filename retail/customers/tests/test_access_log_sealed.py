"""Who saw whose personal data: the database keeps it like the audit log (append-only)."""

import pytest
from django.db import DatabaseError, connection, transaction

from retail.customers import services as customers
from retail.customers.models import PiiAccessLog

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE customers_piiaccesslog SET actor = 'nobody'", "DELETE FROM customers_piiaccesslog"],
)
def test_the_pii_access_log_can_be_neither_changed_nor_deleted(statement):
    customer = customers.customer_upsert(name="Ana", email="a@example.com", cpf="123.456.789-09")
    customers.customer_reveal_cpf(customer=customer, actor="user:7:carla", reason="COAF case")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(statement)

    assert list(PiiAccessLog.objects.values_list("actor", flat=True)) == ["user:7:carla"]
