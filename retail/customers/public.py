"""The customers facade: CPF validation, upsert by CPF, customer lookup."""

from dataclasses import dataclass

from retail.customers import domain, pii, selectors, services
from retail.customers.domain import InvalidCpf
from retail.customers.models import Customer

__all__ = [
    "CpfRef",
    "CustomerRef",
    "InvalidCpf",
    "cpf_normalize",
    "cpf_reference",
    "customer_cpf_fingerprint",
    "customer_cpf_reveal",
    "customer_get",
    "customer_upsert",
]


@dataclass(frozen=True)
class CustomerRef:
    id: str
    name: str
    email: str
    cpf_masked: str


@dataclass(frozen=True)
class CpfRef:
    """How another context keeps a CPF without its digits: the keyed hash customers are looked
    up by (``fingerprint``) and the masked form for display."""

    fingerprint: str
    masked: str


def cpf_reference(raw: object) -> CpfRef:
    """A CPF's fingerprint and masked form; raises :class:`InvalidCpf`."""
    digits = domain.cpf_normalize(raw)
    return CpfRef(fingerprint=pii.lookup_hash(digits), masked=domain.cpf_mask(digits))


def customer_cpf_fingerprint(customer_id: str) -> str | None:
    """The customer's CPF fingerprint (see :func:`cpf_reference`); None for an unknown id."""
    customer = selectors.customer_get(customer_id)
    return None if customer is None else customer.cpf_hmac


def cpf_normalize(raw: object) -> str:
    """11 digits of a valid CPF; raises :class:`InvalidCpf` otherwise."""
    return domain.cpf_normalize(raw)


def customer_upsert(*, name: str, email: str, cpf: str) -> CustomerRef:
    """Same CPF, same customer (one query, in the caller's transaction)."""
    return _ref(services.customer_upsert(name=name, email=email, cpf=cpf))


def customer_cpf_reveal(*, customer_id: str, actor: str, reason: str) -> str | None:
    """The CPF's 11 digits for ``actor`` with a stated ``reason``; the reveal is logged first.

    None for an unknown customer; ValueError without actor or reason.
    """
    customer = selectors.customer_get(customer_id)
    if customer is None:
        return None
    return services.customer_reveal_cpf(customer=customer, actor=actor, reason=reason)


def customer_get(customer_id: str) -> CustomerRef | None:
    customer = selectors.customer_get(customer_id)
    return None if customer is None else _ref(customer)


def _ref(customer: Customer) -> CustomerRef:
    return CustomerRef(
        id=customer.pk, name=customer.name, email=customer.email, cpf_masked=customer.cpf_masked
    )
