"""Real processes for the strangler tests: the legacy stand-in (and gunicorn, in its test)."""

import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

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


def closed_port_url() -> str:
    """An address where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


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
