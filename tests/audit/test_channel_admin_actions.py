"""Channel admin actions: only staff who may change the rows run them, and each one is logged
(admin LogEntry → a ``staff`` audit entry), never with the key or secret itself."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client

from retail.audit.models import AuditEntry
from retail.audit.tests.factories import staff_user
from retail.channels import services as channels
from retail.channels.models import ApiKey, Channel, StaffToken, WebhookSecret
from retail.channels.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db
MODELS = ("channel", "apikey", "stafftoken")
ACTIONS = {
    "channel": ("issue_api_key", "rotate_webhook_secret"),
    "apikey": ("revoke",),
    "stafftoken": ("revoke",),
}


def logged_in(username: str, *codenames: str, role: str | None = None) -> Client:
    user = staff_user(username, role)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rows():
    partner = ChannelFactory(code="mkt", kind=Channel.Kind.MARKETPLACE)
    channels.api_key_issue(channel=partner)
    channels.webhook_secret_ensure(partner=partner)
    channels.staff_token_issue(user=staff_user("owner"))
    return {"channel": partner.pk, "apikey": ApiKey.objects.get().pk,
            "stafftoken": StaffToken.objects.get().pk}  # fmt: skip


def run(client: Client, model: str, action: str, pk: int):
    return client.post(
        f"/admin/channels/{model}/", {"action": action, "_selected_action": [pk]}, follow=True
    )


def state() -> tuple:
    return (
        ApiKey.objects.count(),
        ApiKey.objects.filter(revoked_at__isnull=False).count(),
        WebhookSecret.objects.count(),
        StaffToken.objects.filter(revoked_at__isnull=False).count(),
        LogEntry.objects.count(),
    )


@pytest.mark.parametrize("role", [None, "auditor"])
def test_view_only_staff_neither_see_nor_run_the_actions(rows, role):
    viewer = logged_in(f"viewer-{role}", *(f"view_{model}" for model in MODELS), role=role)
    before = state()
    for model, actions in ACTIONS.items():
        page = viewer.get(f"/admin/channels/{model}/")
        assert page.status_code == 200
        for action in actions:
            assert f'value="{action}"' not in page.content.decode()
            run(viewer, model, action, rows[model])
    assert state() == before


def test_staff_who_may_change_run_them_and_each_is_logged_into_the_audit_trail(rows):
    operator = logged_in(
        "operator", *(f"{verb}_{model}" for verb in ("view", "change") for model in MODELS)
    )
    first_seq = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    issued = run(operator, "channel", "issue_api_key", rows["channel"]).content.decode()
    run(operator, "channel", "rotate_webhook_secret", rows["channel"])
    run(operator, "apikey", "revoke", rows["apikey"])
    run(operator, "apikey", "revoke", rows["apikey"])  # already revoked: nothing to log
    run(operator, "stafftoken", "revoke", rows["stafftoken"])

    assert ApiKey.objects.count() == 2
    assert ApiKey.objects.get(pk=rows["apikey"]).revoked_at is not None
    assert WebhookSecret.objects.count() == 2
    assert StaffToken.objects.get().revoked_at is not None
    logged = [
        (entry.content_type.model, entry.object_id, entry.change_message)
        for entry in LogEntry.objects.order_by("pk")
    ]
    assert logged == [
        ("channel", str(rows["channel"]), "Issued a new API key."),
        ("channel", str(rows["channel"]), "Rotated the webhook secret."),
        ("apikey", str(rows["apikey"]), "Revoked."),
        ("stafftoken", str(rows["stafftoken"]), "Revoked."),
    ]
    trail = AuditEntry.objects.filter(seq__gt=first_seq, kind="staff").order_by("seq")
    assert [(entry.actor, entry.data["object"]) for entry in trail] == [
        ("staff:operator", "channels.channel"),
        ("staff:operator", "channels.channel"),
        ("staff:operator", "channels.apikey"),
        ("staff:operator", "channels.stafftoken"),
    ]
    new_key = issued.split("(shown once): ")[1].split("<")[0].strip()
    secrets = [new_key, *WebhookSecret.objects.values_list("secret", flat=True)]
    stored = str(list(AuditEntry.objects.values_list("data", flat=True)))
    assert new_key.startswith("rk_live_mkt_")
    assert not any(secret in stored for secret in secrets)
