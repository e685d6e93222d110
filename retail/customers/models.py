"""Customers (CPF pseudonymised) and the log of every reveal of their personal data."""

from django.db import models
from django.utils import timezone

from retail.audit.public import audited_history
from retail.platform.ids import IdFactory


class Customer(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("cus"), editable=False)
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    cpf_hmac = models.CharField(max_length=64, unique=True, editable=False)
    cpf_encrypted = models.BinaryField(editable=False)
    cpf_masked = models.CharField(max_length=14, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    history = audited_history(excluded_fields=["cpf_hmac", "cpf_encrypted"])  # masked CPF only

    def __str__(self) -> str:
        return f"{self.name} ({self.cpf_masked})"


class PiiAccessLog(models.Model):
    """Who saw which personal data of whom, when and why (append-only by convention)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="pii_accesses")
    field = models.CharField(max_length=32)
    actor = models.CharField(max_length=150)
    reason = models.TextField()
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.actor} saw {self.field} of {self.customer_id} at {self.at:%Y-%m-%d %H:%M}"
