"""Back office for the ledger: read-only; the one write is a reversing entry (a service)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from retail.audit.public import actor_of
from retail.ledger import services
from retail.ledger.domain import LedgerRejected
from retail.ledger.models import Account, JournalEntry, Posting
from retail.platform.admin import ReadOnlyAdmin, ReadOnlyInline, model_permission


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "normal_side", "currency", "created_at"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ["account", "amount"]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "posted_at", "purpose", "order_id", "channel", "source_event_id"]
    list_filter = ["purpose", "event_type"]
    search_fields = ["order_id", "source_reference", "=source_event_id"]
    date_hierarchy = "posted_at"
    inlines = [PostingInline]
    actions = ["reverse_entries"]
    has_reverse_permission = model_permission("reverse")

    @admin.action(
        description="Post reversing entries for the selected entries", permissions=["reverse"]
    )
    def reverse_entries(self, request: HttpRequest, queryset: QuerySet[JournalEntry]) -> None:
        for entry in queryset.order_by("pk"):
            try:
                services.journal_entry_reverse(
                    entry_id=entry.pk,
                    memo=f"Reversal of #{entry.pk} by {request.user}",
                    actor=actor_of(request.user),
                )
            except LedgerRejected as error:
                self.message_user(request, f"#{entry.pk}: {error}", messages.WARNING)
            else:
                self.message_user(request, f"#{entry.pk} reversed", messages.SUCCESS)
