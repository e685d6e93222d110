"""Reads: customers by id or by CPF (through its keyed hash, never the clear value)."""

from retail.customers import domain, pii
from retail.customers.models import Customer


def customer_get(customer_id: str) -> Customer | None:
    return Customer.objects.filter(pk=customer_id).first()


def customer_get_by_cpf(cpf: str) -> Customer | None:
    return Customer.objects.filter(cpf_hmac=pii.lookup_hash(domain.cpf_normalize(cpf))).first()
