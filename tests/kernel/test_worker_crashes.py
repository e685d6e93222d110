"""Faults 1 and 2: a relay worker process SIGKILLed after or before its transaction committed."""

import os
import signal
import time

import pytest

from retail.platform.models import OutboxMessage
from retail.platform.outbox import RELAY_DRAIN_TASK
from retail.platform.tests.probe import ProbeHappened, effects
from tests.kernel.expect import assert_exactly_once_in_order, emit_committed, wait_all_delivered
from tests.kernel.procs import wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]


def redelivered(kernel, task_id: str, killed_pid: int) -> bool:
    """The same message ran to the end in another process: Celery requeued it (acks_late)."""
    return any(
        what == "done" and tid == task_id and pid != killed_pid
        for what, pid, tid in kernel.runs(RELAY_DRAIN_TASK)
    )


def test_killed_after_commit_before_ack_the_task_is_redelivered_with_no_second_effect(kernel):
    """Fault 1."""
    kernel.worker()
    kernel.kill_after(RELAY_DRAIN_TASK)
    emit_committed(
        *(ProbeHappened(aggregate_id=f"k{a}", position=p) for p in range(3) for a in range(10))
    )
    _, killed_pid, task_id = wait_for(
        lambda: next((r for r in kernel.runs(RELAY_DRAIN_TASK) if r[0] == "killed"), None),
        what="the worker to kill itself after the relay task",
    )
    assert len(effects()) == 30  # everything committed before the kill
    wait_for(lambda: redelivered(kernel, task_id, killed_pid), what="the redelivery")
    wait_all_delivered()
    assert_exactly_once_in_order()


def test_killed_mid_task_before_commit_the_event_is_applied_once_after_redelivery(kernel):
    """Fault 2: the child dies inside the handler; its transaction never commits."""
    kernel.worker()
    emit_committed(
        ProbeHappened(aggregate_id="slow", position=0, sleep_s=2.0),
        ProbeHappened(aggregate_id="slow", position=1),
        ProbeHappened(aggregate_id="other", position=0),
    )
    _, pid, task_id = wait_for(
        lambda: next(iter(kernel.runs(RELAY_DRAIN_TASK)), None), what="the relay task to start"
    )
    time.sleep(0.7)  # well inside the 2 s handler
    assert effects() == []
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: redelivered(kernel, task_id, pid), what="the redelivery", timeout=30)
    wait_all_delivered()
    assert_exactly_once_in_order()
    # the killed attempt left no trace: each event counted one successful attempt
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
