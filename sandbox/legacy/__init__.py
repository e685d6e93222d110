"""Stand-in for the legacy monolith: ``python -m sandbox.legacy --port 8090``.

A separate process on the standard library only, with its own SQLite store. It serves HTML
pages under ``/legacy/`` (cookie login, redirects), ``/legacy/echo`` (what it received),
``/legacy/download`` (a streamed body), ``/legacy/hop-by-hop`` (hop-by-hop response headers),
and its own ``/api/v1/products/`` and ``/api/v1/orders/``. Fault switches, per request as
query parameters or for every request through ``/__control``:

- ``legacy_delay=SECONDS``: wait before answering;
- ``legacy_fail=STATUS``: answer with that status; ``legacy_fail=drop``: close the connection
  without answering; ``legacy_drop_once=KEY``: drop only the first request carrying KEY;
- ``legacy_stall=SECONDS`` (downloads): send the headers and the first chunk, then stall.

``POST /__control`` with ``{"delay_s": 1.5, "fail": 503 | "drop" | null}`` sets the global
switches, ``GET /__control`` shows them. Never imports Rastro's code.
"""
