"""Secrets: how keys, tokens and webhook secrets look and how they are hashed; what of a
channel is fixed once it has orders (pure)."""

import base64
import hashlib
import secrets
from dataclasses import dataclass

API_KEY_PREFIX = "rk_live"
STAFF_TOKEN_PREFIX = "rst"  # noqa: S105 - a prefix, not a secret
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
VISIBLE_RANDOM_CHARS = 8


def secret_hash(secret: str) -> str:
    """SHA-256 is enough for 256-bit random secrets (no dictionary to brute-force)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_new(channel_code: str) -> tuple[str, str]:
    """A fresh channel key and its visible prefix, e.g. ``rk_live_web_Ab3dE9xY``."""
    return _token_new(f"{API_KEY_PREFIX}_{channel_code}_")


def staff_token_new() -> tuple[str, str]:
    return _token_new(f"{STAFF_TOKEN_PREFIX}_")


def webhook_secret_new() -> str:
    """Standard Webhooks format: ``whsec_`` + base64 of 32 random bytes."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _token_new(prefix: str) -> tuple[str, str]:
    random_part = secrets.token_urlsafe(32)
    return prefix + random_part, prefix + random_part[:VISIBLE_RANDOM_CHARS]


@dataclass(frozen=True)
class ChannelPrincipal:
    """Who calls a storefront endpoint: one channel (or marketplace partner)."""

    channel_id: int
    code: str
    kind: str
    api_key_id: int
    is_authenticated: bool = True

    @property
    def idempotency_scope(self) -> str:
        return f"channel:{self.code}"


@dataclass(frozen=True)
class StaffPrincipal:
    """A staff user calling a back-office API with a token; ``roles`` are group names."""

    user_id: int
    username: str
    roles: frozenset[str]
    token_id: int
    is_authenticated: bool = True

    @property
    def pk(self) -> int:
        return self.user_id

    @property
    def idempotency_scope(self) -> str:
        return f"staff:{self.user_id}"

    def has_any_role(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


# A channel's orders name it by code and were taken under its kind (what payments it may use,
# whether it reads only): once it has orders these never change.
FIXED_ONCE_IT_HAS_ORDERS = ("code", "kind")


class ChannelIdentityFixed(Exception):
    """A change of a channel's code or kind after it has taken orders."""


def identity_changes(stored: dict[str, str], wanted: dict[str, str]) -> list[str]:
    """The fixed fields whose value would change."""
    return [name for name in FIXED_ONCE_IT_HAS_ORDERS if stored[name] != wanted[name]]
