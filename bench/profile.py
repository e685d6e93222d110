"""Where the CPU of an order goes (``make profile``): py-spy on live processes, not a guess.

The bench's layout (``bench.checkout``) on a database grown to ``BENCH_PROFILE_ORDERS`` past
orders (1,000); ``BENCH_GROWTH_ORDERS`` orders at ``BENCH_GROWTH_RATE``/s while py-spy samples
gunicorn, the core worker and the side-lane worker (GIL holders only: CPU, not waits on
PostgreSQL). Writes one flame graph per process kind under ``var/profile/``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

from bench import checkout, growth
from bench.database import REPO, bench_database_url
from retail.payments.tests.processes import psp_start
from tests.kernel.procs import RedisServer, free_port

ORDERS = int(os.environ.get("BENCH_PROFILE_ORDERS", 1_000))
SAMPLES_PER_S = 200
OUT = REPO / "var" / "profile"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="rastro-profile-"))
    OUT.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(workdir).start()
    psp, psp_url = psp_start(workdir / "psp-data", workdir / "psp.log", checkout.PSP_SECRET)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench_database_url(),
        "REDIS_URL": redis.url,
        "CELERY_BROKER_URL": redis.url,
        "PSP_URL": psp_url,
        "PSP_WEBHOOK_SECRET": checkout.PSP_SECRET,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    try:
        seed, _ = checkout.database_grown(env, ORDERS)
        with checkout.serving(env, workdir, port, psp) as roots:
            app = checkout.App(f"http://127.0.0.1:{port}", seed, None)
            app.send(growth.WARM_UP_ORDERS, "new")
            growth.wait_idle(roots, env["DATABASE_URL"])
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
    finally:
        psp.stop()
        redis.stop()
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
