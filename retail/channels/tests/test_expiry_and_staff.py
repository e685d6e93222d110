"""Keys and staff tokens may carry an expiry (401 from then on), and a staff token
authenticates only a user who is active and staff."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from retail.channels import services
from retail.channels.tests.factories import ChannelFactory
from retail.channels.tests.test_authentication import assert_unauthenticated, staff_token

pytestmark = [pytest.mark.urls("retail.channels.tests.test_authentication"), pytest.mark.django_db]
STAFF_ONLY, CHANNEL_ONLY = "/api/v1/staff-only", "/api/v1/channel-only"


def get(client, path: str, secret: str):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")


def staff_token_expiring(expires_at) -> str:
    user = services.staff_user_ensure(username="expiring", password="x" * 12, role="finance")
    return services.staff_token_issue(user=user, expires_at=expires_at)


def test_a_token_of_a_user_who_is_no_longer_staff_is_401(client):
    user, token = staff_token("finance")
    assert get(client, STAFF_ONLY, token).status_code == 200
    User.objects.filter(pk=user.pk).update(is_staff=False)
    assert_unauthenticated(get(client, STAFF_ONLY, token))


def test_no_token_is_issued_to_a_user_who_is_not_staff():
    with pytest.raises(ValueError, match="not staff"):
        services.staff_token_issue(user=User.objects.create_user(username="shopper"))


@pytest.mark.parametrize("ago", [timedelta(seconds=1), timedelta(days=30)])
def test_an_expired_channel_key_is_401(client, ago):
    key = services.api_key_issue(channel=ChannelFactory(), expires_at=timezone.now() - ago)
    assert_unauthenticated(get(client, CHANNEL_ONLY, key))


@pytest.mark.parametrize("ago", [timedelta(seconds=1), timedelta(days=30)])
def test_an_expired_staff_token_is_401(client, ago):
    assert_unauthenticated(get(client, STAFF_ONLY, staff_token_expiring(timezone.now() - ago)))


def test_keys_and_tokens_work_until_they_expire(client):
    later = timezone.now() + timedelta(minutes=5)
    key = services.api_key_issue(channel=ChannelFactory(code="kiosk"), expires_at=later)
    assert get(client, CHANNEL_ONLY, key).json() == {"scope": "channel:kiosk"}
    assert get(client, STAFF_ONLY, staff_token_expiring(later)).status_code == 200
