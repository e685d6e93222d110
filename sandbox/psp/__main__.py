"""``python -m sandbox.psp``: run the PSP stand-in."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from sandbox.psp.engine import Engine
from sandbox.psp.server import make_server
from sandbox.psp.store import Store
from sandbox.serving import serve_until_stopped
from sandbox.signing import DEFAULT_PSP_SECRET, secret_key

log = logging.getLogger("sandbox.psp")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.psp",
        description="Stand-in PSP. Webhook secret from PSP_WEBHOOK_SECRET (whsec_<base64>).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091, help="0 picks a free port (logged)")
    parser.add_argument(
        "--storm",
        action="store_true",
        help="deliver every webhook 3 times, late (up to 2 s) and out of order",
    )
    parser.add_argument("--data-dir", default="var/psp", help="where its records are kept")
    args = parser.parse_args(argv)
    secret = os.environ.get("PSP_WEBHOOK_SECRET", DEFAULT_PSP_SECRET)
    try:
        secret_key(secret)
    except ValueError as exc:
        parser.error(f"PSP_WEBHOOK_SECRET: {exc}")

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s psp %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    engine = Engine(Store(Path(args.data_dir)), secret, storm=args.storm)
    server = make_server(args.host, args.port, engine)
    host, port = server.server_address[:2]
    log.info(
        "listening on http://%s:%s storm=%s data-dir=%s", host, port, args.storm, args.data_dir
    )
    engine.resume()
    serve_until_stopped(server)


if __name__ == "__main__":
    main()
