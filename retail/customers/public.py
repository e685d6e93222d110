"""The customers facade: CPF validation, upsert by CPF, customer lookup."""

from dataclasses import dataclass

from retail.customers import domain, selectors, services
from retail.customers.domain import InvalidCpf
from retail.customers.models import Customer

__all__ = ["CustomerRef", "InvalidCpf", "cpf_normalize", "customer_get", "customer_upsert"]


@dataclass(frozen=True)
class CustomerRef:
    id: str
    name: str
    email: str
    cpf_masked: str


def cpf_normalize(raw: object) -> str:
    """11 digits of a valid CPF; raises :class:`InvalidCpf` otherwise."""
    return domain.cpf_normalize(raw)


def customer_upsert(*, name: str, email: str, cpf: str) -> CustomerRef:
    """Same CPF, same customer (one query, in the caller's transaction)."""
    return _ref(services.customer_upsert(name=name, email=email, cpf=cpf))


def customer_get(customer_id: str) -> CustomerRef | None:
    customer = selectors.customer_get(customer_id)
    return None if customer is None else _ref(customer)


def _ref(customer: Customer) -> CustomerRef:
    return CustomerRef(
        id=customer.pk, name=customer.name, email=customer.email, cpf_masked=customer.cpf_masked
    )
