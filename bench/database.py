"""The benchmark's own database, ``rastro_bench`` next to the configured one, created on demand."""

import os
import subprocess
import sys
from urllib.parse import urlparse

import psycopg

from bench.report import REPORT

BENCH_DATABASE = "rastro_bench"
REPO = REPORT.parent


def bench_database_url() -> str:
    configured = urlparse(os.environ.get("DATABASE_URL", "postgres://localhost:5432/rastro"))
    return configured._replace(path=f"/{BENCH_DATABASE}").geturl()


def bench_database_ensure(env: dict[str, str]) -> None:
    """Create ``rastro_bench`` if missing and migrate it with the bench settings."""
    server = urlparse(bench_database_url())._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DATABASE]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True
    )
