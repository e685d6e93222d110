"""CPFs move to keys of their own (retail/customers/pii.py): rows written under the keys
derived from SECRET_KEY (or under the former single PII_ENCRYPTION_KEY) are re-encrypted
under the first of PII_ENCRYPTION_KEYS and re-hashed under PII_HMAC_KEY, and PEP entries
matched by their former fingerprint follow."""

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import migrations

_FORMER_VERSION = b"\x01"


def _former_key(setting: str, purpose: str) -> bytes:
    configured = os.environ.get(setting, "")
    if configured:
        return base64.b64decode(configured) if setting == "PII_ENCRYPTION_KEY" else configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), purpose.encode(), hashlib.sha256).digest()


def forwards(apps, schema_editor):
    from retail.customers import pii

    customers = apps.get_model("customers", "Customer")
    peps = apps.get_model("compliance", "PoliticallyExposedPerson")
    former = AESGCM(_former_key("PII_ENCRYPTION_KEY", "rastro pii aes-gcm v1"))
    former_hmac_key = _former_key("PII_HMAC_KEY", "rastro pii hmac v1")
    for customer in customers.objects.iterator():
        blob = bytes(customer.cpf_encrypted)
        if blob[:1] != _FORMER_VERSION:
            continue
        digits = former.decrypt(blob[1:13], blob[13:], b"rastro.customers.cpf").decode()
        former_hash = hmac.new(former_hmac_key, digits.encode(), hashlib.sha256).hexdigest()
        customer.cpf_hmac, customer.cpf_encrypted = pii.lookup_hash(digits), pii.encrypt(digits)
        customer.save(update_fields=["cpf_hmac", "cpf_encrypted"])
        peps.objects.filter(cpf_fingerprint=former_hash).update(cpf_fingerprint=customer.cpf_hmac)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_historicalcustomer"),
        ("compliance", "0006_windowed_aggregates"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
