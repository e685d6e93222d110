"""Local defaults, and the rule that a deployment never runs on them (docs/security.md).

Every setting has a working local default (a fresh clone runs with `make run` and no
configuration), and those defaults are public: they are in this file. So a process that
serves any host but loopback with ``DEBUG`` off (a deployment) refuses to start unless each
secret is set, non-empty and none of these.
"""

import os

from django.core.exceptions import ImproperlyConfigured

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")

LOCAL_SECRET_KEY = "insecure-local-only-set-SECRET_KEY-in-deployments"  # noqa: S105
# The PSP stand-in's default too (sandbox/signing.py), so `make run` needs no configuration.
LOCAL_PSP_WEBHOOK_SECRET = "whsec_bG9jYWwtcHNwLXNhbmRib3gtc2VjcmV0LWtleQ=="  # noqa: S105
LOCAL_PII_HMAC_KEY = "insecure-local-only-set-PII_HMAC_KEY-in-deployments"
LOCAL_AUDIT_CHECKPOINT_KEY = "insecure-local-only-set-AUDIT_CHECKPOINT_KEY-in-deployments"
# `key-id:base64 of 32 bytes` (retail/customers/pii.py).
LOCAL_PII_ENCRYPTION_KEY = "local:aW5zZWN1cmUtbG9jYWwtb25seS1waWkta2V5LTMyYnk="
_LOCAL_SECRETS = frozenset(
    {
        LOCAL_SECRET_KEY,
        LOCAL_PSP_WEBHOOK_SECRET,
        LOCAL_PII_HMAC_KEY,
        LOCAL_PII_ENCRYPTION_KEY,
        LOCAL_AUDIT_CHECKPOINT_KEY,
    }
)


def env_list(name: str) -> list[str]:
    """A comma-separated environment variable, blanks dropped."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def is_deployed(*, debug: bool, allowed_hosts: list[str]) -> bool:
    return not debug and not set(allowed_hosts) <= set(LOOPBACK_HOSTS)


def refuse_local_secrets(**secrets: list[str]) -> None:
    """ImproperlyConfigured naming every secret that is missing, empty or a local default."""
    unsafe = sorted(
        name
        for name, values in secrets.items()
        if not values or any(not value or value in _LOCAL_SECRETS for value in values)
    )
    if unsafe:
        raise ImproperlyConfigured(
            f"refusing to start a deployment (DEBUG off, ALLOWED_HOSTS beyond loopback) with "
            f"missing or public default secrets: {', '.join(unsafe)}; set them in the "
            f"environment (docs/security.md)"
        )
