"""The marketplace stand-in, black-box: a real subprocess against a verifying receiver."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sandbox.tests.conftest import REPO, TEST_SECRET, Receiver, valid_signature

PRICES = {"SKU-A": 1_990, "SKU-B": 25_000, "SKU-C": 7}


def run_marketplace(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sandbox.marketplace", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)


def like_rastro(receiver: Receiver) -> None:
    """Signature checked; 201 the first time an external order is seen, 200 after."""
    seen: dict[str, str] = {}

    def answer(headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if not valid_signature(TEST_SECRET, headers, body):
            return 401, {"code": "invalid_signature"}
        external = json.loads(body)["external_order_id"]
        if external in seen:
            return 200, {"id": seen[external]}
        seen[external] = f"ord_{len(seen)}"
        return 201, {"id": seen[external]}

    receiver.answer = answer


def cpf_is_valid(cpf: str) -> bool:
    """Independent check (Receita Federal rule), not sandbox.marketplace's code."""
    if not re.fullmatch(r"\d{11}|\d{3}\.\d{3}\.\d{3}-\d{2}", cpf):
        return False
    digits = [int(c) for c in re.sub(r"\D", "", cpf)]
    if len(set(digits)) == 1:
        return False
    for size in (9, 10):
        total = sum(
            digit * weight
            for digit, weight in zip(digits[:size], range(size + 1, 1, -1), strict=True)
        )
        if (total * 10 % 11) % 10 != digits[size]:
            return False
    return True


def test_cpf_check_is_honest():
    assert cpf_is_valid("529.982.247-25")
    assert cpf_is_valid("52998224725")
    assert not cpf_is_valid("529.982.247-26")
    assert not cpf_is_valid("111.111.111-11")


def test_sends_orders_and_racing_duplicates_signed_with_valid_cpfs_and_totals(receiver):
    like_rastro(receiver)
    skus = ",".join(f"{sku}:{price}" for sku, price in PRICES.items())
    done = run_marketplace(
        "--target", receiver.url, "--secret", TEST_SECRET, "--skus", skus,
        "--count", "12", "--duplicates", "6", "--concurrency", "6",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["orders"] == 12
    assert summary["deliveries"] == 18
    assert summary["final"] == {"200": 6, "201": 12}
    assert len(done.stderr.strip().splitlines()) == 18  # one line per delivery attempt

    deliveries = receiver.deliveries
    assert len(deliveries) == 18
    assert all(valid_signature(TEST_SECRET, d.headers, d.body) for d in deliveries)
    orders = {d.json["external_order_id"]: d for d in deliveries if d.status == 201}
    assert len(orders) == 12
    for delivery in orders.values():
        order = delivery.json
        assert cpf_is_valid(order["customer"]["cpf"]), order["customer"]
        assert order["customer"]["name"]
        assert "@" in order["customer"]["email"]
        assert 1 <= len(order["lines"]) <= 3
        assert len({line["sku"] for line in order["lines"]}) == len(order["lines"])
        assert all(line["sku"] in PRICES and line["quantity"] >= 1 for line in order["lines"])
        assert order["total"] == sum(
            line["quantity"] * PRICES[line["sku"]] for line in order["lines"]
        )

    again = [d for d in deliveries if d.status == 200]
    assert all(d.body == orders[d.json["external_order_id"]].body for d in again)
    # Of the 6 duplicates, 3 redeliver a message (its webhook-id again) and 3 are new messages;
    # counted over all deliveries, since a racing duplicate may be the one that got the 201.
    messages = Counter(d.webhook_id for d in deliveries)
    assert sum(count - 1 for count in messages.values()) == 3
    assert len(messages) == 12 + 3
    assert messages.most_common(1)[0][1] <= 3


def test_reads_secret_and_prices_from_seed_demo_json(receiver, tmp_path: Path):
    like_rastro(receiver)
    seed = {
        "partners": {"acme": {"webhook_secret": TEST_SECRET, "api_key": "irrelevant"}},
        "skus": [
            {"sku": "SKU-S", "price": 990, "stock": 10_000},
            {"sku": "GONE", "price": 1, "stock": 0},
        ],
    }
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed))
    done = run_marketplace(
        "--target", receiver.url, "--seed", str(seed_file), "--count", "3", "--duplicates", "0"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["final"] == {"201": 3}
    for delivery in receiver.deliveries:
        assert [line["sku"] for line in delivery.json["lines"]] == ["SKU-S"]
        assert delivery.json["total"] == delivery.json["lines"][0]["quantity"] * 990
        assert delivery.json["external_order_id"].startswith("acme-")


def test_retries_busy_and_failing_answers_with_the_same_webhook_id(receiver):
    receiver.script = [409, 503]
    done = run_marketplace(
        "--target", receiver.url, "--secret", TEST_SECRET, "--skus", "SKU-A:100",
        "--count", "1", "--duplicates", "0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "orders": 1,
        "deliveries": 1,
        "final": {"200": 1},
        "statuses": {"200": 1, "409": 1, "503": 1},
    }
    assert len({d.webhook_id for d in receiver.deliveries}) == 1
    assert len({d.body for d in receiver.deliveries}) == 1


def test_a_rejected_signature_is_final_and_exits_1(receiver):
    like_rastro(receiver)
    wrong = "whsec_" + TEST_SECRET.removeprefix("whsec_")[::-1]
    done = run_marketplace(
        "--target", receiver.url, "--secret", wrong, "--skus", "SKU-A:100",
        "--count", "2", "--duplicates", "0",
    )  # fmt: skip
    assert done.returncode == 1
    assert json.loads(done.stdout)["final"] == {"401": 2}
    assert len(receiver.deliveries) == 2  # a 401 is not retried


def test_usage_errors():
    missing = run_marketplace("--target", "http://127.0.0.1:9/")
    assert missing.returncode == 2
    assert "--seed, or --secret and --skus" in missing.stderr
    assert run_marketplace("--help").returncode == 0
