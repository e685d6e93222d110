"""Real processes and a real HTTP receiver: the PSP runs as a subprocess, the receiver here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
TEST_SECRET = "whsec_" + base64.b64encode(b"sandbox-tests-not-the-default-key").decode()


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def valid_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Independent Standard Webhooks check (does not use sandbox.signing)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [
        s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")
    ]
    return any(hmac.compare_digest(expected, s) for s in offered)


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived
    status: int  # what the receiver answered

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """Records every request; answers with ``script`` statuses first, then ``default``."""

    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    default: int = 200
    answer: Callable[[dict[str, str], bytes], tuple[int, Any]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def respond(self, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        with self.lock:
            if self.answer is not None:
                status, payload = self.answer(headers, body)
            else:
                status, payload = (self.script.pop(0) if self.script else self.default), {}
            self.deliveries.append(Delivery(headers, body, time.monotonic(), status))
        return status, payload

    def of_type(self, event_type: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.json.get("type") == event_type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload = self.server.receiver.respond(headers, body)  # type: ignore[attr-defined]
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook")  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.receiver  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


class Psp:
    """One ``python -m sandbox.psp`` subprocess on a free port."""

    def __init__(self, data_dir: Path, log_path: Path, *flags: str) -> None:
        self.data_dir, self.log_path, self.flags = data_dir, log_path, flags
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> Psp:
        log = self.log_path.open("ab")
        offset = self.log_path.stat().st_size
        env = {**os.environ, "PSP_WEBHOOK_SECRET": TEST_SECRET}
        command = [
            sys.executable,
            "-m",
            "sandbox.psp",
            "--port",
            "0",
            "--data-dir",
            str(self.data_dir),
        ]
        self.process = subprocess.Popen([*command, *self.flags], cwd=REPO, env=env, stderr=log)
        line = wait_for(lambda: self._listening_line(offset), what="the PSP to listen")
        self.url = line.split("listening on ", 1)[1].split()[0]
        self.client = httpx.Client(base_url=self.url, timeout=5)
        return self

    def _listening_line(self, offset: int) -> str | None:
        assert self.process is not None
        assert self.process.poll() is None, self.log()
        with self.log_path.open() as f:
            f.seek(offset)
            return next((line for line in f if "listening on " in line), None)

    def stop(self, kill: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
            self.process.wait(timeout=10)
        self.client.close()

    def log(self) -> str:
        return self.log_path.read_text()

    def pay(self, key: str | None, **body: Any) -> httpx.Response:
        headers = {} if key is None else {"Idempotency-Key": key}
        return self.client.post("/payments", json=body, headers=headers)

    def refund(self, key: str, **body: Any) -> httpx.Response:
        return self.client.post("/refunds", json=body, headers={"Idempotency-Key": key})

    def charges(self) -> list[dict[str, Any]]:
        return list(self.client.get("/charges").json())

    def charge(self, payment_id: str) -> dict[str, Any]:
        response = self.client.get(f"/payments/{payment_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def start_psp(tmp_path: Path) -> Iterator[Callable[..., Psp]]:
    started: list[Psp] = []

    def start(*flags: str) -> Psp:
        psp = Psp(tmp_path / "psp-data", tmp_path / "psp.log", *flags).start()
        started.append(psp)
        return psp

    yield start
    for psp in started:
        psp.stop()
