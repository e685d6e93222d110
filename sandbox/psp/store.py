"""The PSP's own books: one JSON file, rewritten atomically (temp file + os.replace).

Every change is on disk before the request that made it is answered. Writes are grouped:
callers that commit while a write is running share the next one, so a busy PSP writes the
file a few dozen times a second, not once per request.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

STATE_FILE = "psp-state.json"


class Store:
    """State in memory, guarded by ``lock``; ``commit()`` makes the last changes durable."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / STATE_FILE
        data_dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        saved = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.charges: dict[str, dict[str, Any]] = saved.get("charges", {})  # by payment_id
        self.refunds: dict[str, dict[str, Any]] = saved.get("refunds", {})  # by refund_id
        # POST /payments received per payment_id, the failed ones included
        self.requests: dict[str, int] = saved.get("requests", {})
        # Idempotency-Key -> {"fingerprint", "status", "body"}
        self.keys: dict[str, dict[str, Any]] = saved.get("keys", {})
        # webhook_id -> {"url", "body"}, until delivered or given up
        self.outbox: dict[str, dict[str, str]] = saved.get("outbox", {})
        self._flush = threading.Condition()
        self._requested = 0
        self._written = 0
        self._failure: OSError | None = None
        threading.Thread(target=self._writer, name="psp-store-writer", daemon=True).start()

    def commit(self) -> None:
        """Block until a snapshot taken after this call is on disk."""
        with self._flush:
            self._requested += 1
            wanted = self._requested
            self._flush.notify_all()
            while self._written < wanted:
                self._flush.wait()
            if self._failure is not None:
                raise self._failure

    def _writer(self) -> None:
        while True:
            with self._flush:
                while self._written >= self._requested:
                    self._flush.wait()
                target = self._requested
            with self.lock:
                snapshot = json.dumps(
                    {
                        "charges": self.charges,
                        "refunds": self.refunds,
                        "requests": self.requests,
                        "keys": self.keys,
                        "outbox": self.outbox,
                    }
                )
            try:
                self._write(snapshot)
                failure = None
            except OSError as exc:
                failure = exc
            with self._flush:
                self._failure = failure
                self._written = target
                self._flush.notify_all()

    def _write(self, text: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".psp-state-", dir=self.path.parent)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
