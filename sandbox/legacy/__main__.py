"""``python -m sandbox.legacy``: run the legacy monolith stand-in."""

from __future__ import annotations

import argparse
import logging
import sys

from sandbox.legacy.server import make_server
from sandbox.legacy.store import Store
from sandbox.serving import serve_until_stopped

log = logging.getLogger("sandbox.legacy")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.legacy", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090, help="0 picks a free port (printed)")
    parser.add_argument("--db", default=":memory:", help="SQLite file; in memory by default")
    args = parser.parse_args(argv)

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s legacy %(message)s"
    )
    server = make_server(args.host, args.port, Store(args.db))
    host, port = server.server_address[:2]
    # The first line on stdout is the address: tests that start us on port 0 read it.
    print(f"listening on http://{host}:{port}", flush=True)
    serve_until_stopped(server)


if __name__ == "__main__":
    main()
