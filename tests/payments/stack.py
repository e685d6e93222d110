"""The whole payments path as real processes: sandbox PSP, gunicorn, a Celery worker and beat.

They run against the pytest database and a Redis database of their own (``redis_url()``,
flushed at start); the PSP calls back the real gunicorn through ``PUBLIC_URL``. The processes
outlive single tests, so tests using them commit their data (no per-test transaction) and the
database is flushed once the processes are stopped (a flush racing them would deadlock).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
from celery import current_app
from django.conf import settings

from retail.audit.database_roles import app_database_url
from retail.payments.tests.processes import (
    celery_worker_start,
    gunicorn_start,
    psp_start,
    rastro_env,
)
from tests.kernel.procs import Process, celery_beat, free_port

REDIS_DB = 13  # payments' own database numbers on the machine's Redis: 13, 14… per xdist worker


def redis_url() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{REDIS_DB + int(worker or 0)}"


@dataclass
class Stack:
    workdir: Path
    psp_url: str = ""
    web_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    psp: Process | None = None
    processes: list[Process] = field(default_factory=list)

    def start(self, **env: str) -> Stack:
        url = redis_url()
        with redis.Redis.from_url(url) as client:
            client.flushdb()
        self._use_broker(url)
        self.psp_start()
        port = free_port()
        self.web_url = f"http://127.0.0.1:{port}"
        self.env = (
            rastro_env(
                database_url=app_database_url(),
                redis_url=url,
                psp_url=self.psp_url,
                public_url=self.web_url,
                secret=settings.PSP_WEBHOOK_SECRET,
            )
            | env
        )
        self.processes.append(gunicorn_start(self.env, port, self.workdir / "gunicorn.log"))
        self.processes.append(celery_worker_start(self.env, self.workdir / "worker.log"))
        beat = celery_beat(self.env, self.workdir).start()
        self.processes.append(beat.wait_ready(lambda: "beat: Starting" in beat.log()))
        return self

    def psp_start(self, *flags: str) -> None:
        """(Re)start the PSP, on the same port as before if it ran already (its data is kept)."""
        if self.psp is not None:
            self.psp.stop()
        port = int(self.psp_url.rsplit(":", 1)[1]) if self.psp_url else 0
        self.psp, self.psp_url = psp_start(
            self.workdir / "psp-data",
            self.workdir / "psp.log",
            settings.PSP_WEBHOOK_SECRET,
            *flags,
            port=port,
        )

    def stop(self) -> None:
        for process in reversed([*self.processes, *([self.psp] if self.psp else [])]):
            process.stop()
        self._use_broker(settings.CELERY_BROKER_URL)

    def logs(self, tail: int = 6000) -> str:
        everything = [*self.processes, *([self.psp] if self.psp else [])]
        return "\n".join(f"===== {p.name} =====\n{p.log()[-tail:]}" for p in everything)

    def charges(self) -> dict[str, dict[str, Any]]:
        """The PSP's own record, by payment id."""
        answer = httpx.get(self.psp_url + "/charges", timeout=10).json()
        return {charge["payment_id"]: charge for charge in answer}

    def marketplace(self, partner: str, secret: str, skus: str, *args: str) -> dict[str, Any]:
        """Run ``python -m sandbox.marketplace`` against the web process; its JSON summary."""
        command = [
            sys.executable, "-m", "sandbox.marketplace",
            "--target", f"{self.web_url}/webhooks/marketplace/{partner}/",
            "--partner", partner, "--secret", secret, "--skus", skus, *args,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        return dict(json.loads(result.stdout))

    @staticmethod
    def _use_broker(url: str) -> None:
        current_app.conf.broker_url = url
        current_app._after_fork()  # drop pooled connections to the previous broker
