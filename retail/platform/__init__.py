"""Platform context.

The cross-cutting kernel: problem+json errors, prefixed ids, money, request ids and
structured logs, health checks; the event kernel (idempotency keys, outbox, relay, inbox,
webhook signatures) lives here too. It owns no business rule and imports no other context.
"""
