"""``docs/performance.png`` from ``bench-report.json`` (``make bench``, after the checkout load):
checkout p99 and order→paid p50/p99 against the offered rate of the open-loop steps."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # after choosing the backend

from bench.database import REPO
from bench.report import REPORT
from bench.steps import HELD_P99_MS

CHART = REPO / "docs" / "performance.png"


def main() -> None:
    report = json.loads(REPORT.read_text())
    steps = report["checkout"]["steps"]
    offered = [step["offered_per_s"] for step in steps]
    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=110)
    series = (
        ("latency_p99_ms", "checkout p99", "o-"),
        ("order_to_paid_p50_ms", "order→paid p50", "s--"),
        ("order_to_paid_p99_ms", "order→paid p99", "s-"),
    )
    for key, label, style in series:
        axis.plot(offered, [step[key] for step in steps], style, label=label)
    axis.axhline(HELD_P99_MS, color="grey", linewidth=0.8, linestyle=":")
    axis.annotate("checkout p99 target", (offered[0], HELD_P99_MS), fontsize=8, color="grey")
    axis.set_yscale("log")
    axis.set_xlabel("offered orders/s (open loop, 20 % reads, 5 % replays)")
    axis.set_ylabel("ms (log scale)")
    existing = report["checkout"].get("existing_orders", 0)
    axis.set_title(f"Rastro on 2 cores, {existing:,} past orders: latency against load")
    axis.grid(True, which="both", linewidth=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(CHART)
    print(f"chart: {CHART.relative_to(REPO)}")


if __name__ == "__main__":
    main()
