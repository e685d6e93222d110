"""The audit API and the auditor role: auditors read everything and change nothing."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.test import Client

from retail.audit.models import AuditEntry
from retail.audit.tests.factories import append, staff_token, staff_user

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_trace_lists_the_order_entries_in_chain_order_with_contract_fields(client: Client):
    append(2, order_id="ord_A")
    append(1, order_id="ord_B")
    append(1, order_id="ord_A")
    response = client.get(
        "/api/v1/audit/orders/ord_A/trace", **bearer(staff_token("aud", "auditor"))
    )
    assert response.status_code == 200
    body = response.json()
    assert body["order_id"] == "ord_A"
    assert [entry["seq"] for entry in body["entries"]] == [1, 2, 4]
    assert set(body["entries"][0]) == {
        "seq", "at", "kind", "action", "actor", "channel", "idempotency_key", "request_id",
        "data", "prev_hash", "hash",
    }  # fmt: skip
    assert body["entries"][0]["data"] == {"n": 0}


def test_verify_endpoint(client: Client):
    append(3)
    response = client.get("/api/v1/audit/verify", **bearer(staff_token("aud", "auditor")))
    assert response.json() == {
        "ok": True,
        "entries": 3,
        "head": AuditEntry.objects.get(seq=3).hash,
        "first_broken": None,
    }


@pytest.mark.parametrize("path", ["/api/v1/audit/verify", "/api/v1/audit/orders/ord_A/trace"])
def test_only_auditors_read_the_audit_api(client: Client, path: str):
    assert client.get(path).status_code == 401
    assert client.get(path, **bearer("rst_not-a-token")).status_code == 401
    forbidden = client.get(path, **bearer(staff_token("fin", "finance")))
    assert forbidden.status_code == 403
    assert forbidden["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_auditor_writes_to_the_audit_api_are_refused(client: Client, method: str):
    token = staff_token("aud", "auditor")
    for path in ("/api/v1/audit/verify", "/api/v1/audit/orders/ord_A/trace"):
        response = getattr(client, method)(
            path, data={}, content_type="application/json", **bearer(token)
        )
        assert response.status_code == 405
    assert AuditEntry.objects.filter(kind="request", data__status=405).count() == 2


def test_the_auditor_group_views_every_model_and_has_no_other_permission():
    permissions = Group.objects.get(name="auditor").permissions.all()
    codenames = {permission.codename for permission in permissions}
    assert {"view_auditentry", "view_user", "view_channel", "view_logentry"} <= codenames
    assert all(codename.startswith("view_") for codename in codenames)


@pytest.fixture
def auditor_client(client: Client) -> Client:
    client.force_login(staff_user("aud", "auditor"))
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/audit/auditentry/",
        "/admin/auth/user/",
        "/admin/channels/channel/",
        "/admin/admin/logentry/",
    ],
)
def test_an_auditor_browses_the_admin(auditor_client: Client, path: str):
    assert auditor_client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/auth/user/add/", {"username": "mallory", "password1": "x", "password2": "x"}),
        ("/admin/auth/group/add/", {"name": "sneaky"}),
        ("/admin/channels/channel/", {"action": "issue_api_key", "_selected_action": ["1"]}),
        ("/admin/audit/auditentry/1/change/", {"action": "edited"}),
        ("/admin/audit/auditentry/1/delete/", {"post": "yes"}),
    ],
)
def test_an_auditor_changes_nothing_in_the_admin(auditor_client: Client, path: str, data: dict):
    ApiKey = apps.get_model("channels", "ApiKey")
    append(1)
    users, groups, keys = User.objects.count(), Group.objects.count(), ApiKey.objects.count()
    response = auditor_client.post(path, data)
    assert response.status_code == 403
    assert (User.objects.count(), Group.objects.count()) == (users, groups)
    assert ApiKey.objects.count() == keys
    assert AuditEntry.objects.get(seq=1).action == "Probe0"
