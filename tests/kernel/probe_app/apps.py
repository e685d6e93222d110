"""Loaded only by the worker and web processes the kernel's fault tests start.

It registers the probe consumer (``retail.platform.tests.probe``) and, when
``KERNEL_FAULT_DIR`` is set, two Celery hooks: every task run is logged to
``<dir>/runs.log`` (``start|done <pid> <task name> <task id>``), and a marker file
``<dir>/kill-after-<task name>`` makes the process that just ran that task SIGKILL itself
after the task's transaction committed but before Celery acks the message (fault 1).
"""

import os
import signal
from pathlib import Path
from typing import Any

from celery.signals import task_postrun, task_prerun
from django.apps import AppConfig


def _runs_log(fault_dir: Path, what: str, task: Any, task_id: str) -> None:
    with (fault_dir / "runs.log").open("a") as runs:
        runs.write(f"{what} {os.getpid()} {task.name} {task_id}\n")


def _on_prerun(sender: Any = None, task_id: str = "", **_: Any) -> None:
    _runs_log(Path(os.environ["KERNEL_FAULT_DIR"]), "start", sender, task_id)


def _on_postrun(sender: Any = None, task_id: str = "", **_: Any) -> None:
    fault_dir = Path(os.environ["KERNEL_FAULT_DIR"])
    _runs_log(fault_dir, "done", sender, task_id)
    marker = fault_dir / f"kill-after-{sender.name}"
    try:
        marker.unlink()  # first: the redelivered run must survive
    except FileNotFoundError:
        return
    _runs_log(fault_dir, "killed", sender, task_id)
    os.kill(os.getpid(), signal.SIGKILL)


class ProbeAppConfig(AppConfig):
    name = "tests.kernel.probe_app"
    label = "kernel_probe"

    def ready(self) -> None:
        import retail.platform.tests.probe  # noqa: F401 - registers the probe consumer

        if os.environ.get("KERNEL_FAULT_DIR"):
            task_prerun.connect(_on_prerun, weak=False)
            task_postrun.connect(_on_postrun, weak=False)
