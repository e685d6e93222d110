"""The PSP's own books, on disk: a snapshot plus a journal of changes since.

``psp-state.json`` is only ever replaced atomically (temp file + os.replace); every change
is appended to ``psp-journal.jsonl`` (one ``[section, key, value]`` line, ``null`` = removed)
and fsynced before the request that made it is answered. Writes are grouped: callers that
commit while a write runs share the next one. At start, and whenever the journal grows large,
the journal is folded into a new snapshot; a torn last line (a crash mid-write) is ignored.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

SNAPSHOT_FILE = "psp-state.json"
JOURNAL_FILE = "psp-journal.jsonl"
COMPACT_AT_BYTES = 16 * 1024 * 1024
SECTIONS = ("charges", "refunds", "requests", "keys", "outbox")


class Store:
    """State in memory, guarded by ``lock``; ``put`` changes it, ``commit`` makes it durable."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.snapshot_path = data_dir / SNAPSHOT_FILE
        self.journal_path = data_dir / JOURNAL_FILE
        self.lock = threading.RLock()
        self.sections: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
        self._load()
        self.charges: dict[str, dict[str, Any]] = self.sections["charges"]  # by payment_id
        self.refunds: dict[str, dict[str, Any]] = self.sections["refunds"]  # by refund_id
        # POST /payments received per payment_id, the rejected ones included
        self.requests: dict[str, int] = self.sections["requests"]
        # Idempotency-Key -> {"fingerprint", "status", "body"}
        self.keys: dict[str, dict[str, Any]] = self.sections["keys"]
        # webhook_id -> {"url", "body"}, until delivered or given up
        self.outbox: dict[str, dict[str, str]] = self.sections["outbox"]
        self._dirty: set[tuple[str, str]] = set()
        self._flush = threading.Condition()
        self._requested = 0
        self._written = 0
        self._failure: OSError | None = None
        self._compact()
        self.journal = self.journal_path.open("a")
        threading.Thread(target=self._writer, name="psp-store-writer", daemon=True).start()

    def put(self, section: str, key: str, value: Any) -> None:
        """Set (or with ``None`` remove) one entry; call with ``lock`` held."""
        if value is None:
            self.sections[section].pop(key, None)
        else:
            self.sections[section][key] = value
        self._dirty.add((section, key))

    def commit(self, wait: bool = True) -> None:
        """Block until the changes made before this call are on disk (or only ask for it)."""
        with self._flush:
            self._requested += 1
            wanted = self._requested
            self._flush.notify_all()
            while wait and self._written < wanted:
                self._flush.wait()
            if wait and self._failure is not None:
                raise self._failure

    def _writer(self) -> None:
        while True:
            with self._flush:
                while self._written >= self._requested:
                    self._flush.wait()
                target = self._requested
            with self.lock:
                dirty, self._dirty = self._dirty, set()
                lines = "".join(
                    json.dumps([s, k, self.sections[s].get(k)]) + "\n" for s, k in sorted(dirty)
                )
            try:
                self._append(lines)
                failure = None
            except OSError as exc:
                failure = exc
            with self._flush:
                self._failure = failure
                self._written = target
                self._flush.notify_all()

    def _append(self, lines: str) -> None:
        self.journal.write(lines)
        self.journal.flush()
        os.fsync(self.journal.fileno())
        if self.journal.tell() > COMPACT_AT_BYTES:
            with self.lock:
                self.journal.close()
                self._compact()
                self.journal = self.journal_path.open("a")

    def _load(self) -> None:
        if self.snapshot_path.exists():
            self.sections.update(json.loads(self.snapshot_path.read_text()))
        if not self.journal_path.exists():
            return
        with self.journal_path.open() as journal:
            for line in journal:
                try:
                    section, key, value = json.loads(line)
                except ValueError:
                    break  # the torn tail of a write interrupted by a crash
                if value is None:
                    self.sections[section].pop(key, None)
                else:
                    self.sections[section][key] = value

    def _compact(self) -> None:
        """Fold the journal into a new snapshot, then start an empty journal."""
        fd, tmp = tempfile.mkstemp(prefix=".psp-state-", dir=self.snapshot_path.parent)
        with os.fdopen(fd, "w") as f:
            json.dump(self.sections, f, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.snapshot_path)
        self.journal_path.write_text("")
