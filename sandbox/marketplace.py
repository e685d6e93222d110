"""``python -m sandbox.marketplace``: a marketplace partner sending its orders as signed webhooks.

Each order has a valid random CPF and a total at base prices. ``--duplicates K`` sends K orders
again, racing their first delivery: half as a redelivery of the same message (same
``webhook-id``), half as a new message about the same ``external_order_id``. Busy (409/429),
failing (5xx) or unreachable targets are retried. Prints a JSON summary on stdout; exit 0 when
every delivery ended in a 2xx.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import secrets
import sys
import time
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.signing import is_final, new_message_id, secret_key, signed_headers

log = logging.getLogger("sandbox.marketplace")

RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0)
FIRST_NAMES = ("Ana", "João", "Maria", "José", "Francisca", "Antônio", "Luíza", "Carlos")
LAST_NAMES = ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Ferreira", "Araújo")


@dataclass(frozen=True)
class Delivery:
    external_order_id: str
    webhook_id: str
    body: bytes
    kind: str  # "order", "redelivery" (same webhook-id) or "resend" (new webhook-id)


def random_cpf(rng: random.Random) -> str:
    """A CPF with correct check digits, as 11 digits or as ``123.456.789-09``."""
    while len(set(digits := [rng.randrange(10) for _ in range(9)])) == 1:
        pass  # 000.000.000-00 and the like are valid by arithmetic but rejected everywhere
    digits.append(cpf_check_digit(digits))
    digits.append(cpf_check_digit(digits))
    text = "".join(map(str, digits))
    if rng.random() < 0.5:
        return text
    return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"


def cpf_check_digit(digits: list[int]) -> int:
    weights = range(len(digits) + 1, 1, -1)
    remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) * 10 % 11
    return 0 if remainder == 10 else remainder


def make_order(
    rng: random.Random, external_order_id: str, prices: dict[str, int]
) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    mailbox = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    skus = rng.sample(sorted(prices), k=rng.randint(1, min(3, len(prices))))
    quantities = {sku: rng.randint(1, 3) for sku in skus}
    return {
        "external_order_id": external_order_id,
        "customer": {
            "name": f"{first} {last}",
            "email": f"{mailbox.lower()}.{rng.randrange(10_000)}@example.com",
            "cpf": random_cpf(rng),
        },
        "lines": [{"sku": sku, "quantity": n} for sku, n in quantities.items()],
        "total": sum(n * prices[sku] for sku, n in quantities.items()),
    }


def plan(orders: list[dict[str, Any]], duplicates: int, rng: random.Random) -> list[Delivery]:
    """Every order once, each duplicate right behind its order so that they race."""
    repeated = Counter(rng.randrange(len(orders)) for _ in range(duplicates)) if orders else {}
    deliveries: list[Delivery] = []
    sent_again = 0
    for index, order in enumerate(orders):
        first = Delivery(
            order["external_order_id"], new_message_id(), json.dumps(order).encode(), "order"
        )
        deliveries.append(first)
        for _ in range(repeated.get(index, 0)):
            same_message = sent_again % 2 == 0
            webhook_id = first.webhook_id if same_message else new_message_id()
            kind = "redelivery" if same_message else "resend"
            deliveries.append(Delivery(first.external_order_id, webhook_id, first.body, kind))
            sent_again += 1
    return deliveries


class Sender:
    def __init__(self, target: str, secret: str) -> None:
        self.target = target
        self.secret = secret
        self.client = httpx.Client(timeout=httpx.Timeout(10.0))
        self.answers: Counter[str] = Counter()  # every answer, retried ones included

    def send(self, delivery: Delivery) -> str:
        """Deliver until a final answer or out of retries; returns the last status."""
        outcome = "unsent"
        for attempt, backoff in enumerate((*RETRY_DELAYS, None), start=1):
            headers = signed_headers(self.secret, delivery.webhook_id, delivery.body)
            try:
                status: int | None = self.client.post(
                    self.target, content=delivery.body, headers=headers
                ).status_code
                outcome = str(status)
            except httpx.HTTPError as exc:
                status, outcome = None, type(exc).__name__
            self.answers[outcome] += 1
            log.info(
                "%s %s %s -> %s (attempt %d)",
                delivery.external_order_id,
                delivery.kind,
                delivery.webhook_id,
                outcome,
                attempt,
            )
            if is_final(status) or backoff is None:
                return outcome
            time.sleep(backoff)
        return outcome


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, str, dict[str, int]]:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.marketplace",
        description="Send signed marketplace partner orders (duplicates included) to Rastro.",
    )
    parser.add_argument(
        "--target", required=True, help="e.g. http://127.0.0.1:8000/webhooks/marketplace/acme/"
    )
    parser.add_argument("--partner", default="acme", help="whose secret to take from --seed")
    parser.add_argument("--secret", help="the partner's whsec_… secret (default: from --seed)")
    parser.add_argument("--seed", help="JSON printed by `manage.py seed_demo --json` ('-' = stdin)")
    parser.add_argument("--skus", help="SKU:PRICE,… in centavos (default: from --seed)")
    parser.add_argument("--count", type=int, default=10, help="orders to send")
    parser.add_argument("--duplicates", type=int, default=4, help="extra deliveries of them")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    seed: dict[str, Any] = {}
    if args.seed:
        with sys.stdin if args.seed == "-" else open(args.seed) as f:
            seed = json.load(f)
    secret = args.secret or seed.get("partners", {}).get(args.partner, {}).get("webhook_secret")
    try:
        prices = parse_skus(args.skus) if args.skus else seed_prices(seed)
    except ValueError:
        parser.error("--skus looks like SKU-1:1990,SKU-2:500 (prices in centavos)")
    if not secret or not prices:
        parser.error("give --seed, or --secret and --skus")
    try:
        secret_key(secret)
    except ValueError as exc:
        parser.error(f"--secret: {exc}")
    if args.count < 0 or args.duplicates < 0 or args.concurrency < 1:
        parser.error("--count and --duplicates must be ≥ 0, --concurrency ≥ 1")
    return args, secret, prices


def parse_skus(text: str) -> dict[str, int]:
    pairs = (item.rpartition(":") for item in text.split(","))
    return {sku: int(price) for sku, _, price in pairs if sku}


def seed_prices(seed: dict[str, Any]) -> dict[str, int]:
    return {s["sku"]: int(s["price"]) for s in seed.get("skus", []) if s.get("stock", 1) > 0}


def main(argv: list[str] | None = None) -> int:
    args, secret, prices = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s marketplace %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    rng = random.Random()
    run = secrets.token_hex(3)
    orders = [
        make_order(rng, f"{args.partner}-{run}-{n:05d}", prices) for n in range(1, args.count + 1)
    ]
    deliveries = plan(orders, args.duplicates, rng)
    sender = Sender(args.target, secret)
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        final = Counter(pool.map(sender.send, deliveries))
    summary = {
        "orders": len(orders),
        "deliveries": len(deliveries),
        "final": dict(sorted(final.items())),
        "statuses": dict(sorted(sender.answers.items())),
    }
    print(json.dumps(summary))
    return 0 if all(status.startswith("2") for status in final) else 1


if __name__ == "__main__":
    sys.exit(main())
