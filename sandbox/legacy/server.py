"""HTTP/1.1 on the standard library: routing, bodies (chunked too) and the fault switches."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.legacy import pages
from sandbox.legacy.store import OutOfStock, Store, UnknownSku

log = logging.getLogger("sandbox.legacy")

READ_CHUNK = 64 * 1024
ECHO_BODY_KEPT = 64 * 1024  # the echo returns the body itself up to this size, else its hash
SMALL_BODY_LIMIT = 1024 * 1024
PAGE_SIZE = 20
SESSION_COOKIE = "legacy_session"


@dataclass
class Switches:
    """Faults applied to every request (``/__control``); query parameters override them."""

    delay_s: float = 0.0
    fail: int | str | None = None


class LegacyServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a proxy with many threads connects in bursts

    def __init__(self, address: tuple[str, int], store: Store) -> None:
        super().__init__(address, LegacyHandler)
        self.store = store
        self.switches = Switches()
        self.switches_lock = threading.Lock()
        self.dropped_once: set[str] = set()


def make_server(host: str, port: int, store: Store) -> LegacyServer:
    return LegacyServer((host, port), store)


class LegacyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server: LegacyServer
    server_version = "LegacyMonolith/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def do_GET(self) -> None:
        self.dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # --- dispatch -------------------------------------------------------------------
    def dispatch(self) -> None:
        try:
            self.answer()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away mid-answer: nothing to tell it

    def answer(self) -> None:
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self.url_path = url.path
        if url.path == "/__control":
            self.control()
            return
        if self.faulted():
            return
        handler = self.route(url.path)
        if handler is None:
            self.drain_body()
            self.send(404, pages.not_found(url.path), "text/html; charset=utf-8")
        else:
            handler()

    def route(self, path: str) -> Callable[[], None] | None:
        fixed: dict[str, Callable[[], None]] = {
            "/legacy/": self.home,
            "/legacy/login": self.login,
            "/legacy/account": self.account,
            "/legacy/logout": self.logout,
            "/legacy/echo": self.echo,
            "/legacy/download": self.download,
            "/legacy/hop-by-hop": self.hop_by_hop,
            "/api/v1/products/": self.products,
            "/api/v1/orders/": self.orders,
        }
        if path in fixed:
            return fixed[path]
        if path.startswith("/api/v1/orders/") and path.endswith("/"):
            return self.order
        return None

    def faulted(self) -> bool:
        """Applies the delay and failure switches; True when the request was answered."""
        with self.server.switches_lock:
            delay_s, fail = self.server.switches.delay_s, self.server.switches.fail
        delay_s = float(self.query.get("legacy_delay", delay_s))
        fail = self.query.get("legacy_fail", fail)
        once = self.query.get("legacy_drop_once")
        if once:
            with self.server.switches_lock:
                first_time = once not in self.server.dropped_once
                self.server.dropped_once.add(once)
            fail = "drop" if first_time else fail
        if delay_s > 0:
            time.sleep(delay_s)
        if fail is None or fail == "":
            return False
        if fail == "drop":
            self.close_connection = True  # no status line at all: a crashed upstream
            return True
        self.drain_body()
        status = int(fail)
        self.send(status, pages.failure(status), "text/html; charset=utf-8")
        return True

    def control(self) -> None:
        switches = self.server.switches
        if self.command == "POST":
            wanted = json.loads(self.read_small_body() or b"{}")
            with self.server.switches_lock:
                switches.delay_s = float(wanted.get("delay_s", 0.0))
                switches.fail = wanted.get("fail")
        self.send_json(200, {"delay_s": switches.delay_s, "fail": switches.fail})

    # --- bodies ---------------------------------------------------------------------
    def body_chunks(self) -> Iterator[bytes]:
        """The request body in chunks, by Content-Length or chunked transfer coding."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            yield from self._chunked_body()
            return
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            chunk = self.rfile.read(min(READ_CHUNK, remaining))
            if not chunk:
                raise ConnectionError("request body ended early")
            remaining -= len(chunk)
            yield chunk

    def _chunked_body(self) -> Iterator[bytes]:
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return
            remaining = size
            while remaining > 0:
                chunk = self.rfile.read(min(READ_CHUNK, remaining))
                if not chunk:
                    raise ConnectionError("chunked body ended early")
                remaining -= len(chunk)
                yield chunk
            self.rfile.readline()

    def read_small_body(self) -> bytes:
        body = bytearray()
        for chunk in self.body_chunks():
            body += chunk
            if len(body) > SMALL_BODY_LIMIT:
                raise ValueError("body too large")
        return bytes(body)

    def drain_body(self) -> None:
        for _ in self.body_chunks():
            pass

    def form(self) -> dict[str, str]:
        fields = parse_qs(self.read_small_body().decode("utf-8", "replace"))
        return {k: v[-1] for k, v in fields.items()}

    # --- answers --------------------------------------------------------------------
    def send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(
        self, status: int, payload: Any, headers: list[tuple[str, str]] | None = None
    ) -> None:
        self.send(status, json.dumps(payload).encode(), "application/json", headers)

    def redirect(self, location: str, headers: list[tuple[str, str]] | None = None) -> None:
        self.send(302, b"", "text/html; charset=utf-8", [("Location", location), *(headers or [])])

    def absolute(self, path: str) -> str:
        """An absolute URL on this server, the way old monoliths build redirects."""
        return f"http://{self.headers.get('Host', 'localhost')}{path}"

    # --- pages ----------------------------------------------------------------------
    def session_user(self) -> str | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        token = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else ""
        return self.server.store.session_user(token) if token else None

    def home(self) -> None:
        self.drain_body()
        self.send(200, pages.home(self.session_user()), "text/html; charset=utf-8")

    def login(self) -> None:
        if self.command != "POST":
            self.drain_body()
            self.send(200, pages.login_form(error=None), "text/html; charset=utf-8")
            return
        fields = self.form()
        token = self.server.store.login(fields.get("username", ""), fields.get("password", ""))
        if token is None:
            body = pages.login_form(error="Wrong username or password.")
            self.send(401, body, "text/html; charset=utf-8")
            return
        self.redirect(
            self.absolute("/legacy/account"),
            [
                ("Set-Cookie", f"{SESSION_COOKIE}={token}; Path=/legacy; HttpOnly; SameSite=Lax"),
                ("Set-Cookie", "legacy_seen=1; Max-Age=86400; Path=/; SameSite=Lax"),
            ],
        )

    def account(self) -> None:
        self.drain_body()
        user = self.session_user()
        if user is None:
            self.redirect("/legacy/login?next=/legacy/account")
            return
        self.send(200, pages.account(user), "text/html; charset=utf-8")

    def logout(self) -> None:
        self.drain_body()
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        if SESSION_COOKIE in cookie:
            self.server.store.logout(cookie[SESSION_COOKIE].value)
        expired = f"{SESSION_COOKIE}=; Max-Age=0; Path=/legacy; HttpOnly; SameSite=Lax"
        self.redirect(self.absolute("/legacy/"), [("Set-Cookie", expired)])

    # --- test helpers ---------------------------------------------------------------
    def echo(self) -> None:
        digest, length, kept = hashlib.sha256(), 0, bytearray()
        for chunk in self.body_chunks():
            digest.update(chunk)
            length += len(chunk)
            if len(kept) < ECHO_BODY_KEPT:
                kept += chunk[: ECHO_BODY_KEPT - len(kept)]
        self.send_json(
            200,
            {
                "method": self.command,
                "path": self.url_path,
                "query": urlsplit(self.path).query,
                "headers": [[name, value] for name, value in self.headers.items()],
                "body": kept.decode("utf-8", "replace") if length <= ECHO_BODY_KEPT else None,
                "body_length": length,
                "body_sha256": digest.hexdigest(),
            },
        )

    def download(self) -> None:
        """``?size=BYTES``: a deterministic body (bytes 0..255 repeated), written in chunks."""
        self.drain_body()
        size = int(self.query.get("size", 1024 * 1024))
        stall_s = float(self.query.get("legacy_stall", 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Disposition", 'attachment; filename="legacy.bin"')
        self.end_headers()
        if self.command == "HEAD":
            return
        pattern = bytes(range(256)) * (READ_CHUNK // 256)
        sent = 0
        while sent < size:
            chunk = pattern[: min(READ_CHUNK, size - sent)]
            self.wfile.write(chunk)
            sent += len(chunk)
            if stall_s:
                self.wfile.flush()
                time.sleep(stall_s)
                stall_s = 0

    def hop_by_hop(self) -> None:
        """Answers with hop-by-hop headers a proxy must not pass on (RFC 9110 §7.6.1)."""
        self.drain_body()
        self.send(
            200,
            b"ok",
            "text/plain",
            [
                ("Connection", "keep-alive, X-Legacy-Hop"),
                ("X-Legacy-Hop", "must-not-pass"),
                ("Keep-Alive", "timeout=5"),
                ("Proxy-Authenticate", 'Basic realm="legacy"'),
                ("X-Legacy-End-To-End", "kept"),
            ],
        )

    # --- the legacy storefront API --------------------------------------------------
    def products(self) -> None:
        self.drain_body()
        offset = int(self.query.get("cursor") or 0)
        rows, more = self.server.store.products(offset, PAGE_SIZE)
        results = [
            {
                "sku": row["sku"],
                "name": row["name"],
                "price": row["price"],
                "currency": "BRL",
                "available": row["stock"],
                "updated_at": row["updated_at"],
            }
            for row in rows
        ]
        following = self.absolute(f"/api/v1/products/?cursor={offset + PAGE_SIZE}")
        self.send_json(200, {"results": results, "next": following if more else None})

    def orders(self) -> None:
        if self.command != "POST":
            self.drain_body()
            self.send_json(405, {"error": "method not allowed"}, [("Allow", "POST")])
            return
        try:
            payload = json.loads(self.read_small_body())
            customer = payload["customer"]
            lines = [
                {"sku": str(line["sku"]), "quantity": int(line["quantity"])}
                for line in payload["lines"]
            ]
            if not lines or any(not 1 <= line["quantity"] <= 999 for line in lines):
                raise ValueError("bad lines")
            order = self.server.store.order_place(customer, lines)
        except (ValueError, KeyError, TypeError):
            self.send_json(400, {"error": "invalid order"})
        except UnknownSku as exc:
            self.send_json(422, {"error": "unknown sku", "sku": str(exc)})
        except OutOfStock as exc:
            self.send_json(409, {"error": "out of stock", "skus": exc.skus})
        else:
            location = self.absolute(f"/api/v1/orders/{order['id']}/")
            self.send_json(201, order, [("Location", location)])

    def order(self) -> None:
        self.drain_body()
        raw_id = self.url_path.removeprefix("/api/v1/orders/").strip("/")
        order = self.server.store.order_get(int(raw_id)) if raw_id.isdigit() else None
        if order is None:
            self.send_json(404, {"error": "no such order"})
            return
        self.send_json(200, order)
