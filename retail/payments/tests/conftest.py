"""Payments fixtures: tasks captured instead of sent, signed PSP webhooks, a real sandbox PSP."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from retail.payments import psp as psp_client
from retail.payments import services
from retail.payments.tests.processes import psp_start
from retail.payments.tests.support import SentTasks, deliver_psp


@pytest.fixture(autouse=True)
def sent_tasks(monkeypatch) -> SentTasks:
    sent = SentTasks()
    monkeypatch.setattr(services, "task_send", lambda *task: sent.append(task))
    return sent


@pytest.fixture
def deliver() -> Callable[..., object]:
    """``deliver(body, webhook_id="msg_1")``: POST it to /webhooks/psp/ signed with our secret."""
    return deliver_psp


@pytest.fixture
def psp_url(tmp_path: Path, settings) -> Iterator[str]:
    """A real ``sandbox.psp`` subprocess; settings.PSP_URL points at it. Yields its URL."""
    process, url = psp_start(tmp_path / "psp", tmp_path / "psp.log", settings.PSP_WEBHOOK_SECRET)
    settings.PSP_URL = url
    psp_client._client.cache_clear()
    yield url
    process.stop()
    psp_client._client.cache_clear()
