"""OpenAPI shapes of the compliance API (documentation only: ``serializers.py`` builds the
bodies). The schema test and the fuzzer hold the two together."""

from rest_framework import serializers

from retail.compliance import domain
from retail.compliance.models import Alert, Case

DECISIONS = [*(d.value for d in domain.Decision), *(d.value.upper() for d in domain.Decision)]


class RuleOutput(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    version = serializers.IntegerField(help_text="history id of the rule when it fired")
    parameters = serializers.JSONField()


class AlertOutput(serializers.Serializer):
    id = serializers.CharField(help_text="alr_…")
    status = serializers.ChoiceField(choices=Alert.Status.values)
    rule = RuleOutput()
    case_id = serializers.CharField(help_text="cas_…")
    customer_id = serializers.CharField(allow_blank=True)
    subject = serializers.CharField()
    operations = serializers.ListField(child=serializers.CharField(help_text="opr_…"))
    evidence = serializers.JSONField()
    automatic_communication = serializers.BooleanField()
    operation_at = serializers.DateTimeField()
    selection_deadline = serializers.DateTimeField()
    selected_at = serializers.DateTimeField()
    retain_until = serializers.DateField()


class CaseAlertOutput(serializers.Serializer):
    id = serializers.CharField(help_text="alr_…")
    rule = serializers.CharField(help_text="the rule's code")


class DecisionOutput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[d.value for d in domain.Decision])
    justification = serializers.CharField()
    decided_by = serializers.CharField()
    decided_at = serializers.DateTimeField()


class CommunicationOutput(serializers.Serializer):
    occurrence_number = serializers.CharField()
    due_date = serializers.DateField()
    exported_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    receipt_number = serializers.CharField(allow_blank=True)


class CaseOutput(serializers.Serializer):
    id = serializers.CharField(help_text="cas_…")
    status = serializers.ChoiceField(choices=Case.Status.values)
    customer_id = serializers.CharField(allow_blank=True)
    subject = serializers.CharField()
    selected_at = serializers.DateTimeField()
    analysis_deadline = serializers.DateTimeField()
    alerts = CaseAlertOutput(many=True)
    decision = DecisionOutput(allow_null=True)
    communication = CommunicationOutput(allow_null=True)
    retain_until = serializers.DateField()


class BeneficiaryOutput(serializers.Serializer):
    name = serializers.CharField()
    document = serializers.CharField(help_text="CNPJ")


class OperationOutput(serializers.Serializer):
    id = serializers.CharField(help_text="opr_…")
    kind = serializers.CharField()
    direction = serializers.CharField()
    outcome = serializers.CharField()
    outcome_reason = serializers.CharField(allow_blank=True)
    amount = serializers.IntegerField(help_text="centavos")
    currency = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    channel = serializers.CharField()
    order_id = serializers.CharField(allow_blank=True)
    payment_id = serializers.CharField(allow_blank=True)
    refund_id = serializers.CharField(allow_blank=True)
    customer_id = serializers.CharField(allow_blank=True)
    holder_name = serializers.CharField(allow_blank=True)
    beneficiary = BeneficiaryOutput()
    psp = serializers.CharField(allow_blank=True)
    psp_reference = serializers.CharField(allow_blank=True)
    settlement_reference = serializers.CharField(allow_blank=True)
    retain_until = serializers.DateField()


class DossierOutput(serializers.Serializer):
    alerts = AlertOutput(many=True)
    operations = OperationOutput(many=True)


class CaseDetailOutput(CaseOutput):
    dossier = DossierOutput()


class AlertPageOutput(serializers.Serializer):
    results = AlertOutput(many=True)
    next = serializers.URLField(allow_null=True)


class CasePageOutput(serializers.Serializer):
    results = CaseOutput(many=True)
    next = serializers.URLField(allow_null=True)


class DecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=DECISIONS, help_text="case-insensitive")
    justification = serializers.CharField(max_length=20_000, help_text="required (art. 48)")
