"""Fault 9 through a real server: 50 concurrent requests with one Idempotency-Key against
gunicorn (3 processes x 8 threads) → one effect; the others get 409 or the replay."""

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from retail.platform.models import IdempotencyKey, OutboxMessage
from tests.kernel.http_urls import EFFECT_AGGREGATE

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]
BODY = {"n": 7, "sleep_s": 1.0}


def test_fifty_concurrent_requests_with_one_key_make_one_effect(kernel):
    url = kernel.web() + "/api/v1/kernel-effects"
    headers = {"Idempotency-Key": "one-key-for-fifty"}
    with httpx.Client(timeout=30) as client:
        client.get(url.rsplit("/api/", 1)[0] + "/healthz")  # warm-up
        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(
                pool.map(lambda _: client.post(url, json=BODY, headers=headers), range(50))
            )
        afterwards = client.post(url, json=BODY, headers=headers)

    assert OutboxMessage.objects.filter(aggregate_id=EFFECT_AGGREGATE).count() == 1
    assert IdempotencyKey.objects.count() == 1
    event_id = str(OutboxMessage.objects.get().event_id)
    kinds = Counter((a.status_code, a.headers.get("Idempotent-Replayed", "first")) for a in answers)
    assert kinds[(201, "first")] == 1, kinds
    assert set(kinds) <= {(201, "first"), (201, "true"), (409, "first")}, kinds
    assert kinds[(409, "first")] >= 1, kinds  # the twins really ran while the first did
    first = next(
        a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers
    )
    assert json.loads(first.content) == {"event_id": event_id, "n": 7}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert answer.json()["code"] == "idempotency_key_in_use"
        elif answer is not first:
            assert answer.content == first.content
    assert (afterwards.status_code, afterwards.headers["Idempotent-Replayed"]) == (201, "true")
    assert afterwards.content == first.content
