"""Real processes for the kernel's fault tests: a private Redis and PostgreSQL, Celery workers and
beat, gunicorn.

Every process runs in its own session (process group), so stopping it also stops its prefork
children; its output goes to a log file the fixtures print when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psycopg
import redis
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Process:
    """One subprocess in its own process group, stdout and stderr appended to ``log_path``."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path):
        self.name, self.command, self.env, self.log_path = name, command, env, log_path
        self.popen: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self) -> Process:
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.command,
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, ready: Callable[[], Any], timeout: float = 30.0) -> Process:
        """Wait until ``ready()`` is true; fails at once, with the log, if the process exits."""

        def up() -> Any:
            assert self.alive(), f"{self.name} exited:\n{self.log()[-5000:]}"
            return ready()

        wait_for(up, timeout, f"{self.name} to be ready")
        return self

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        def seen() -> bool:
            assert self.alive(), f"{self.name} exited:\n{self.log()[-5000:]}"
            with self.log_path.open(errors="replace") as log:
                log.seek(self._log_offset)
                return text in log.read()

        wait_for(seen, timeout, f"{self.name} to log {text!r}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Signal the whole process group (prefork children included); SIGKILL whatever of it
        still runs after ``timeout``. Returns once no process of the group is running."""
        if self.popen is None:
            return
        self._signal_group(sig)
        deadline = time.monotonic() + timeout
        while self._group_running() and time.monotonic() < deadline:
            time.sleep(0.05)
        while self._group_running():
            self._signal_group(signal.SIGKILL)
            time.sleep(0.05)
        self.popen.wait(timeout=10)

    def _signal_group(self, sig: int) -> None:
        assert self.popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def _group_running(self) -> bool:
        """Any process of the group not yet a zombie (orphans are reaped by init, slowly)."""
        assert self.popen is not None
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                state, _, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
            except (OSError, IndexError):
                continue  # exited while we looked
            if int(group) == self.popen.pid and state != "Z":
                return True
        return False


class RedisServer(Process):
    """A private, non-persistent redis-server on a free port (the machine's Redis is left alone)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        command = [
            "redis-server",
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--maxmemory-policy", "noeviction",
            "--dir", str(workdir),
        ]  # fmt: skip
        super().__init__("redis", command, dict(os.environ), workdir / "redis.log")
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        super().start()
        wait_for(self.ping, 10, "redis to answer")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def ping(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.ConnectionError:
            return False

    def restart(self) -> None:
        """Crash and start again on the same port: with no persistence, every key is gone."""
        self.stop(signal.SIGKILL)
        self.start()


def celery_worker(
    name: str,
    env: dict[str, str],
    log_path: Path,
    concurrency: int,
    queues: Iterable[str] | None = None,
) -> Process:
    """A worker of every lane's queue unless ``queues`` says otherwise."""
    queues = settings.OUTBOX_LANE_QUEUES.values() if queues is None else queues
    command = [
        str(BIN / "celery"), "-A", "config", "worker", "--queues", ",".join(queues),
        "--pool", "prefork", "--concurrency", str(concurrency),
        "--hostname", f"{name}@%h", "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    return Process(name, command, env, log_path)


def celery_beat(env: dict[str, str], workdir: Path) -> Process:
    command = [
        str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "INFO",
        "--schedule", str(workdir / "beat-schedule"), "--pidfile", "",
    ]  # fmt: skip
    return Process("beat", command, env, workdir / "beat.log")


def gunicorn(env: dict[str, str], workdir: Path, port: int) -> Process:
    command = [
        str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", "3", "--threads", "8", "--timeout", "30",
    ]  # fmt: skip
    return Process("gunicorn", command, env, workdir / "gunicorn.log")


class PostgresCluster:
    """A private PostgreSQL cluster (initdb into a temp dir, trust auth, fsync off) on a free
    port: a test may stop and restart it; the machine's PostgreSQL is left alone.

    initdb and pg_ctl refuse root, so they run as ``postgres``, which owns the directory.
    """

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rastro-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data, self.log_path = self.dir / "data", self.dir / "postgres.log"
        self.port = free_port()

    def url(self, database: str = "postgres", role: str = "postgres") -> str:
        return f"postgres://{role}@127.0.0.1:{self.port}/{database}"

    def create_role(self, role: str) -> None:
        """A login role that owns nothing (what the application connects as)."""
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE ROLE "{role}" LOGIN')

    def init(self) -> PostgresCluster:
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        return self.start()

    def start(self) -> PostgresCluster:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("start", "-w", "-l", str(self.log_path), "-o", options)
        return self

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-w", "-m", mode)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def destroy(self) -> None:
        """Immediate stop (SIGKILL of the postmaster if pg_ctl cannot), then the files go."""
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except subprocess.SubprocessError:
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), *args)

    def _as_postgres(self, program: str, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", str(self.BIN / program), *args]
        subprocess.run(command, capture_output=True, check=True, timeout=60)
