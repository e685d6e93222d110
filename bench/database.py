"""The benchmark's own database, ``rastro_bench`` next to the configured one, new for each run."""

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


def bench_database_create(env: dict[str, str]) -> None:
    """``rastro_bench`` created afresh and migrated with the bench settings: a run never starts
    with a previous run's backlog (outbox events whose consumers are gone) or stock levels."""
    server = urlparse(bench_database_url())._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True
    )
