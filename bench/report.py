"""``bench-report.json`` at the repository root: each benchmark merges its own key into it."""

import json
from pathlib import Path
from typing import Any

REPORT = Path(__file__).resolve().parents[1] / "bench-report.json"


def report_merge(key: str, result: dict[str, Any]) -> None:
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    report[key] = result
    REPORT.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
