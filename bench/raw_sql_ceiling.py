"""The raw-SQL checkout ceiling (bench/ceiling/README.md) on ``rastro_bench``: pgbench runs
``checkout.sql``; its transactions/s go to the ``ceiling`` key of ``bench-report.json``.

The Django checkout load that is compared with it (``checkout_per_s / ceiling_tps``) is the
``checkout`` step of ``make bench``; it lands with the checkout issue.
"""

import json
import os
import subprocess
from pathlib import Path

from bench.database import bench_database_create, bench_database_url
from bench.report import report_merge

SCRIPT = Path(__file__).resolve().parent / "ceiling" / "ceiling.sh"


def main() -> None:
    url = bench_database_url()
    bench_database_create({**os.environ, "DATABASE_URL": url, "STRANGLER_ENABLED": "false"})
    clients = os.environ.get("CEILING_CLIENTS", "4")
    seconds = os.environ.get("CEILING_SECONDS", "15")
    line = subprocess.run(  # noqa: S603 - our script, our arguments
        ["bash", str(SCRIPT), url, clients, seconds],  # noqa: S607 - bash from PATH
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    result = json.loads(line)
    print(json.dumps({"ceiling": result}, indent=2))
    report_merge("ceiling", result)


if __name__ == "__main__":
    main()
