"""Real processes for payments tests: the sandbox PSP, gunicorn and a Celery worker.

Each runs as a subprocess on a free port, logging to a file the test can show on failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.kernel.procs import BIN, Process, celery_worker, free_port


def reference_signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks signature computed from the spec, independently of the code under test."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secret: str, body: bytes, webhook_id: str, timestamp: int | None = None
) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": reference_signature(secret, webhook_id, timestamp, body),
    }


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    return check


def psp_start(
    data_dir: Path, log_path: Path, secret: str, *flags: str, port: int = 0
) -> tuple[Process, str]:
    """``python -m sandbox.psp`` on ``port`` (a free one by default); the process and its URL."""
    port = port or free_port()
    env = {**os.environ, "PSP_WEBHOOK_SECRET": secret}
    command = [sys.executable, "-m", "sandbox.psp", "--port", str(port)]
    command += ["--data-dir", str(data_dir), *flags]
    url = f"http://127.0.0.1:{port}"
    return Process("psp", command, env, log_path).start().wait_ready(http_ok(url + "/healthz")), url


def rastro_env(
    *, database_url: str, redis_url: str, psp_url: str, public_url: str, secret: str
) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "PSP_URL": psp_url,
        "PUBLIC_URL": public_url,
        "PSP_WEBHOOK_SECRET": secret,
        "STRANGLER_ENABLED": "false",
        "PSP_RETRY_BASE_S": "0.5",
        "OUTBOX_SWEEP_INTERVAL_S": "0.5",
        "LOG_LEVEL": "WARNING",
    }


def gunicorn_start(env: dict[str, str], port: int, log_path: Path) -> Process:
    command = [
        str(BIN / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", "2", "--threads", "8", "--timeout", "60",
    ]  # fmt: skip
    process = Process("gunicorn", command, env, log_path).start()
    return process.wait_ready(http_ok(f"http://127.0.0.1:{port}/healthz"))


def celery_worker_start(env: dict[str, str], log_path: Path, concurrency: int = 4) -> Process:
    process = celery_worker(f"payments-test-{os.getpid()}", env, log_path, concurrency).start()
    return process.wait_ready(lambda: " ready." in process.log(), timeout=60)
