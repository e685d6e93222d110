"""Real processes for the strangler tests: the legacy stand-in (and gunicorn, in its test)."""

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from retail.audit.database_roles import app_database_url
from strangler.route_cache import route_cache
from tests.kernel.procs import Process, free_port


@dataclass
class Legacy:
    url: str
    process: Process


@pytest.fixture(scope="session")
def legacy(tmp_path_factory):
    port = free_port()
    command = [sys.executable, "-m", "sandbox.legacy", "--port", str(port)]
    log = tmp_path_factory.mktemp("legacy") / "legacy.log"
    process = Process("legacy", command, dict(os.environ), log).start()
    process.wait_for_log("listening on ")
    yield Legacy(f"http://127.0.0.1:{port}", process)
    process.stop()


def closed_port_url() -> str:
    """An address where nothing listens (the port was free a moment ago)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def strangler_on(settings, legacy):
    """The routing layer on, in front of the real legacy process."""
    settings.STRANGLER_ENABLED = True
    settings.LEGACY_URL = legacy.url
    route_cache.invalidate()
    yield legacy
    route_cache.invalidate()


def read(response) -> bytes:
    """The whole body of a (streamed) test client response. The test client closes it: a
    second ``close()`` would send ``request_finished`` and close the test's database connection.
    """
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@dataclass
class Gunicorn:
    url: str
    process: Process


def start_gunicorn(legacy_url: str, workers: int = 3, threads: int = 4, **env: str) -> Gunicorn:
    """Rastro as deployed (gthread workers, the routing layer on) on this test database."""
    env = {
        **os.environ,
        **env,
        "DATABASE_URL": app_database_url(),
        "LEGACY_URL": legacy_url,
        "STRANGLER_ENABLED": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads)]
    command += ["--timeout", "30", "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="rastro-strangler-")) / "gunicorn.log"
    process = Process("gunicorn", command, env, log).start()
    return Gunicorn(url, process.wait_ready(lambda: _healthy(url)))


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, legacy):
    server = start_gunicorn(legacy.url)
    yield server
    server.process.stop()
