"""Compliance tables. Every row carries ``retain_until`` and the database refuses to delete it
earlier (migration 0002); operation records and decisions are append-only there too.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from retail.audit.public import audited_history
from retail.compliance import domain
from retail.platform.ids import IdFactory


class OperationRecord(models.Model):
    """One operation or attempt as art. 28 wants it recorded; never edited, never deleted early."""

    KIND_CHOICES = [(k.value, k.name.title()) for k in domain.Kind]
    DIRECTION_CHOICES = [(d.value, d.name.title()) for d in domain.Direction]
    OUTCOME_CHOICES = [(o.value, o.name.title()) for o in domain.Outcome]

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("opr"), editable=False)
    source_event_id = models.UUIDField(unique=True)
    source_event_type = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    direction = models.CharField(max_length=8, choices=DIRECTION_CHOICES)
    outcome = models.CharField(max_length=16, choices=OUTCOME_CHOICES)
    outcome_reason = models.CharField(max_length=200, blank=True)
    amount = models.BigIntegerField(help_text="centavos")
    currency = models.CharField(max_length=3, default="BRL")
    occurred_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=64)
    order_id = models.CharField(max_length=40, db_index=True, blank=True)
    payment_id = models.CharField(max_length=40, blank=True)
    refund_id = models.CharField(max_length=40, blank=True)
    # Holder: the customer id is the CPF reference (the customers context keeps the CPF as
    # a keyed HMAC and an encrypted copy); a plain CPF never lands here.
    customer_id = models.CharField(max_length=40, db_index=True, blank=True)
    holder_name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True, db_index=True)
    client_ip = models.CharField(max_length=45, blank=True, db_index=True)
    payment_method = models.CharField(max_length=16, blank=True)
    instrument = models.CharField(max_length=64, blank=True, help_text="fingerprint, not the token")
    beneficiary_name = models.CharField(max_length=200)
    beneficiary_document = models.CharField(max_length=20, help_text="CNPJ")
    psp = models.CharField(max_length=64, blank=True)
    psp_reference = models.CharField(max_length=128, blank=True)
    settlement_reference = models.CharField(max_length=128, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    retain_until = models.DateField()

    class Meta:
        db_table = "compliance_operation_record"
        indexes = [models.Index(fields=["customer_id", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.outcome} ({self.id})"


class Rule(models.Model):
    """A monitoring rule: kind + JSON parameters, edited in admin, every version kept."""

    KIND_CHOICES = [(k.value, k.name.title()) for k in domain.RuleKind]

    code = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=32, choices=KIND_CHOICES)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    parameters = models.JSONField()
    coaf_framing_codes = models.CharField(
        max_length=200, blank=True, help_text="comma-separated SISCOAF enquadramento codes"
    )
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = audited_history(table_name="compliance_rule_history")

    class Meta:
        db_table = "compliance_rule"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = domain.parameters_errors(self.kind, self.parameters)
        if errors:
            raise ValidationError({"parameters": errors})

    @property
    def framing_codes(self) -> list[str]:
        return [code.strip() for code in self.coaf_framing_codes.split(",") if code.strip()]


class PoliticallyExposedPerson(models.Model):
    """A PEP list entry, matched to customers by CPF (its fingerprint: the digits are not kept)
    or linked to one customer; exposure lasts 5 years after leaving office."""

    cpf_fingerprint = models.CharField(max_length=64, db_index=True, blank=True, editable=False)
    cpf_masked = models.CharField(max_length=14, blank=True, editable=False)
    customer_id = models.CharField(max_length=40, db_index=True, blank=True)
    name = models.CharField(max_length=200)
    office = models.CharField(max_length=200)
    office_start = models.DateField(null=True, blank=True)
    office_end = models.DateField(null=True, blank=True, help_text="empty: still in office")
    source = models.CharField(max_length=200, blank=True, help_text="e.g. Portal da Transparência")
    history = audited_history(table_name="compliance_pep_history")

    class Meta:
        db_table = "compliance_pep"
        verbose_name = "politically exposed person"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(cpf_fingerprint="", customer_id=""),
                name="compliance_pep_matches_someone",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.office})"


class Holiday(models.Model):
    """National holidays: not business days for the COAF communication deadline."""

    day = models.DateField(unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        db_table = "compliance_holiday"

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class Case(models.Model):
    """The analysis of one holder's alerts; decided once, by the compliance role."""

    class Status(models.TextChoices):
        OPEN = "open"
        COMMUNICATE = "communicate"
        ARCHIVED = "archived"

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("cas"), editable=False)
    subject = models.CharField(max_length=300, help_text="customer id, or what the alert is about")
    customer_id = models.CharField(max_length=40, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    selected_at = models.DateTimeField(default=timezone.now)
    analysis_deadline = models.DateTimeField()
    retain_until = models.DateField()

    class Meta:
        db_table = "compliance_case"
        permissions = [("decide_case", "Can decide COMMUNICATE or ARCHIVE")]

    def __str__(self) -> str:
        return f"{self.id} {self.status}"


class Alert(models.Model):
    """A rule's finding: selected (45 days from the operation at most) into a case."""

    class Status(models.TextChoices):
        SELECTED = "selected"
        DECIDED = "decided"

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("alr"), editable=False)
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="alerts")
    rule_version = models.PositiveIntegerField(help_text="history id of the rule when it fired")
    parameters = models.JSONField(help_text="the rule's parameters when it fired")
    subject = models.CharField(max_length=300)
    customer_id = models.CharField(max_length=40, blank=True, db_index=True)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="alerts")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SELECTED)
    operations = models.ManyToManyField(OperationRecord, through="AlertOperation")
    evidence = models.JSONField()
    automatic_communication = models.BooleanField(default=False)
    operation_at = models.DateTimeField(help_text="the earliest operation of the finding")
    selection_deadline = models.DateTimeField()
    selected_at = models.DateTimeField(default=timezone.now)
    retain_until = models.DateField()

    class Meta:
        db_table = "compliance_alert"

    def __str__(self) -> str:
        return f"{self.id} {self.rule.code}"


class AlertOperation(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.PROTECT)
    operation = models.ForeignKey(OperationRecord, on_delete=models.PROTECT)
    retain_until = models.DateField()

    class Meta:
        db_table = "compliance_alert_operation"
        constraints = [
            models.UniqueConstraint(fields=["alert", "operation"], name="alert_operation_once")
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.operation_id}"


class CaseDecision(models.Model):
    """COMMUNICATE or ARCHIVE with its written justification (art. 48); append-only."""

    OUTCOME_CHOICES = [(d.value, d.name.title()) for d in domain.Decision]

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(max_length=16, choices=OUTCOME_CHOICES)
    justification = models.TextField()
    decided_by = models.CharField(max_length=150)
    decided_at = models.DateTimeField(default=timezone.now)
    retain_until = models.DateField()

    class Meta:
        db_table = "compliance_case_decision"

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome}"


class Communication(models.Model):
    """What goes to COAF (SISCOAF) for a COMMUNICATE decision, due the next business day."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="communication")
    occurrence_number = models.CharField(max_length=40, unique=True)
    due_date = models.DateField()
    content = models.TextField(blank=True, help_text="the XML as exported")
    exported_at = models.DateTimeField(null=True, blank=True)
    receipt_number = models.CharField(max_length=64, blank=True, help_text="SISCOAF protocol")
    sent_at = models.DateTimeField(null=True, blank=True)
    retain_until = models.DateField()

    class Meta:
        db_table = "compliance_communication"

    def __str__(self) -> str:
        return self.occurrence_number


# --- Windowed aggregates: what the rules screen each operation against ------------------
# Written by upsert in the transaction that writes the operation record, so a rule's cost
# does not grow with the holder's history: it reads a bounded number of rows (the minutes of
# its window, distinct instruments, customers behind one identity) and the holder's records
# only when that screen says the rule may fire. Derived data, rebuilt from the operation
# records by migration 0006.
class HolderActivity(models.Model):
    """A holder's operations in one minute (UTC): counted by upsert as they are recorded."""

    customer_id = models.CharField(max_length=40)
    bucket = models.DateTimeField(help_text="start of the minute")
    attempts = models.PositiveIntegerField(help_text="payments and partner orders, any outcome")

    class Meta:
        db_table = "compliance_holder_activity"
        constraints = [
            models.UniqueConstraint(fields=["customer_id", "bucket"], name="holder_activity_once")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.bucket:%Y-%m-%d %H:%M}"


class HolderInstrument(models.Model):
    """A payment instrument (its fingerprint) a holder used, and when last."""

    customer_id = models.CharField(max_length=40)
    instrument = models.CharField(max_length=64)
    last_used_at = models.DateTimeField()

    class Meta:
        db_table = "compliance_holder_instrument"
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "instrument"], name="holder_instrument_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.instrument[:8]}"


class IdentityUse(models.Model):
    """A customer's orders used this e-mail or end-customer IP, last at ``last_used_at``."""

    attribute = models.CharField(max_length=16)
    value = models.CharField(max_length=254)
    customer_id = models.CharField(max_length=40)
    last_used_at = models.DateTimeField()

    class Meta:
        db_table = "compliance_identity_use"
        constraints = [
            models.UniqueConstraint(
                fields=["attribute", "value", "customer_id"], name="identity_use_once"
            )
        ]
        indexes = [models.Index(fields=["attribute", "value", "last_used_at"])]

    def __str__(self) -> str:
        return f"{self.attribute}={self.value} {self.customer_id}"
