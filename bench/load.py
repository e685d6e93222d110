"""The checkout load the benches send: order bodies, buyers, client threads on a schedule."""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from sandbox.marketplace import random_cpf

LINES = 3  # lines per order

Buyer = Callable[[random.Random], dict[str, str]]  # the order's "customer"


def new_customer(rng: random.Random) -> dict[str, str]:
    """A customer never seen: a new CPF and e-mail. (One e-mail shared by every buyer would be
    the AML shared-identity case on every order: an alert per order, not a storefront's day.)"""
    email = f"buyer.{rng.getrandbits(48):012x}@example.com"
    return {"name": "Bench Buyer", "email": email, "cpf": random_cpf(rng)}


def order_body(rng: random.Random, skus: list[str], customer: dict[str, str]) -> dict[str, Any]:
    return {
        "customer": customer,
        "lines": [{"sku": sku, "quantity": 1} for sku in rng.sample(skus, LINES)],
        "payment": {"method": "card", "token": "tok_ok"},
        "shipping_address": {
            "street": "Rua A", "number": "1", "city": "São Paulo", "state": "SP",
            "postal_code": "01000-000",
        },
    }  # fmt: skip


def quantiles_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50, p99 and max of ``seconds``, in ms (None when there is nothing to measure)."""
    if len(seconds) < 2:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


class Checkouts:
    """Posts orders with fresh keys; keeps the latency of each 201, the ids of the orders, and
    every other answer as a failure."""

    def __init__(
        self, base_url: str, api_key: str, skus: list[str], buyer: Buyer = new_customer
    ) -> None:
        self.base_url, self.api_key, self.skus, self.buyer = base_url, api_key, skus, buyer
        self.latencies: list[float] = []
        self.order_ids: list[str] = []
        self.failures: list[str] = []

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=30
        )

    def post(self, http: httpx.Client, rng: random.Random, since: float, measure: bool) -> None:
        key, body = uuid.uuid4().hex, order_body(rng, self.skus, self.buyer(rng))
        response = http.post("/api/v1/orders/", json=body, headers={"Idempotency-Key": key})
        if response.status_code != 201:
            self.failures.append(f"{response.status_code} {response.text[:200]}")
        elif measure:
            self.latencies.append(time.monotonic() - since)
            self.order_ids.append(response.json()["id"])
            self.sent(key, body)

    def sent(self, key: str, body: dict[str, Any]) -> None:
        """Hook: an order measured and answered 201."""

    def summary(self, seconds: float) -> dict[str, Any]:
        if self.failures:
            raise SystemExit(
                f"checkout bench: {len(self.failures)} non-201 answers, first: {self.failures[0]}"
            )
        cuts = quantiles_ms(self.latencies)
        return {
            "seconds": seconds,
            "orders": len(self.latencies),
            "orders_per_s": round(len(self.latencies) / seconds, 1),
            **{f"latency_{name}": value for name, value in cuts.items()},
        }


def paced_run(
    offsets: list[float],
    request: Callable[[httpx.Client, random.Random, float, float], None],
    client: Callable[[], httpx.Client],
    clients: int,
    seed: int | None,
) -> None:
    """``clients`` threads make ``request(http, rng, scheduled, offset)`` at ``offsets`` (s from
    now) whatever the answers (open loop). ``seed`` None: other customers on every run."""
    pending = iter(offsets)
    lock = threading.Lock()
    origin = time.monotonic()

    def worker(number: int) -> None:
        rng = random.Random(None if seed is None else seed + number)  # noqa: S311 - load shape
        with client() as http:
            while True:
                with lock:
                    offset = next(pending, None)
                if offset is None:
                    return
                scheduled = origin + offset
                time.sleep(max(0.0, scheduled - time.monotonic()))
                request(http, rng, scheduled, offset)

    run_threads(worker, clients)


def run_threads(target: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
