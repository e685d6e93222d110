"""Fixtures of the kernel's fault tests (RELIABILITY.md "Faults"): real processes, real services.

Each test gets a private redis-server (broker and cache, nothing shared with other test
sessions or the machine's Redis) and starts real Celery workers / beat / gunicorn on the pytest
database. The test process itself is pointed at the same Redis, so its on-commit kicks reach
those workers. Data is committed (``transaction=True``) so the other processes see it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from celery import current_app

from retail.audit.database_roles import app_database_url
from retail.platform.tests.probe import effect_table_create
from tests.kernel.procs import (
    REPO,
    Process,
    RedisServer,
    celery_beat,
    celery_worker,
    free_port,
    gunicorn,
)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    setattr(item, f"kernel_report_{report.when}", report)
    return report


@dataclass
class Kernel:
    """The processes of one test; everything it starts is stopped at teardown."""

    workdir: Path
    redis: RedisServer
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)

    def worker(self, concurrency: int = 1, **env: str) -> Process:
        name = f"worker{sum(p.name.startswith('worker') for p in self.processes) + 1}"
        process = celery_worker(
            name, {**self.env, **env}, self.workdir / f"{name}.log", concurrency
        )
        self.processes.append(process.start())
        process.wait_for_log(" ready.", timeout=60)
        return process

    def beat(self, **env: str) -> Process:
        process = celery_beat({**self.env, **env}, self.workdir)
        self.processes.append(process.start())
        process.wait_for_log("beat: Starting...", timeout=60)
        return process

    def web(self) -> str:
        port = free_port()
        process = gunicorn(self.env, self.workdir, port)
        self.processes.append(process.start())
        process.wait_for_log("Booting worker", timeout=60)
        return f"http://127.0.0.1:{port}"

    def send(self, task_name: str, times: int = 1) -> None:
        for _ in range(times):
            current_app.send_task(task_name)

    def broker_use(self, url: str) -> None:
        """Point this test process's kicks at another broker (e.g. one that is not there)."""
        _broker_use(url)

    def kill_after(self, task_name: str) -> None:
        """The next process to finish ``task_name`` SIGKILLs itself before the ack."""
        (self.workdir / f"kill-after-{task_name}").touch()

    def runs(self, task_name: str) -> list[tuple[str, int, str]]:
        """``(what, pid, task id)`` of every ``start`` / ``done`` / ``killed`` of ``task_name``."""
        path = self.workdir / "runs.log"
        lines = path.read_text().split("\n") if path.exists() else []
        return [
            (what, int(pid), task_id)
            for what, pid, name, task_id in (line.split() for line in lines if line)
            if name == task_name
        ]

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def logs(self) -> str:
        logs = [f"===== {p.name} ({p.log_path}) =====\n{p.log()[-20000:]}" for p in self.processes]
        runs = self.workdir / "runs.log"
        if runs.exists():
            logs.append(f"===== runs.log =====\n{runs.read_text()[-5000:]}")
        return "\n".join(logs)

    def stop(self) -> None:
        """SIGKILL: nothing of a finished test needs a graceful shutdown."""
        for process in reversed(self.processes):
            process.stop(signal.SIGKILL)


def _broker_use(url: str) -> None:
    app = current_app
    app.conf.broker_url = url
    app._after_fork()  # drop pooled connections to the previous broker


@pytest.fixture
def kernel(
    request: pytest.FixtureRequest, transactional_db: None, settings: Any, tmp_path: Path
) -> Iterator[Kernel]:
    redis = RedisServer(tmp_path).start()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis.url}
    }
    original_broker = current_app.conf.broker_url
    _broker_use(redis.url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.kernel.process_settings",
        "DATABASE_URL": app_database_url(),
        "REDIS_URL": redis.url,
        "CELERY_BROKER_URL": redis.url,
        "KERNEL_FAULT_DIR": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "STRANGLER_ENABLED": "false",
        "OUTBOX_SWEEP_INTERVAL_S": "0.5",
        "LOG_LEVEL": "INFO",
    }
    effect_table_create()
    kernel = Kernel(tmp_path, redis, env)
    kernel.processes.append(redis)
    try:
        yield kernel
    finally:
        failed = any(
            getattr(getattr(request.node, f"kernel_report_{when}", None), "failed", False)
            for when in ("setup", "call")
        )
        kernel.stop()
        _broker_use(original_broker)
        if failed:
            print(kernel.logs())
