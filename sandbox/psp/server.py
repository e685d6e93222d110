"""The PSP's HTTP face: routes, Idempotency-Key checks, JSON in and out."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sandbox.psp.engine import Engine, Reply

MAX_BODY = 1024 * 1024


def make_server(host: str, port: int, engine: Engine) -> ThreadingHTTPServer:
    handler = type("PspHandler", (PspHandler,), {"engine": engine})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


class PspHandler(BaseHTTPRequestHandler):
    engine: Engine
    protocol_version = "HTTP/1.1"
    server_version = "sandbox-psp"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send(Reply(200, {"status": "ok"}))
        elif path == "/charges":
            self._send(Reply(200, self.engine.charges()))
        elif path.startswith("/payments/"):
            self._send_found(self.engine.charge(path.removeprefix("/payments/")), "payment")
        elif path.startswith("/refunds/"):
            self._send_found(self.engine.refund(path.removeprefix("/refunds/")), "refund")
        else:
            self._send(Reply.problem(404, "not_found", f"no such resource: {path}"))

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        actions = {"/payments": self.engine.request_payment, "/refunds": self.engine.request_refund}
        if path not in actions:
            self._send(Reply.problem(404, "not_found", f"no such resource: {path}"))
            return
        body = self._json_body()
        if isinstance(body, Reply):
            self._send(body)
            return
        self._send(actions[path](self.headers.get("Idempotency-Key"), body))

    def do_PUT(self) -> None:
        self._send(Reply.problem(405, "method_not_allowed", f"{self.command} is not supported"))

    do_PATCH = do_DELETE = do_PUT

    def _json_body(self) -> dict[str, Any] | Reply:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return Reply.problem(413, "payload_too_large", "request bodies are limited to 1 MB")
        try:
            body = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            return Reply.problem(400, "invalid_json", "the body is not JSON")
        if not isinstance(body, dict):
            return Reply.problem(400, "invalid_json", "the body must be a JSON object")
        return body

    def _send_found(self, found: dict[str, Any] | None, what: str) -> None:
        if found is None:
            self._send(Reply.problem(404, f"{what}_not_found", f"no such {what}"))
        else:
            self._send(Reply(200, found))

    def _send(self, reply: Reply) -> None:
        payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        headers = {"content-type": "application/json", **reply.headers}
        if reply.status == 503:
            headers["retry-after"] = "1"
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the engine logs one line per event instead of one per request."""
