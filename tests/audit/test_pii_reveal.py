"""A CPF reveal reaches the audit trail in the same transaction as its access log (issue 8)."""

import json

import pytest

from retail.audit.models import AuditEntry
from retail.customers import services
from retail.customers.models import Customer, PiiAccessLog

pytestmark = pytest.mark.django_db
CPF = "123.456.789-09"


def test_a_reveal_appends_one_staff_entry_naming_who_why_and_whom_but_not_the_cpf():
    customer = services.customer_upsert(name="Ana", email="ana@example.com", cpf=CPF)
    before = AuditEntry.objects.count()

    services.customer_reveal_cpf(customer=customer, actor="user:7:carla", reason="COAF case 12")

    (entry,) = AuditEntry.objects.order_by("seq")[before:]
    assert (entry.kind, entry.action, entry.actor) == ("staff", "pii.revealed", "user:7:carla")
    assert entry.data == {"subject": customer.pk, "field": "cpf", "reason": "COAF case 12"}
    stored = json.dumps(entry.content().__dict__, default=str)
    assert "12345678909" not in stored
    assert "123.456.789-09" not in stored
    assert PiiAccessLog.objects.count() == 1


def test_a_failed_reveal_leaves_neither_the_log_nor_the_audit_entry():
    customer = services.customer_upsert(name="Ana", email="ana@example.com", cpf=CPF)
    Customer.objects.filter(pk=customer.pk).update(cpf_encrypted=b"\x09broken")
    customer.refresh_from_db()
    before = AuditEntry.objects.count()

    with pytest.raises(ValueError, match="version"):
        services.customer_reveal_cpf(customer=customer, actor="user:7:carla", reason="COAF")

    assert AuditEntry.objects.count() == before
    assert not PiiAccessLog.objects.exists()
