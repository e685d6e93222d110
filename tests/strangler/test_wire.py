"""Through a real gunicorn: what the client sees on the wire from the legacy side."""

import hashlib
import json
import socket
from urllib.parse import urlparse

import httpx
import pytest

from tests.strangler.conftest import start_gunicorn

FIVE_MB = 5 * 1024 * 1024
CHUNK = bytes(range(256)) * 256  # 64 KB


@pytest.fixture(scope="module")
def rastro(django_db_setup, legacy):
    """An untouched route table means the defaults: /legacy/ → legacy, /api/v1/ → new."""
    server = start_gunicorn(legacy.url, workers=1, STRANGLER_READ_TIMEOUT_S="1")
    yield server.url
    server.process.stop()


def test_every_set_cookie_arrives_as_its_own_header_byte_for_byte(rastro):
    response = httpx.post(f"{rastro}/legacy/login", data={"username": "demo", "password": "demo"})
    assert response.status_code == 302
    assert response.headers["X-Served-By"] == "legacy"
    assert response.headers["Location"] == f"{rastro}/legacy/account"
    session, seen = response.headers.get_list("set-cookie")
    assert session.startswith("legacy_session=")
    assert session.endswith("; Path=/legacy; HttpOnly; SameSite=Lax")
    assert seen == "legacy_seen=1; Max-Age=86400; Path=/; SameSite=Lax"


def test_a_chunked_five_megabyte_upload_streams_through(rastro):
    def body():
        for _ in range(FIVE_MB // len(CHUNK)):
            yield CHUNK

    response = httpx.post(f"{rastro}/legacy/echo", content=body(), timeout=30)
    assert response.status_code == 200
    echo = json.loads(response.content)
    assert ["Transfer-Encoding", "chunked"] in echo["headers"]
    assert echo["body_length"] == FIVE_MB
    assert echo["body_sha256"] == hashlib.sha256(CHUNK * (FIVE_MB // len(CHUNK))).hexdigest()


def test_a_five_megabyte_download_streams_through(rastro):
    digest, length = hashlib.sha256(), 0
    with httpx.stream("GET", f"{rastro}/legacy/download?size={FIVE_MB}", timeout=30) as response:
        assert response.headers["Content-Length"] == str(FIVE_MB)
        for chunk in response.iter_raw():
            digest.update(chunk)
            length += len(chunk)
    assert length == FIVE_MB
    assert digest.hexdigest() == hashlib.sha256(CHUNK * (FIVE_MB // len(CHUNK))).hexdigest()


def test_hop_by_hop_headers_do_not_reach_the_client(rastro):
    response = httpx.get(f"{rastro}/legacy/hop-by-hop")
    for dropped in ("X-Legacy-Hop", "Keep-Alive", "Proxy-Authenticate"):
        assert dropped not in response.headers
    assert response.headers["X-Legacy-End-To-End"] == "kept"


def test_a_legacy_body_that_stalls_is_cut_off_never_completed(rastro):
    with httpx.stream("GET", f"{rastro}/legacy/download?size=1000000&legacy_stall=3") as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|without sending complete"):
            response.read()


def test_rastros_own_and_unrouted_paths_are_stamped(rastro):
    assert httpx.get(f"{rastro}/healthz").headers["X-Served-By"] == "new"
    assert httpx.get(f"{rastro}/metrics").headers["X-Served-By"] == "new"
    unrouted = httpx.get(f"{rastro}/old/catalog.php")
    assert (unrouted.status_code, unrouted.headers["X-Served-By"]) == (404, "legacy")


def test_a_raw_target_with_dot_segments_never_reaches_legacy(rastro):
    """Sent byte for byte (HTTP clients normalise such paths before sending them)."""
    address = urlparse(rastro)
    with socket.create_connection((address.hostname, address.port), timeout=5) as wire:
        wire.sendall(
            b"GET /legacy/%2E%2E/api/v1/orders/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := wire.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"X-Served-By: new" in head
    assert b'"code":"path_not_canonical"' in body  # chunked: the JSON between chunk sizes
