"""Back office for the compliance team only: no other staff (superusers included) sees it.

``compliance_analyst`` and ``compliance_officer`` may edit rules, the PEP list, holidays and
record SISCOAF receipts; ``auditor`` may only look. Records, alerts, cases and decisions are
read-only here.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from retail.audit.public import AuditedHistoryAdmin, ChangeReasonForm
from retail.compliance import services
from retail.compliance.models import (
    Alert,
    Case,
    CaseDecision,
    Communication,
    Holiday,
    OperationRecord,
    PoliticallyExposedPerson,
    Rule,
)
from retail.customers import public as customers
from retail.platform.admin import ReadOnlyAdmin

EDITORS = frozenset({"compliance_analyst", "compliance_officer"})
READERS = EDITORS | {"auditor"}


def _roles(request: HttpRequest) -> set[str]:
    user = request.user
    if not user.is_active or not user.is_staff:
        return set()
    return set(user.groups.values_list("name", flat=True))


class _ReadOnly(ReadOnlyAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(_roles(request) & READERS)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(_roles(request) & READERS)


class _Editable(_ReadOnly):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(_roles(request) & EDITORS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(_roles(request) & EDITORS)


@admin.register(Rule)
class RuleAdmin(_Editable, AuditedHistoryAdmin):
    list_display = ["code", "kind", "name", "is_active", "updated_at"]
    list_filter = ["kind", "is_active"]
    readonly_fields = ["updated_at"]


class _PepForm(ChangeReasonForm):
    """The CPF is typed in and kept only as its fingerprint and masked form."""

    cpf = forms.CharField(
        required=False, help_text="The CPF on the PEP list; only its keyed hash is kept."
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("cpf"):
            try:
                reference = customers.cpf_reference(cleaned["cpf"])
            except customers.InvalidCpf as error:
                self.add_error("cpf", str(error))
                return cleaned
            self.instance.cpf_fingerprint, self.instance.cpf_masked = (
                reference.fingerprint,
                reference.masked,
            )
        if not (self.instance.cpf_fingerprint or cleaned.get("customer_id")):
            raise forms.ValidationError("Give the CPF on the list or the customer it names.")
        return cleaned


@admin.register(PoliticallyExposedPerson)
class PoliticallyExposedPersonAdmin(_Editable, AuditedHistoryAdmin):
    form = _PepForm
    list_display = ["name", "cpf_masked", "customer_id", "office", "office_end"]
    search_fields = ["name", "customer_id"]
    readonly_fields = ["cpf_masked"]


@admin.register(Holiday)
class HolidayAdmin(_Editable):
    list_display = ["day", "name"]


@admin.register(OperationRecord)
class OperationRecordAdmin(_ReadOnly):
    list_display = ["id", "kind", "outcome", "amount", "occurred_at", "channel", "customer_id"]
    list_filter = ["kind", "outcome", "channel"]
    search_fields = ["id", "order_id", "payment_id", "customer_id", "psp_reference"]


@admin.register(Alert)
class AlertAdmin(_ReadOnly):
    list_display = ["id", "rule", "customer_id", "status", "operation_at", "selection_deadline"]
    list_filter = ["status", "rule"]


class AlertInline(admin.TabularInline):
    model = Alert
    fields = ["id", "rule", "evidence", "operation_at"]
    readonly_fields = ["id", "rule", "evidence", "operation_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(_ReadOnly):
    list_display = ["id", "customer_id", "status", "selected_at", "analysis_deadline"]
    list_filter = ["status"]
    inlines = [AlertInline]


@admin.register(CaseDecision)
class CaseDecisionAdmin(_ReadOnly):
    list_display = ["case", "outcome", "decided_by", "decided_at"]


@admin.register(Communication)
class CommunicationAdmin(_ReadOnly):
    """The receipt number is the one thing compliance records here (through the service)."""

    list_display = ["occurrence_number", "case", "due_date", "sent_at", "receipt_number"]
    fields = ["case", "occurrence_number", "due_date", "exported_at", "content", "receipt_number"]
    readonly_fields = ["case", "occurrence_number", "due_date", "exported_at", "content"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(_roles(request) & EDITORS)

    def save_model(self, request: HttpRequest, obj: Communication, form: Any, change: bool) -> None:
        services.communication_receipt_record(
            case_id=obj.case_id, receipt_number=form.cleaned_data["receipt_number"]
        )


# The history tables stay inside the compliance groups too (the audit history browser skips
# history models that are already registered).
for _history in (Rule.history.model, PoliticallyExposedPerson.history.model):
    admin.site.register(_history, _ReadOnly)
