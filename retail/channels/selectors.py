"""Reads: who a key or token belongs to, partners and their secrets."""

from django.db.models import Q
from django.utils import timezone

from retail.channels.domain import ChannelPrincipal, StaffPrincipal, secret_hash
from retail.channels.models import ApiKey, Channel, StaffToken, WebhookSecret
from retail.orders import public as orders


def _usable_now() -> Q:
    """Neither revoked nor expired (keys and tokens alike)."""
    return Q(revoked_at__isnull=True) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )


def channel_principal_for_key(key: str) -> ChannelPrincipal | None:
    """The channel owning an unrevoked, unexpired key of an active channel (one query), or None."""
    api_key = (
        ApiKey.objects.select_related("channel")
        .filter(_usable_now(), key_hash=secret_hash(key), channel__is_active=True)
        .first()
    )
    if api_key is None:
        return None
    channel = api_key.channel
    return ChannelPrincipal(
        channel_id=channel.pk, code=channel.code, kind=channel.kind, api_key_id=api_key.pk
    )


def staff_principal_for_token(token: str) -> StaffPrincipal | None:
    """The active staff user (``is_staff``) owning an unrevoked, unexpired token, with their
    roles (one query and the groups), or None."""
    staff_token = (
        StaffToken.objects.select_related("user")
        .prefetch_related("user__groups")
        .filter(
            _usable_now(),
            token_hash=secret_hash(token),
            user__is_active=True,
            user__is_staff=True,
        )
        .first()
    )
    if staff_token is None:
        return None
    user = staff_token.user
    return StaffPrincipal(
        user_id=user.pk,
        username=user.get_username(),
        roles=frozenset(group.name for group in user.groups.all()),
        token_id=staff_token.pk,
    )


def channel_has_orders(channel: Channel) -> bool:
    return orders.channel_has_orders(channel.code)


def channel_get(code: str) -> Channel | None:
    return Channel.objects.filter(code=code).first()


def partner_get(code: str) -> Channel | None:
    return Channel.objects.filter(code=code, kind=Channel.Kind.MARKETPLACE).first()


def partner_webhook_secrets(code: str) -> list[str]:
    """Secrets currently valid for an active partner, newest first (rotation overlap)."""
    now = timezone.now()
    return list(
        WebhookSecret.objects.filter(
            channel__code=code,
            channel__kind=Channel.Kind.MARKETPLACE,
            channel__is_active=True,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .order_by("-created_at", "-pk")
        .values_list("secret", flat=True)
    )
