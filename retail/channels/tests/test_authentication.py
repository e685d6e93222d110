"""Bearer authentication for channels and staff, and role checks, through real DRF views."""

import json

import pytest
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.channels import public, services
from retail.channels.tests.factories import ChannelFactory


class StaffOnlyView(APIView):
    authentication_classes = [public.StaffTokenAuthentication]
    permission_classes = [public.HasRole("finance", "auditor")]

    def get(self, request):
        return Response(
            {"scope": request.user.idempotency_scope, "roles": sorted(request.user.roles)}
        )


class ChannelOnlyView(APIView):
    authentication_classes = [public.ChannelKeyAuthentication]
    permission_classes = [public.IsChannel]

    def get(self, request):
        return Response({"scope": request.user.idempotency_scope})


urlpatterns = [
    path("api/v1/staff-only", StaffOnlyView.as_view()),
    path("api/v1/channel-only", ChannelOnlyView.as_view()),
]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def assert_unauthenticated(response):
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert json.loads(response.content)["code"] == "unauthenticated"


def staff_token(role):
    user = services.staff_user_ensure(username=f"u-{role}", password="x" * 12, role=role)
    return user, services.staff_token_issue(user=user)


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_a_staff_token_with_an_allowed_role_passes(client, role):
    user, token = staff_token(role)
    response = client.get("/api/v1/staff-only", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json() == {"scope": f"staff:{user.pk}", "roles": [role]}


def test_a_staff_token_with_another_role_is_403(client):
    _, token = staff_token("engineer")
    response = client.get("/api/v1/staff-only", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert json.loads(response.content)["code"] == "forbidden"


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "Bearer rst_nope", "Bearer é"],
)
def test_missing_or_bad_staff_credentials_are_401(client, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    assert_unauthenticated(client.get("/api/v1/staff-only", **extra))


def test_a_channel_key_is_not_a_staff_token(client):
    key = services.api_key_issue(channel=ChannelFactory())
    assert_unauthenticated(client.get("/api/v1/staff-only", HTTP_AUTHORIZATION=f"Bearer {key}"))


def test_a_staff_token_is_not_a_channel_key(client):
    _, token = staff_token("finance")
    assert_unauthenticated(client.get("/api/v1/channel-only", HTTP_AUTHORIZATION=f"Bearer {token}"))


def test_a_channel_key_authenticates_its_channel(client):
    key = services.api_key_issue(channel=ChannelFactory(code="pos"))
    response = client.get("/api/v1/channel-only", HTTP_AUTHORIZATION=f"bearer {key}")
    assert response.json() == {"scope": "channel:pos"}


def test_a_revoked_channel_key_is_401(client):
    channel = ChannelFactory()
    key = services.api_key_issue(channel=channel)
    services.api_key_revoke(api_key=channel.api_keys.get())
    assert_unauthenticated(client.get("/api/v1/channel-only", HTTP_AUTHORIZATION=f"Bearer {key}"))
