"""Where the CPU of an order goes (``make profile``): py-spy on live processes, not a guess.

The bench's layout (``bench.checkout``) on a database grown to ``BENCH_PROFILE_ORDERS`` past
orders (1,000); ``BENCH_GROWTH_ORDERS`` orders at ``BENCH_GROWTH_RATE``/s while py-spy samples
gunicorn, the core worker and the side-lane worker (GIL holders only: CPU, not waits on
PostgreSQL). Writes one flame graph per process kind under ``var/profile/``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench import checkout, growth
from bench.database import REPO

ORDERS = int(os.environ.get("BENCH_PROFILE_ORDERS", 1_000))
SAMPLES_PER_S = 200
OUT = REPO / "var" / "profile"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with checkout.outside("rastro-profile-") as world:
        seed, _ = checkout.database_grown(world.env, ORDERS)
        with checkout.serving(world) as roots:
            app = checkout.App(f"http://127.0.0.1:{world.port}", seed, None)
            app.send(growth.WARM_UP_ORDERS, "new")
            growth.wait_idle(roots, world.env["DATABASE_URL"])
            seconds = growth.ORDERS / growth.RATE_PER_S + 10
            spies = [
                _spy(pid, OUT / f"{kind}-{number}.svg", seconds)
                for kind, pids in roots.items()
                if kind != "psp"
                for number, pid in enumerate(pids)
            ]
            app.send(growth.ORDERS, "new")
            for spy in spies:
                spy.wait()
    print(f"flame graphs in {OUT}: gunicorn-0, celery-0 (core worker), celery-1 (side lanes)")


def _spy(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    command = [
        str(REPO / ".venv" / "bin" / "py-spy"), "record", "--pid", str(pid), "--subprocesses",
        "--gil", "--rate", str(SAMPLES_PER_S), "--duration", str(int(seconds)),
        "--output", str(out),
    ]  # fmt: skip
    return subprocess.Popen(  # noqa: S603 - our tool, our arguments
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


if __name__ == "__main__":
    main()
