"""Writes: channels, key and token issuing/revoking, webhook secret rotation."""

from datetime import datetime, timedelta

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from retail.audit.public import history_reason
from retail.channels import domain, selectors
from retail.channels.models import ApiKey, Channel, StaffToken, WebhookSecret

WEBHOOK_SECRET_OVERLAP = timedelta(hours=24)


def channel_ensure(*, code: str, name: str, kind: str) -> Channel:
    """Creates the channel once; later calls return it unchanged (seeding is idempotent)."""
    channel, _ = Channel.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
    return channel


def channel_save(*, channel: Channel, reason: str = "") -> Channel:
    """Saves a new or edited channel (admin); its code and kind are fixed once it has orders
    (``ChannelIdentityFixed``; the database refuses it too, migration 0003)."""
    with transaction.atomic():
        if channel.pk is not None:
            stored = Channel.objects.select_for_update().get(pk=channel.pk)
            fields = domain.FIXED_ONCE_IT_HAS_ORDERS
            changed = domain.identity_changes(
                {name: getattr(stored, name) for name in fields},
                {name: getattr(channel, name) for name in fields},
            )
            if changed and selectors.channel_has_orders(stored):
                raise domain.ChannelIdentityFixed(
                    f"{stored.code} has orders: its {' and '.join(changed)} cannot change"
                )
        history_reason(channel, reason)
        channel.save()
    return channel


def api_key_issue(*, channel: Channel, expires_at: datetime | None = None) -> str:
    """A new key for the channel (valid until revoked, or ``expires_at``); the plain key is
    returned once and never stored."""
    key, prefix = domain.api_key_new(channel.code)
    ApiKey.objects.create(
        channel=channel, prefix=prefix, key_hash=domain.secret_hash(key), expires_at=expires_at
    )
    return key


def _revoke(model: type[ApiKey] | type[StaffToken], pk: int) -> bool:
    """Revokes the key or token if it is not yet (locked first, so it happens once)."""
    with transaction.atomic():
        row = model.objects.select_for_update().filter(pk=pk, revoked_at__isnull=True).first()
        if row is None:
            return False
        row.revoked_at = timezone.now()
        history_reason(row, "revoked")
        row.save(update_fields=["revoked_at"])
    return True


def api_key_revoke(*, api_key: ApiKey) -> bool:
    """Revokes the key; False when it already was."""
    return _revoke(ApiKey, api_key.pk)


def staff_token_issue(*, user: User, expires_at: datetime | None = None) -> str:
    """A new token of a staff user (valid until revoked, or ``expires_at``), returned once.
    It authenticates only while the user is active and staff."""
    if not user.is_staff:
        raise ValueError(f"{user.get_username()} is not staff: staff tokens are for staff")
    token, prefix = domain.staff_token_new()
    StaffToken.objects.create(
        user=user, prefix=prefix, token_hash=domain.secret_hash(token), expires_at=expires_at
    )
    return token


def staff_token_revoke(*, staff_token: StaffToken) -> bool:
    return _revoke(StaffToken, staff_token.pk)


def webhook_secret_rotate(*, partner: Channel, overlap: timedelta = WEBHOOK_SECRET_OVERLAP) -> str:
    """Adds a new secret; the ones valid now stay valid for ``overlap`` more, then lapse."""
    now = timezone.now()
    with transaction.atomic():
        Channel.objects.select_for_update().get(pk=partner.pk)
        lapsing = WebhookSecret.objects.filter(channel=partner).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=now + overlap)
        )
        for old in lapsing:  # a partner has one or two valid secrets
            old.valid_until = now + overlap
            history_reason(old, "rotated")
            old.save(update_fields=["valid_until"])
        secret = domain.webhook_secret_new()
        new = WebhookSecret(channel=partner, secret=secret)
        history_reason(new, "rotation")
        new.save()
    return secret


def webhook_secret_ensure(*, partner: Channel) -> str:
    """The partner's newest valid secret, made if it has none (seeding keeps it stable)."""
    now = timezone.now()
    with transaction.atomic():
        Channel.objects.select_for_update().get(pk=partner.pk)
        current = (
            WebhookSecret.objects.filter(channel=partner)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
            .order_by("-created_at", "-pk")
            .first()
        )
        if current is not None:
            return current.secret
        secret = domain.webhook_secret_new()
        WebhookSecret.objects.create(channel=partner, secret=secret)
    return secret


def staff_user_ensure(*, username: str, password: str, role: str | None) -> User:
    """A staff user (in the ``role`` group when given) whose password is ``password``."""
    with transaction.atomic():
        user, _ = User.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = role is None
        user.set_password(password)
        user.save()
        if role is not None:
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
    return user
