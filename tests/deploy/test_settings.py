"""A deployment never runs on the repository's public defaults, and `check --deploy` is clean.

Each case is a fresh `manage.py` process: settings are read once, at start.
"""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "SECRET_KEY": "k" * 20 + "-a-deployment-secret-key-of-sufficient-length-0123456789",
    "PSP_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"a deployment psp secret").decode(),
    "PII_HMAC_KEY": "a-deployment-lookup-key",
    "PII_ENCRYPTION_KEYS": "2026-12:" + base64.b64encode(b"d" * 32).decode(),
    "AUDIT_CHECKPOINT_KEY": "a-deployment-checkpoint-key",
}
DEPLOYMENT = {"DEBUG": "0", "ALLOWED_HOSTS": "shop.example.com"}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if name not in SECRETS}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("name", sorted(SECRETS))
@pytest.mark.parametrize("value", ["missing", "", "the repository's default"])
def test_a_deployment_refuses_to_start_without_each_secret(name, value):
    from config import deployment

    defaults = {
        "SECRET_KEY": deployment.LOCAL_SECRET_KEY,
        "PSP_WEBHOOK_SECRET": deployment.LOCAL_PSP_WEBHOOK_SECRET,
        "PII_HMAC_KEY": deployment.LOCAL_PII_HMAC_KEY,
        "PII_ENCRYPTION_KEYS": f"new:{SECRETS['PII_ENCRYPTION_KEYS'].split(':')[1]},"
        + deployment.LOCAL_PII_ENCRYPTION_KEY,  # even as a previous key
        "AUDIT_CHECKPOINT_KEY": deployment.LOCAL_AUDIT_CHECKPOINT_KEY,
    }
    env = {**DEPLOYMENT, **SECRETS}
    if value == "missing":
        del env[name]
    else:
        env[name] = "" if value == "" else defaults[name]

    result = manage("check", **env)

    assert result.returncode != 0
    assert "refusing to start a deployment" in result.stderr
    assert name in result.stderr.splitlines()[-1]


def test_a_deployment_with_its_own_secrets_passes_check_deploy_without_a_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **DEPLOYMENT, **SECRETS)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_local_run_needs_no_configuration_and_is_not_held_to_https():
    result = manage("diffsettings", "--all", DEBUG="0")

    assert result.returncode == 0, result.stderr
    settings = dict(
        line.removeprefix("### ").removesuffix("  ###").split(" = ", 1)
        for line in result.stdout.splitlines()
        if " = " in line
    )
    assert settings["DEPLOYED"] == "False"
    assert settings["SECURE_SSL_REDIRECT"] == "False"
    assert settings["ALLOWED_HOSTS"] == "['localhost', '127.0.0.1', '[::1]']"
