"""Writes: upsert a customer by CPF, reveal a CPF (logged, and in the audit trail)."""

from django.db import connection, transaction
from django.utils import timezone

from retail.audit.public import Kind, audit_record, history_record
from retail.customers import domain, pii
from retail.customers.models import Customer, PiiAccessLog

_UPSERT_COLUMNS = [
    "id",
    "name",
    "email",
    "cpf_hmac",
    "cpf_encrypted",
    "cpf_masked",
    "created_at",
    "updated_at",
]
_UPSERT_SQL = f"""
    INSERT INTO {Customer._meta.db_table} ({", ".join(_UPSERT_COLUMNS)})
    VALUES ({", ".join(["%s"] * len(_UPSERT_COLUMNS))})
    ON CONFLICT (cpf_hmac) DO UPDATE
        SET name = EXCLUDED.name, email = EXCLUDED.email, updated_at = EXCLUDED.updated_at
    RETURNING id, created_at, cpf_encrypted, xmax = 0
"""  # noqa: S608 - table and column names are ours, values are parameters


def customer_upsert(*, name: str, email: str, cpf: str) -> Customer:
    """The customer with this CPF, created or with name and e-mail brought up to date.

    One ``INSERT … ON CONFLICT (cpf_hmac) DO UPDATE``: safe under concurrent checkouts (its
    ``xmax = 0`` tells an insert from an update, for the history row simple_history cannot see).
    """
    digits = domain.cpf_normalize(cpf)
    now = timezone.now()
    customer = Customer(
        name=name,
        email=email,
        cpf_hmac=pii.lookup_hash(digits),
        cpf_encrypted=pii.encrypt(digits),
        cpf_masked=domain.cpf_mask(digits),
        created_at=now,
        updated_at=now,
    )
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_UPSERT_SQL, [getattr(customer, column) for column in _UPSERT_COLUMNS])
        customer.id, customer.created_at, customer.cpf_encrypted, created = cursor.fetchone()
        history_record([customer], created=created)
    return customer


def customer_reveal_cpf(*, customer: Customer, actor: str, reason: str) -> str:
    """The CPF in clear, for someone with a stated reason; the reveal is logged first."""
    if not actor.strip() or not reason.strip():
        raise ValueError("revealing a CPF needs an actor and a reason")
    with transaction.atomic():
        PiiAccessLog.objects.create(customer=customer, field="cpf", actor=actor, reason=reason)
        audit_record(
            kind=Kind.STAFF,
            action="pii.revealed",
            actor=actor,
            subject=customer.pk,
            data={"field": "cpf", "reason": reason},
        )
        return pii.decrypt(bytes(customer.cpf_encrypted))
