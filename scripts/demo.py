"""``make demo``: a short end-to-end scenario against a running Rastro (``make run`` elsewhere).

Places web orders with each sandbox PSP token, refunds part of one, cancels one, sends partner
orders through ``sandbox.marketplace``, waits for the final states, then prints the orders, the
trial balance, the audit chain check, the outbox and the PSP's own count. Exit 1 when the system
is not up or something did not end as it should.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RASTRO = os.environ.get("DEMO_URL", "http://127.0.0.1:8000")
PSP = os.environ.get("DEMO_PSP_URL", "http://127.0.0.1:8091")
TIMEOUT_S = 60.0
CUSTOMER = {"name": "Ana Souza", "email": "ana.souza@example.com", "cpf": "123.456.789-09"}
ADDRESS = {
    "street": "Rua Augusta",
    "number": "1500",
    "city": "São Paulo",
    "state": "SP",
    "postal_code": "01304-001",
}


@dataclass
class DemoOrder:
    story: str
    token: str
    expected: str
    id: str = ""
    order: dict[str, Any] | None = None


STORIES = [
    DemoOrder("paid", "tok_ok", "paid"),
    DemoOrder("declined by the PSP", "tok_declined", "payment_failed"),
    DemoOrder("webhooks 3 s late", "tok_slow", "paid"),
    DemoOrder("PSP 503 twice, retried", "tok_flaky", "paid"),
    DemoOrder("paid, then part refunded", "tok_ok", "partially_refunded"),
    DemoOrder("paid, then cancelled", "tok_ok", "cancelled"),
]


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def table(header: list[str], rows: list[list[Any]]) -> None:
    """Left-aligned text, right-aligned numbers, columns as wide as their widest cell."""
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [all(isinstance(row[i], int) for row in rows) for i in range(len(header))]
    for row in cells:
        line = "  ".join(
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(row, widths, numeric, strict=True)
        )
        print(f"  {line.rstrip()}")


def manage(*args: str) -> str:
    command = [sys.executable, "manage.py", *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603 - our arguments
    return done.stdout


def ready() -> bool:
    try:
        return httpx.get(f"{RASTRO}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def post(client: httpx.Client, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """POST with a fresh Idempotency-Key; a 5xx is retried with the same key (the contract's
    advice: it committed nothing)."""
    key = f"demo-{uuid.uuid4()}"
    for _ in range(5):
        response = client.post(path, json=body, headers={"Idempotency-Key": key})
        if response.status_code < 500:
            break
        time.sleep(0.5)
    return response


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise SystemExit(
            f"{response.request.method} {response.request.url} → {response.status_code} "
            f"(expected {status}): {response.text}"
        )
    return dict(response.json())


def wait_for(probe: Callable[[], Any], timeout: float = TIMEOUT_S) -> Any:
    """The first non-None answer of ``probe``, or None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := probe()) is not None:
            return value
        time.sleep(0.25)
    return None


def order_status(client: httpx.Client, order_id: str, status: str) -> dict[str, Any] | None:
    order = client.get(f"/api/v1/orders/{order_id}/").json()
    return dict(order) if order.get("status") == status else None


def place_orders(web: httpx.Client, sku: str) -> None:
    step("Placing web orders, one per PSP token")
    for demo in STORIES:
        body = {
            "customer": CUSTOMER,
            "lines": [{"sku": sku, "quantity": 2}],
            "payment": {"method": "card", "token": demo.token},
            "shipping_address": ADDRESS,
        }
        order = expect(post(web, "/api/v1/orders/", body), 201)
        demo.id = order["id"]
        print(f"  {order['id']}  {demo.token:<13} {order['status']:<16} total {order['total']}")


def refund_and_cancel(web: httpx.Client) -> None:
    refunded, cancelled = STORIES[-2], STORIES[-1]
    step("Waiting for those two orders to be paid")
    for demo in (refunded, cancelled):
        order = wait_for(lambda d=demo: order_status(web, d.id, "paid"))
        if order is None:
            raise SystemExit(f"{demo.id} was not paid within {TIMEOUT_S:.0f} s")
        demo.order = order
    amount = refunded.order["total"] // 3 if refunded.order else 0
    refund = expect(
        post(web, f"/api/v1/orders/{refunded.id}/refunds", {"amount": amount, "reason": "damaged"}),
        201,
    )
    print(f"  refund {refund['id']} of {amount} on {refunded.id}: {refund['status']}")
    order = expect(post(web, f"/api/v1/orders/{cancelled.id}/cancel"), 200)
    print(f"  cancel {cancelled.id}: {order['status']} (its capture is refunded at the PSP)")


def partner_orders(seed_file: Path) -> None:
    step("Partner acme sends 3 orders (+2 duplicate deliveries) via sandbox.marketplace")
    command = [
        sys.executable, "-m", "sandbox.marketplace",
        "--target", f"{RASTRO}/webhooks/marketplace/acme/", "--seed", str(seed_file),
        "--count", "3", "--duplicates", "2",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603 - our arguments
    summary = dict(json.loads(result.stdout)) if result.stdout.strip() else {}
    print(f"  {summary or result.stderr[-2000:]}")
    if result.returncode != 0:
        raise SystemExit("the marketplace stand-in did not get a 2xx for every delivery")


def final_states(web: httpx.Client) -> bool:
    step(f"Waiting (≤ {TIMEOUT_S:.0f} s) for every order's final state")
    everything_ok = True
    for demo in STORIES:
        demo.order = wait_for(lambda d=demo: order_status(web, d.id, d.expected))
        if demo.order is None:
            demo.order = web.get(f"/api/v1/orders/{demo.id}/").json()
            everything_ok = False
    rows = []
    for demo in STORIES:
        order = demo.order or {}
        status = order.get("status", "?")
        rows.append([
            demo.id, demo.token, status if status == demo.expected else f"{status} ✗",
            order.get("total", 0),
            ",".join(p["status"] for p in order.get("payments", [])) or "-",
            ",".join(f"{r['amount']} {r['status']}" for r in order.get("refunds", [])) or "-",
            demo.story if status == demo.expected else f"{demo.story} (expected {demo.expected})",
        ])  # fmt: skip
    table(["order", "token", "status", "total", "payment", "refunds", "story"], rows)
    return everything_ok


def trial_balance(finance_token: str) -> bool:
    step("Trial balance (finance token)")
    headers = {"Authorization": f"Bearer {finance_token}"}
    balance = expect(httpx.get(f"{RASTRO}/api/v1/ledger/trial-balance", headers=headers), 200)
    table(
        ["account", "name", "debit", "credit", "balance"],
        [
            [a["code"], a["name"], a["debit"], a["credit"], a["balance"]]
            for a in balance["accounts"]
        ],
    )
    balanced = balance["total_debit"] == balance["total_credit"]
    print(
        f"  total debit {balance['total_debit']} = total credit {balance['total_credit']}: "
        f"{'balanced' if balanced else 'NOT BALANCED'}"
    )
    return balanced


def audit_verify(auditor_token: str) -> bool:
    step("Audit chain (auditor token)")
    headers = {"Authorization": f"Bearer {auditor_token}"}
    verdict = expect(httpx.get(f"{RASTRO}/api/v1/audit/verify", headers=headers), 200)
    print(f"  {verdict}")
    return bool(verdict["ok"])


def outbox() -> bool:
    step("Outbox (manage.py outbox_status --json), once the relay has drained it")

    def drained() -> dict[str, Any] | None:
        status = dict(json.loads(manage("outbox_status", "--json")))
        return status if status["pending"] == 0 else None

    status = wait_for(drained, timeout=30) or json.loads(manage("outbox_status", "--json"))
    print(
        f"  pending {status['pending']}, dead {status['dead']}, "
        f"oldest pending age {status['oldest_pending_age_s']}"
    )
    return bool(status["pending"] == 0 and status["dead"] == 0)


def psp_charges() -> None:
    step("PSP stand-in's own record (GET /charges)")
    charges = httpx.get(f"{PSP}/charges", timeout=10).json()
    by_order = {c["order_id"]: c for c in charges}
    print(f"  {len(charges)} charges in all; this run's, one per web order:")
    table(
        ["order", "token", "charge", "amount", "refunded", "POST /payments received"],
        [
            [d.id, d.token, by_order[d.id]["status"], by_order[d.id]["amount"],
             by_order[d.id]["refunded"], by_order[d.id]["requests"]]
            if d.id in by_order else [d.id, d.token, "none ✗", 0, 0, 0]
            for d in STORIES
        ],
    )  # fmt: skip


def main() -> int:
    if not ready():
        print(
            f"Rastro is not up at {RASTRO} (/readyz did not answer 200).\n"
            "Start it with `make run` in another terminal, then run `make demo` again."
        )
        return 1
    step("Fresh demo keys from manage.py seed_demo --json")
    seed = json.loads(manage("seed_demo", "--json"))
    seed_file = ROOT / "var" / "demo-seed.json"
    seed_file.parent.mkdir(exist_ok=True)
    seed_file.write_text(json.dumps(seed))
    sku = next(s for s in seed["skus"] if s["stock"] > 0)
    print(
        f"  channel web key …{seed['channels']['web']['api_key'][-6:]}, SKU {sku['sku']} "
        f"at {sku['price']} centavos"
    )
    headers = {"Authorization": f"Bearer {seed['channels']['web']['api_key']}"}
    with httpx.Client(base_url=RASTRO, headers=headers, timeout=30) as web:
        place_orders(web, sku["sku"])
        refund_and_cancel(web)
        partner_orders(seed_file)
        orders_ok = final_states(web)
    checks = [
        orders_ok,
        trial_balance(seed["finance_token"]),
        audit_verify(seed["auditor_token"]),
        outbox(),
    ]
    psp_charges()
    print("\nDemo " + ("finished: every check passed." if all(checks) else "FAILED (see ✗ above)."))
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
