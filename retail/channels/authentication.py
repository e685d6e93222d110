"""DRF authentication for channels and staff (``Authorization: Bearer …``) and role checks."""

from typing import Any

from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from retail.channels import selectors
from retail.channels.domain import ChannelPrincipal, StaffPrincipal
from retail.channels.models import Channel

MARKETPLACE = Channel.Kind.MARKETPLACE


def _bearer_token(request: Request) -> str | None:
    """The bearer token, None when there is no Authorization header; 401 when malformed."""
    header = authentication.get_authorization_header(request)
    if not header:
        return None
    try:
        scheme, _, token = header.decode("ascii").partition(" ")
    except UnicodeDecodeError as error:
        raise exceptions.AuthenticationFailed("Malformed Authorization header.") from error
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token or len(token) > 200:
        raise exceptions.AuthenticationFailed("Expected 'Authorization: Bearer <key>'.")
    return token


class _BearerAuthentication(authentication.BaseAuthentication):
    realm = "api"

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{self.realm}"'


class ChannelKeyAuthentication(_BearerAuthentication):
    """A channel's API key; the principal is a :class:`ChannelPrincipal`."""

    realm = "channels"

    def authenticate(self, request: Request) -> tuple[ChannelPrincipal, int] | None:
        key = _bearer_token(request)
        if key is None:
            return None
        principal = selectors.channel_principal_for_key(key)
        if principal is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return principal, principal.api_key_id


class StaffTokenAuthentication(_BearerAuthentication):
    """A staff user's token; the principal is a :class:`StaffPrincipal` carrying its roles."""

    realm = "staff"

    def authenticate(self, request: Request) -> tuple[StaffPrincipal, int] | None:
        token = _bearer_token(request)
        if token is None:
            return None
        principal = selectors.staff_principal_for_token(token)
        if principal is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked staff token.")
        return principal, principal.token_id


class IsChannel(permissions.BasePermission):
    """A channel's key. A marketplace partner's key only reads: its orders come by signed
    webhook, and a partner must not cancel or refund what it settled itself."""

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, ChannelPrincipal):
            return False
        return principal.kind != MARKETPLACE or request.method in permissions.SAFE_METHODS


def HasRole(*roles: str) -> type[permissions.BasePermission]:
    """``permission_classes = [HasRole("finance", "auditor")]``: 401 anonymous, 403 other roles."""
    wanted = frozenset(roles)

    class _HasRole(permissions.BasePermission):
        message = f"Requires one of the roles: {', '.join(sorted(wanted))}."

        def has_permission(self, request: Request, view: Any) -> bool:
            user = request.user  # DRF answers 401 itself when nobody authenticated
            return isinstance(user, StaffPrincipal) and user.has_any_role(wanted)

    _HasRole.__name__ = f"HasRole_{'_'.join(sorted(wanted))}"
    return _HasRole
