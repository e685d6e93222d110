"""The proxy against the real legacy process: what is kept, what is dropped, what fails how."""

import hashlib
import json
import time
import tracemalloc
from contextlib import contextmanager

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from strangler import services
from strangler.proxy import UpstreamBroken
from strangler.services import Actor
from tests.strangler.conftest import closed_port_url, read

pytestmark = pytest.mark.django_db
ME = Actor("test")
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture(autouse=True)
def routes(strangler_on):
    services.route_ensure("/legacy/", "legacy", actor=ME, reason="legacy pages stay")
    services.route_ensure("/api/v1/", "new", actor=ME, reason="the storefront is ours")


def echo_of(response):
    assert response.status_code == 200
    payload = json.loads(read(response))
    payload["header"] = {name.lower(): value for name, value in payload["headers"]}
    return payload


def assert_problem(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response["X-Served-By"] == "legacy"
    assert json.loads(read(response))["code"] == code


def test_method_path_query_headers_and_body_reach_legacy(client, legacy):
    response = client.put(
        "/legacy/echo?b=2&a=%20x&a=y",
        data=b'{"hello": "legacy"}',
        content_type="application/json",
        HTTP_X_CUSTOM="kept",
        HTTP_COOKIE="theme=dark; legacy_session=abc",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_X_FORWARDED_HOST="evil.example",
    )
    assert response["X-Served-By"] == "legacy"
    echo = echo_of(response)
    assert (echo["method"], echo["path"], echo["query"]) == (
        "PUT",
        "/legacy/echo",
        "b=2&a=%20x&a=y",
    )
    assert echo["body"] == '{"hello": "legacy"}'
    header = echo["header"]
    assert header["x-custom"] == "kept"
    assert header["cookie"] == "theme=dark; legacy_session=abc"
    assert header["content-type"] == "application/json"
    assert header["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert header["x-forwarded-proto"] == "http"
    assert header["x-forwarded-host"] == "testserver", "the client's own value is replaced"
    assert header["host"] == legacy.url.removeprefix("http://")
    assert "x-request-id" in header


def test_hop_by_hop_request_headers_and_those_named_in_connection_are_not_forwarded(client):
    response = client.get(
        "/legacy/echo",
        HTTP_CONNECTION="keep-alive, X-Hop-Secret",
        HTTP_X_HOP_SECRET="must-not-pass",
        HTTP_KEEP_ALIVE="timeout=5",
        HTTP_TE="trailers",
        HTTP_PROXY_AUTHORIZATION="Basic c2VjcmV0",
        HTTP_UPGRADE="h2c",
        HTTP_X_END_TO_END="kept",
    )
    header = echo_of(response)["header"]
    for dropped in ("x-hop-secret", "keep-alive", "te", "proxy-authorization", "upgrade"):
        assert dropped not in header
    assert header.get("connection", "keep-alive") == "keep-alive", "only httpx's own, if any"
    assert header["x-end-to-end"] == "kept"


def test_rastros_own_credentials_and_forgeable_headers_never_reach_legacy(client):
    response = client.get(
        "/legacy/echo",
        HTTP_AUTHORIZATION="Bearer rk_live_web_0123456789abcdef",
        HTTP_COOKIE="sessionid=s3cret; csrftoken=c; legacy_session=abc; messages=m",
        HTTP_FORWARDED="for=198.51.100.1;host=evil.example",
        HTTP_X_REAL_IP="198.51.100.1",
        HTTP_X_ORIGINAL_URL="/api/v1/orders/",
        HTTP_X_REWRITE_URL="/admin/",
    )
    header = echo_of(response)["header"]
    assert "authorization" not in header
    assert header["cookie"] == "legacy_session=abc"
    for forged in ("forwarded", "x-real-ip", "x-original-url", "x-rewrite-url"):
        assert forged not in header
    staff = client.get("/legacy/echo", HTTP_AUTHORIZATION="Bearer rst_0123456789abcdef")
    assert "authorization" not in echo_of(staff)["header"]


@pytest.mark.parametrize("authorization", ["Basic ZGVtbzpkZW1v", "Bearer legacy-session-token"])
def test_legacys_own_authorization_still_reaches_it(client, authorization):
    response = client.get("/legacy/echo", HTTP_AUTHORIZATION=authorization)
    assert echo_of(response)["header"]["authorization"] == authorization


def test_hop_by_hop_response_headers_are_not_passed_back(client):
    response = client.get("/legacy/hop-by-hop")
    assert read(response) == b"ok"
    for dropped in ("X-Legacy-Hop", "Keep-Alive", "Proxy-Authenticate", "Connection"):
        assert dropped not in response
    assert response["X-Legacy-End-To-End"] == "kept"
    assert response["Content-Length"] == "2"


def test_login_keeps_every_set_cookie_verbatim_and_rewrites_the_redirect(client):
    response = client.post(
        "/legacy/login",
        data="username=demo&password=demo",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/legacy/account"
    set_cookies = [morsel.output(header="").strip() for morsel in response.cookies.values()]
    assert len(set_cookies) == 2
    assert set_cookies[0].startswith("legacy_session=")
    assert set_cookies[0].endswith("; Path=/legacy; HttpOnly; SameSite=Lax")
    assert set_cookies[1] == "legacy_seen=1; Max-Age=86400; Path=/; SameSite=Lax"
    read(response)

    account = client.get("/legacy/account")  # the test client sends the cookies back
    assert account.status_code == 200
    assert b"Logged in as <b id='user'>demo</b>" in read(account)


def test_a_relative_redirect_is_left_alone_and_a_wrong_password_keeps_its_status(client):
    anonymous = client.get("/legacy/account")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/legacy/login?next=/legacy/account"
    wrong = client.post(
        "/legacy/login",
        data="username=demo&password=no",
        content_type="application/x-www-form-urlencoded",
    )
    assert wrong.status_code == 401
    assert b"Wrong username or password" in read(wrong)


@pytest.mark.parametrize(
    "path",
    [
        "/legacy/../api/v1/orders/",
        "/legacy/./echo",
        "/legacy//echo",
        "/legacy/%2e%2e/api/v1/orders/",
        "/legacy/..%2fapi/v1/orders/",
        "/legacy/%5c..%5capi/v1/orders/",
    ],
)
def test_a_path_that_could_route_one_way_and_resolve_another_is_refused(client, path):
    response = client.get(path)
    assert (response.status_code, response["X-Served-By"]) == (400, "new")
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["code"] == "path_not_canonical"


def test_paths_without_a_route_go_to_legacy_and_routed_new_paths_stay_in_rastro(client):
    unrouted = client.get("/somewhere/else")
    assert (unrouted.status_code, unrouted["X-Served-By"]) == (404, "legacy")
    assert b"legacy monolith" in read(unrouted)
    ours = client.get("/api/v1/no-such-thing/")
    assert (ours.status_code, ours["X-Served-By"]) == (404, "new")
    assert ours["Content-Type"] == "application/problem+json"


def test_decisions_and_upstream_failures_are_in_the_metrics(client, settings):
    read(client.get("/legacy/"))
    read(client.get("/api/v1/no-such-thing/"))
    settings.LEGACY_URL = closed_port_url()
    read(client.post("/legacy/echo"))
    metrics = read(client.get("/metrics")).decode()
    assert (
        'strangler_route_decisions_total{mode="legacy",route="/legacy/",served_by="legacy"}'
        in metrics
    )
    assert 'strangler_route_decisions_total{mode="new",route="/api/v1/",served_by="new"}' in metrics
    assert (
        'strangler_request_seconds_bucket{le="0.005",route="/legacy/",served_by="legacy"}'
        in metrics
    )
    assert (
        f'strangler_upstream_failures_total{{kind="unreachable",upstream="{settings.LEGACY_URL}"}}'
        in metrics
    )


def test_rastros_own_paths_never_meet_the_table_and_are_stamped_new(client):
    services.route_ensure("/", "legacy", actor=ME, reason="everything else is legacy")
    for path in ("/healthz", "/metrics", "/admin/login/", "/api/schema/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["X-Served-By"] == "new", path


class ChunkedInput:
    """A ``wsgi.input`` that makes its bytes as they are read: nothing is held in advance."""

    def __init__(self, chunks):
        self.pending = iter(chunks)
        self.buffer = b""

    def read(self, size=-1):
        while (size < 0 or len(self.buffer) < size) and (chunk := next(self.pending, None)):
            self.buffer += chunk
        size = len(self.buffer) if size < 0 else size
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def readline(self, size=-1):
        raise AssertionError("the proxy reads bodies in chunks, not lines")


def wsgi_environ(method, path, body_chunks=(), length=0):
    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "CONTENT_LENGTH": str(length),
        "CONTENT_TYPE": "application/octet-stream",
        "wsgi.input": ChunkedInput(body_chunks),
        "wsgi.url_scheme": "http",
        "wsgi.errors": None,
    }


@contextmanager
def database_kept_open():
    """As Django's test client does: a request must not close the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def run_wsgi(environ):
    """Drives the real WSGI application as a server would. Returns the status, the headers, the
    body's length and hash, and its first 64 KB.
    """
    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=headers)

    digest, length, head = hashlib.sha256(), 0, b""
    with database_kept_open():
        result = WSGIHandler()(environ, start_response)
        try:
            for chunk in result:
                digest.update(chunk)
                length += len(chunk)
                head += chunk[: max(0, 65536 - len(head))]
        finally:
            result.close()
    return started["status"], started["headers"], length, digest.hexdigest(), head


def test_five_megabytes_up_stream_through_with_bounded_memory():
    chunk = bytes(range(256)) * 256  # 64 KB
    count = FIVE_MB // len(chunk)
    run_wsgi(wsgi_environ("GET", "/legacy/"))  # warm up: connection pool, route table, imports

    tracemalloc.start()
    status, _, _, _, body = run_wsgi(
        wsgi_environ("POST", "/legacy/echo", (chunk for _ in range(count)), FIVE_MB)
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert status.startswith("200")
    echo = json.loads(body)
    assert echo["body_length"] == FIVE_MB, "more than 1 MB: no payload limit on legacy paths"
    assert echo["body_sha256"] == hashlib.sha256(chunk * count).hexdigest()
    print(f"peak traced memory: {peak} bytes")
    assert peak < FIVE_MB / 4, f"peak {peak} bytes: the body was buffered"


def download_peak_memory(size):
    tracemalloc.start()
    status, headers, length, sha, _ = run_wsgi(wsgi_environ("GET", f"/legacy/download?size={size}"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert status.startswith("200")
    assert ("Content-Length", str(size)) in headers
    expected = (bytes(range(256)) * (size // 256 + 1))[:size]
    assert (length, sha) == (size, hashlib.sha256(expected).hexdigest())
    return peak


def test_five_megabytes_down_stream_through_with_bounded_memory():
    run_wsgi(wsgi_environ("GET", "/legacy/download?size=1000"))  # warm up
    one_mb_peak = download_peak_memory(1024 * 1024)
    five_mb_peak = download_peak_memory(FIVE_MB)
    print(f"peak traced memory: 1 MB → {one_mb_peak} bytes, 5 MB → {five_mb_peak} bytes")
    assert five_mb_peak < FIVE_MB / 4, "the body was buffered"
    assert five_mb_peak - one_mb_peak < 256 * 1024, "memory grows with the body's size"


def test_a_slow_legacy_answers_504_within_the_read_timeout_without_a_retry(client, settings):
    settings.STRANGLER_READ_TIMEOUT_S = 0.5
    started = time.monotonic()
    response = client.get("/legacy/echo?legacy_delay=3")
    assert_problem(response, 504, "upstream_timeout")
    assert time.monotonic() - started < 1.4


def test_legacy_down_answers_502_fast(client, settings):
    settings.LEGACY_URL = closed_port_url()
    started = time.monotonic()
    assert_problem(client.get("/legacy/"), 502, "upstream_unreachable")
    assert time.monotonic() - started < 2


def test_a_connection_dropped_by_legacy_is_retried_for_get_but_not_for_post(client):
    retried = client.get("/legacy/echo?legacy_drop_once=get-1")
    assert echo_of(retried)["method"] == "GET"

    assert_problem(client.post("/legacy/echo?legacy_drop_once=post-1"), 502, "upstream_unreachable")
    again = client.post("/legacy/echo?legacy_drop_once=post-1")
    assert echo_of(again)["method"] == "POST", "legacy saw the first POST once, not twice"


def test_a_failure_mid_body_cuts_the_response_instead_of_completing_it(client, settings):
    settings.STRANGLER_READ_TIMEOUT_S = 0.5
    response = client.get("/legacy/download?size=1000000&legacy_stall=2")
    assert response.status_code == 200
    with pytest.raises(UpstreamBroken):
        read(response)


def test_the_breaker_opens_after_five_consecutive_failures_with_retry_after(client, settings):
    settings.LEGACY_URL = closed_port_url()
    for _ in range(5):  # POST: one attempt each, no retry
        assert_problem(client.post("/legacy/echo"), 502, "upstream_unreachable")
    started = time.monotonic()
    refused = client.get("/legacy/")
    assert time.monotonic() - started < 0.1, "an open breaker does not even try"
    assert refused["Retry-After"] in {"9", "10"}
    assert_problem(refused, 503, "upstream_unavailable")


def test_legacy_gateway_errors_count_as_failures_and_the_open_breaker_spares_legacy(client):
    for _ in range(5):
        failing = client.post("/legacy/echo?legacy_fail=503")
        assert failing.status_code == 503
        assert failing["Content-Type"].startswith("text/html"), "legacy's own answer, passed on"
        read(failing)
    assert_problem(client.post("/legacy/echo"), 503, "upstream_unavailable")


def test_the_breaker_half_opens_after_the_reset_time_and_closes_on_success(client, settings):
    settings.STRANGLER_BREAKER_RESET_S = 0.5
    for _ in range(5):
        read(client.post("/legacy/echo?legacy_fail=503"))
    assert_problem(client.get("/legacy/"), 503, "upstream_unavailable")
    time.sleep(0.6)
    trial = client.post("/legacy/echo?legacy_fail=503")  # half-open: one trial, and it fails
    assert (trial.status_code, trial["Content-Type"]) == (503, "text/html; charset=utf-8")
    read(trial)
    assert_problem(client.get("/legacy/"), 503, "upstream_unavailable")  # open again
    time.sleep(0.6)
    for _ in range(3):  # a successful trial closes it: everything flows again
        response = client.get("/legacy/")
        assert (response.status_code, response["X-Served-By"]) == (200, "legacy")
        read(response)
