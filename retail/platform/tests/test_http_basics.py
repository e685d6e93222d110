"""Problem+json everywhere on API paths, request ids, the body limit, health and docs."""

import json

import pytest
from django.db import OperationalError
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class EchoView(APIView):
    """A minimal DRF view so the exception handler meets real parsing and routing."""

    def post(self, request):
        return Response({"received": request.data})


class DatabaseGoneView(APIView):
    def get(self, request):
        raise OperationalError("terminating connection due to administrator command")


urlpatterns = [
    path("api/v1/echo", EchoView.as_view()),
    path("api/v1/database-gone", DatabaseGoneView.as_view()),
]
pytestmark = pytest.mark.urls(__name__)


def assert_problem(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    return body


def test_bad_json_is_problem_json(client):
    response = client.post("/api/v1/echo", data=b'{"a": ', content_type="application/json")
    assert_problem(response, 400, "malformed_json")


def test_json_nested_past_the_recursion_limit_is_400_not_500(client):
    response = client.post("/api/v1/echo", data=b"[" * 50_000, content_type="application/json")
    assert_problem(response, 400, "malformed_json")


def test_a_database_outage_is_a_503_to_retry_not_a_500(client):
    body = assert_problem(client.get("/api/v1/database-gone"), 503, "database_unavailable")
    assert body["detail"].endswith("retry with the same Idempotency-Key.")
    assert client.get("/api/v1/database-gone")["Retry-After"] == "1"


def test_wrong_method_is_problem_json_with_allow(client):
    response = client.delete("/api/v1/echo")
    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_wrong_media_type_is_problem_json(client):
    response = client.post("/api/v1/echo", data="a=1", content_type="text/plain")
    assert_problem(response, 415, "unsupported_media_type")


def test_body_over_one_megabyte_is_refused_before_the_view(client):
    big = json.dumps({"x": "a" * (1024 * 1024)})
    assert_problem(
        client.post("/api/v1/echo", data=big, content_type="application/json"),
        413,
        "payload_too_large",
    )


def test_request_id_is_returned_and_a_good_one_is_kept(client):
    generated = client.post("/api/v1/echo", data={}, content_type="application/json")
    assert len(generated["X-Request-Id"]) == 32
    kept = client.get("/api/v1/nothing", HTTP_X_REQUEST_ID="req-abc.123")
    assert kept["X-Request-Id"] == "req-abc.123"
    replaced = client.get("/api/v1/nothing", HTTP_X_REQUEST_ID="bad id\n<script>")
    assert replaced["X-Request-Id"] != "bad id\n<script>"


def test_every_response_says_who_served_it(client):
    assert client.get("/api/v1/nothing")["X-Served-By"] == "new"
    assert client.post("/api/v1/echo", data={}, content_type="application/json")["X-Served-By"]
