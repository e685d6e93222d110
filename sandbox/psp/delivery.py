"""Webhook delivery in background threads: retries with backoff, and the ``--storm`` mode."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import httpx

from sandbox.signing import is_final, signed_headers

log = logging.getLogger("sandbox.psp")

RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)  # seven attempts over about a minute
STORM_COPIES = 3
STORM_MAX_DELAY = 2.0
STORM_HELD_BACK = 0.3  # in a storm the last event's first copy overtakes all earlier events


@dataclass(frozen=True)
class Webhook:
    webhook_id: str  # stable: every delivery of this event carries it
    url: str
    body: str  # the exact JSON sent, byte-identical on every delivery

    @property
    def type(self) -> str:
        return str(json.loads(self.body)["type"])


class Courier:
    """Sends webhooks; calls ``on_finished(webhook_id)`` once no delivery of it remains."""

    def __init__(self, secret: str, storm: bool, on_finished: Callable[[str], None]) -> None:
        self.secret = secret
        self.storm = storm
        self.on_finished = on_finished
        self.client = httpx.Client(
            timeout=httpx.Timeout(5.0), limits=httpx.Limits(max_connections=200)
        )

    def send(self, webhooks: list[Webhook]) -> None:
        """In order, one after the other; in a storm each 3 times, late and out of order."""
        if not webhooks:
            return
        if not self.storm:
            spawn(self._in_order, webhooks)
            return
        for position, webhook in enumerate(webhooks):
            remaining = _Countdown(STORM_COPIES, partial(self.on_finished, webhook.webhook_id))
            for copy in range(STORM_COPIES):
                spawn(self._late, webhook, _storm_delay(position, len(webhooks), copy), remaining)

    def _in_order(self, webhooks: list[Webhook]) -> None:
        for webhook in webhooks:
            self.deliver(webhook)
            self.on_finished(webhook.webhook_id)

    def _late(self, webhook: Webhook, delay: float, remaining: _Countdown) -> None:
        time.sleep(delay)
        self.deliver(webhook)
        remaining.tick()

    def deliver(self, webhook: Webhook) -> None:
        """One delivery: attempts until a final answer or the retry schedule runs out."""
        body = webhook.body.encode()
        for attempt, backoff in enumerate((*RETRY_DELAYS, None), start=1):
            headers = signed_headers(self.secret, webhook.webhook_id, body)
            try:
                status: int | None = self.client.post(
                    webhook.url, content=body, headers=headers
                ).status_code
                outcome = str(status)
            except httpx.HTTPError as exc:
                status, outcome = None, type(exc).__name__
            log.info(
                "webhook %s %s -> %s: %s (attempt %d)",
                webhook.webhook_id,
                webhook.type,
                webhook.url,
                outcome,
                attempt,
            )
            if is_final(status):
                return
            if backoff is None:
                log.warning("webhook %s given up after %d attempts", webhook.webhook_id, attempt)
                return
            time.sleep(backoff)


class _Countdown:
    def __init__(self, count: int, then: Callable[[], None]) -> None:
        self.count = count
        self.then = then
        self.lock = threading.Lock()

    def tick(self) -> None:
        with self.lock:
            self.count -= 1
            done = self.count == 0
        if done:
            self.then()


def _storm_delay(position: int, events: int, copy: int) -> float:
    last = position == events - 1
    if last and copy == 0:
        return 0.0
    if events > 1 and not last:
        return random.uniform(STORM_HELD_BACK, STORM_MAX_DELAY)
    return random.uniform(0.0, STORM_MAX_DELAY)


def spawn(target: Callable[..., None], *args: object) -> None:
    """Run in a daemon thread: the PSP never waits for its background work to stop."""
    threading.Thread(target=target, args=args, daemon=True).start()
