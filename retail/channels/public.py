"""The channels facade: authentication for other contexts' APIs, partners and their secrets."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from retail.channels import selectors, services
from retail.channels.authentication import (
    ChannelKeyAuthentication,
    HasRole,
    IsChannel,
    StaffTokenAuthentication,
)
from retail.channels.domain import ChannelPrincipal, StaffPrincipal

__all__ = [
    "ChannelKeyAuthentication",
    "ChannelPrincipal",
    "HasRole",
    "IsChannel",
    "Partner",
    "StaffPrincipal",
    "StaffTokenAuthentication",
    "partner_get",
    "partner_webhook_secrets",
    "staff_token_issue",
]


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    is_active: bool


def partner_get(code: str) -> Partner | None:
    """The marketplace partner with this code, or None (also for non-marketplace channels)."""
    channel = selectors.partner_get(code)
    if channel is None:
        return None
    return Partner(code=channel.code, name=channel.name, is_active=channel.is_active)


def partner_webhook_secrets(partner_code: str) -> list[str]:
    """``whsec_…`` secrets valid right now, newest first; empty for unknown/inactive partners."""
    return selectors.partner_webhook_secrets(partner_code)


def staff_token_issue(*, user_id: int) -> str:
    """A fresh token for a staff user (tests and tooling of other contexts need one);
    ``ValueError`` for a user who is not staff."""
    return services.staff_token_issue(user=get_user_model().objects.get(pk=user_id))
