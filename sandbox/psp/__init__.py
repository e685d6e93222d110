"""Stand-in payment service provider: ``python -m sandbox.psp --port 8091 [--storm]``.

Takes payments and refunds over HTTP, answers at once, and reports the outcome later with
Standard Webhooks-signed callbacks. Tokens: ``tok_ok``, ``tok_declined``, ``tok_slow``,
``tok_flaky`` (see docs/sandbox.md).
"""
