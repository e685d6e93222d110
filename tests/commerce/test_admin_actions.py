"""Admin actions that change domain rows: each needs a permission of its own (the change
permission is not enough), runs its service, and the audit chain names the staff user."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from retail.audit.models import AuditEntry
from retail.audit.tests.factories import staff_user
from retail.ledger.models import JournalEntry
from retail.orders.models import Order
from retail.payments import psp
from retail.payments.models import Payment, UnmatchedWebhook
from retail.payments.tests.factories import PaymentFactory
from tests.commerce.conftest import placed_order, posted_journal_entry

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Action:
    path: str  # app/model of the changelist
    name: str
    permission: str  # app_label.codename
    make: Callable[..., Any]  # (web, stocked_sku) -> the row
    done: Callable[[Any], bool]  # has the service changed the row?
    audited_as: str  # the staff audit entry's action


def reversed_(entry: JournalEntry) -> bool:
    return JournalEntry.objects.filter(reverses=entry).exists()


ACTIONS = {
    "cancel": Action(
        "orders/order", "cancel", "orders.cancel_order", placed_order,
        lambda order: Order.objects.get(pk=order.pk).status == "cancelled", "order.cancelled",
    ),
    "reverse": Action(
        "ledger/journalentry", "reverse_entries", "ledger.reverse_journalentry",
        lambda *_: posted_journal_entry(), reversed_, "ledger.entry_reversed",
    ),
    "reconcile": Action(
        "payments/payment", "reconcile", "payments.reconcile_payment",
        lambda *_: PaymentFactory(status="authorized"),
        lambda payment: Payment.objects.get(pk=payment.pk).status == "captured",
        "payment.reconciled",
    ),
    "resolve": Action(
        "payments/unmatchedwebhook", "resolve", "payments.resolve_unmatchedwebhook",
        lambda *_: UnmatchedWebhook.objects.create(
            source="psp", webhook_id="msg_1", code="unknown_reference", reference="pay_x", body="{}"
        ),
        lambda webhook: UnmatchedWebhook.objects.get(pk=webhook.pk).resolved,
        "payments.unmatched_webhook_resolved",
    ),
}  # fmt: skip


@pytest.fixture(autouse=True)
def psp_says_captured(monkeypatch):
    monkeypatch.setattr(psp, "payment_status", lambda payment_id: {"status": "captured"})


@pytest.fixture(params=sorted(ACTIONS))
def action(request, web, stocked_sku) -> tuple[Action, Any]:
    spec = ACTIONS[request.param]
    return spec, spec.make(web, stocked_sku)


def logged_in(username: str, *permissions: str) -> tuple[User, Client]:
    user = staff_user(username)
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = Client()
    client.force_login(user)
    return user, client


def model_permissions(spec: Action, *verbs: str) -> list[str]:
    app_label, model = spec.path.split("/")
    return [f"{app_label}.{verb}_{model}" for verb in verbs]


def run(client: Client, spec: Action, row: Any):
    return client.post(
        f"/admin/{spec.path}/", {"action": spec.name, "_selected_action": [row.pk]}, follow=True
    )


def staff_entries(spec: Action) -> list[str]:
    return list(
        AuditEntry.objects.filter(kind="staff", action=spec.audited_as).values_list(
            "actor", flat=True
        )
    )


def test_staff_without_the_actions_permission_neither_see_nor_run_it(action):
    spec, row = action
    _, client = logged_in("viewer", *model_permissions(spec, "view", "change"))
    page = client.get(f"/admin/{spec.path}/")
    assert page.status_code == 200
    assert f'value="{spec.name}"' not in page.content.decode()

    run(client, spec, row)

    assert not spec.done(row)
    assert staff_entries(spec) == []


def test_with_it_the_service_runs_and_the_audit_chain_names_the_staff_user(action):
    spec, row = action
    _, client = logged_in("operator", *model_permissions(spec, "view"), spec.permission)
    page = client.get(f"/admin/{spec.path}/")
    assert f'value="{spec.name}"' in page.content.decode()

    assert run(client, spec, row).status_code == 200

    assert spec.done(row)
    assert staff_entries(spec) == ["staff:operator"]


def test_resolving_unmatched_webhooks_keeps_history_naming_the_staff_user():
    first, second = (
        UnmatchedWebhook.objects.create(source="psp", webhook_id=f"msg_{n}", code="x", body="{}")
        for n in (1, 2)
    )
    user, client = logged_in(
        "reconciler",
        "payments.view_unmatchedwebhook",
        "payments.resolve_unmatchedwebhook",
    )
    client.post(
        "/admin/payments/unmatchedwebhook/",
        {"action": "resolve", "_selected_action": [first.pk, second.pk]},
    )
    for webhook in (first, second):
        latest = webhook.history.order_by("-history_id").first()  # type: ignore[attr-defined]
        assert latest.resolved
        assert latest.history_type == "~"
        assert latest.history_user == user
        assert latest.history_change_reason == "resolved by hand"
        page = client.get(f"/admin/payments/unmatchedwebhook/{webhook.pk}/history/")
        assert "resolved by hand" in page.content.decode()
