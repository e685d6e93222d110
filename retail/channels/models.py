"""Sales channels, their API keys, partner webhook secrets and staff tokens."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from retail.audit.public import audited_history


class Channel(models.Model):
    class Kind(models.TextChoices):
        WEB = "web"
        APP = "app"
        POS = "pos"
        MARKETPLACE = "marketplace"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    def __str__(self) -> str:
        return self.code


class ApiKey(models.Model):
    """Only the SHA-256 of the key is kept; ``prefix`` lets staff tell keys apart."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="api_keys")
    prefix = models.CharField(max_length=64)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="none: until revoked")
    history = audited_history(excluded_fields=["key_hash"])

    def __str__(self) -> str:
        return f"{self.prefix}…"


class WebhookSecret(models.Model):
    """A partner's signing secret; several are valid at once while a rotation overlaps."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="webhook_secrets")
    secret = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    history = audited_history(excluded_fields=["secret"])  # the secret never leaves this table

    def __str__(self) -> str:
        return f"{self.secret[:10]}… of {self.channel_id}"


class StaffToken(models.Model):
    """A back-office API token of one staff user, stored hashed like channel keys."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_tokens"
    )
    prefix = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="none: until revoked")
    history = audited_history(excluded_fields=["token_hash"])

    def __str__(self) -> str:
        return f"{self.prefix}…"
