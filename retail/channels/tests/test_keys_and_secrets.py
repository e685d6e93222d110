"""API keys, staff tokens and partner webhook secrets: format, hashing, revocation, rotation."""

import base64
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from retail.channels import domain, public, selectors, services
from retail.channels.models import ApiKey, Channel, StaffToken, WebhookSecret
from retail.channels.tests.factories import ChannelFactory, PartnerFactory

pytestmark = pytest.mark.django_db


def test_an_issued_key_is_stored_only_as_its_hash_with_a_visible_prefix():
    channel = ChannelFactory(code="web")

    key = services.api_key_issue(channel=channel)

    stored = ApiKey.objects.get(channel=channel)
    assert key.startswith("rk_live_web_")
    assert len(key) > 50
    assert stored.prefix == key[: len("rk_live_web_") + 8]
    assert key not in (stored.key_hash, stored.prefix)
    assert not ApiKey.objects.filter(key_hash=key).exists()
    principal = selectors.channel_principal_for_key(key)
    assert principal is not None
    assert (principal.code, principal.idempotency_scope) == ("web", "channel:web")


def test_two_keys_of_one_channel_are_both_valid_until_one_is_revoked():
    channel = ChannelFactory()
    first, second = services.api_key_issue(channel=channel), services.api_key_issue(channel=channel)
    assert first != second

    assert services.api_key_revoke(api_key=ApiKey.objects.get(key_hash=domain.secret_hash(first)))
    assert selectors.channel_principal_for_key(first) is None
    assert selectors.channel_principal_for_key(second) is not None


def test_revoking_twice_revokes_once():
    key = services.api_key_issue(channel=ChannelFactory())
    api_key = ApiKey.objects.get()
    assert services.api_key_revoke(api_key=api_key) is True
    revoked_at = ApiKey.objects.get().revoked_at
    assert services.api_key_revoke(api_key=api_key) is False
    assert ApiKey.objects.get().revoked_at == revoked_at
    assert selectors.channel_principal_for_key(key) is None


def test_keys_of_an_inactive_channel_are_refused():
    channel = ChannelFactory(is_active=False)
    assert selectors.channel_principal_for_key(services.api_key_issue(channel=channel)) is None


def test_unknown_key_is_none():
    assert selectors.channel_principal_for_key("rk_live_web_nope") is None


def test_staff_token_carries_roles_and_a_staff_idempotency_scope():
    user = services.staff_user_ensure(username="ana", password="x" * 12, role="finance")
    token = services.staff_token_issue(user=user)

    principal = selectors.staff_principal_for_token(token)

    assert principal is not None
    assert principal.roles == frozenset({"finance"})
    assert principal.idempotency_scope == f"staff:{user.pk}"
    assert not StaffToken.objects.filter(token_hash=token).exists()
    assert services.staff_token_revoke(staff_token=StaffToken.objects.get())
    assert selectors.staff_principal_for_token(token) is None


def test_staff_token_of_an_inactive_user_is_refused():
    user = User.objects.create(username="gone", is_staff=True, is_active=False)
    assert selectors.staff_principal_for_token(services.staff_token_issue(user=user)) is None


def test_webhook_secret_is_whsec_and_32_random_bytes():
    secret = services.webhook_secret_ensure(partner=PartnerFactory())
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_ensure_keeps_the_current_secret():
    partner = PartnerFactory()
    assert services.webhook_secret_ensure(partner=partner) == services.webhook_secret_ensure(
        partner=partner
    )
    assert WebhookSecret.objects.count() == 1


def test_rotation_keeps_old_secrets_valid_during_the_overlap_only():
    partner = PartnerFactory(code="acme")
    old = services.webhook_secret_ensure(partner=partner)

    new = services.webhook_secret_rotate(partner=partner, overlap=timedelta(hours=1))

    assert public.partner_webhook_secrets("acme") == [new, old]
    WebhookSecret.objects.filter(secret=old).update(
        valid_until=timezone.now() - timedelta(seconds=1)
    )
    assert public.partner_webhook_secrets("acme") == [new]


def test_rotation_does_not_extend_a_secret_that_lapses_sooner():
    partner = PartnerFactory()
    services.webhook_secret_ensure(partner=partner)
    services.webhook_secret_rotate(partner=partner, overlap=timedelta(minutes=5))
    soon = WebhookSecret.objects.exclude(valid_until=None).get().valid_until

    services.webhook_secret_rotate(partner=partner, overlap=timedelta(hours=5))

    assert WebhookSecret.objects.filter(valid_until=soon).count() == 1
    assert WebhookSecret.objects.filter(valid_until=None).count() == 1


def test_secrets_and_partner_lookup_are_for_active_marketplace_partners_only():
    ChannelFactory(code="web", kind=Channel.Kind.WEB)
    PartnerFactory(code="acme", name="ACME")
    services.webhook_secret_ensure(partner=PartnerFactory(code="gone", is_active=False))

    assert public.partner_get("acme") == public.Partner(code="acme", name="ACME", is_active=True)
    assert public.partner_get("web") is None
    assert public.partner_get("nobody") is None
    assert public.partner_webhook_secrets("gone") == []
    assert public.partner_webhook_secrets("web") == []
