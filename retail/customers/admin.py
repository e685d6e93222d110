"""Back office for customers: CPF shown masked; the clear CPF only through a logged reveal."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from retail.audit.public import AuditedHistoryAdmin
from retail.customers import services
from retail.customers.models import Customer, PiiAccessLog
from retail.platform.admin import ReadOnlyAdmin


class RevealForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, help_text="Why you need the CPF (logged).")


@admin.register(Customer)
class CustomerAdmin(AuditedHistoryAdmin):
    list_display = ("id", "name", "email", "cpf_masked", "created_at")
    search_fields = ("id", "email")
    readonly_fields = ("id", "name", "email", "cpf_masked", "created_at", "updated_at", "reveal")
    exclude = ("cpf_hmac", "cpf_encrypted")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="CPF")
    def reveal(self, customer: Customer) -> str:
        url = reverse("admin:customers_customer_reveal", args=[customer.pk])
        return format_html('{} <a href="{}">reveal (logged)</a>', customer.cpf_masked, url)

    def get_urls(self) -> list[URLPattern]:
        reveal = self.admin_site.admin_view(self.reveal_view)
        return [
            path("<str:customer_id>/reveal/", reveal, name="customers_customer_reveal"),
            *super().get_urls(),
        ]

    def reveal_view(self, request: HttpRequest, customer_id: str) -> HttpResponse:
        customer = get_object_or_404(Customer, pk=customer_id)
        if not self.has_view_permission(request, customer):
            return redirect("admin:index")
        form = RevealForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            cpf = services.customer_reveal_cpf(
                customer=customer,
                actor=f"user:{request.user.pk}:{request.user.get_username()}",
                reason=form.cleaned_data["reason"],
            )
            messages.warning(request, f"CPF of {customer.name}: {cpf} (this reveal was logged)")
            return redirect("admin:customers_customer_change", customer.pk)
        context = {**self.admin_site.each_context(request), "form": form, "customer": customer}
        return TemplateResponse(request, "admin/customers/reveal.html", context)


@admin.register(PiiAccessLog)
class PiiAccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "customer", "field", "reason")
    list_filter = ("field",)
