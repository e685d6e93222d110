"""Real processes for payments tests: the sandbox PSP, gunicorn and a Celery worker.

Each runs as a subprocess on a free port, logging to a file the test can show on failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


class Process:
    """A subprocess with its output in ``log_path``; ``ready`` says when it can serve."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name, self.command, self.env, self.log_path = name, command, env, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready: Callable[[], Any], timeout: float = 30.0) -> Process:
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                self.command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

        def up() -> Any:
            assert self.process is not None
            assert self.process.poll() is None, self.log()
            return ready()

        wait_for(up, timeout, what=f"{self.name} to be ready")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


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
    return Process("psp", command, env, log_path).start(http_ok(url + "/healthz")), url


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
        str(VENV_BIN / "gunicorn"),
        "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        "2",
        "--threads",
        "8",
        "--timeout",
        "60",
    ]
    return Process("gunicorn", command, env, log_path).start(
        http_ok(f"http://127.0.0.1:{port}/healthz")
    )


def celery_worker_start(env: dict[str, str], log_path: Path, concurrency: int = 4) -> Process:
    command = [
        str(VENV_BIN / "celery"),
        "-A",
        "config",
        "worker",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"payments-test-{os.getpid()}@%h",
    ]
    process = Process("celery worker", command, env, log_path)
    return process.start(lambda: " ready." in process.log(), timeout=60)
