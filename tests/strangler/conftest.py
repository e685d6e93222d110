"""Real processes for the strangler tests: the legacy stand-in (and gunicorn, in its test)."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.db import connection

from strangler.route_cache import route_cache

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Legacy:
    url: str
    process: subprocess.Popen


def start_legacy() -> Legacy:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.legacy", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    first_line = process.stdout.readline()  # "listening on http://127.0.0.1:PORT"
    assert first_line.startswith("listening on "), first_line
    return Legacy(first_line.split()[-1], process)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def legacy():
    server = start_legacy()
    yield server
    stop(server.process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    process: subprocess.Popen


def start_gunicorn(legacy_url: str, workers: int = 3, threads: int = 4, **env: str) -> Gunicorn:
    """Rastro as deployed (gthread workers, the routing layer on) on this test database."""
    database_url = urlsplit(settings.DATABASE_URL)._replace(
        path="/" + connection.settings_dict["NAME"]
    )
    env = {
        **os.environ,
        **env,
        "DATABASE_URL": database_url.geturl(),
        "LEGACY_URL": legacy_url,
        "STRANGLER_ENABLED": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads)]
    process = subprocess.Popen(
        [*command, "--timeout", "30", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Gunicorn(url, process)
        except httpx.TransportError:
            time.sleep(0.1)
    stop(process)
    raise AssertionError("gunicorn did not come up")


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, legacy):
    server = start_gunicorn(legacy.url)
    yield server
    stop(server.process)
