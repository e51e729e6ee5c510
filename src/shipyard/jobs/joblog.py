"""The runner's two append-only outputs: ``output.log`` and ``events.jsonl``."""

from __future__ import annotations

import json
import threading
import time
import traceback
from pathlib import Path

from shipyard.jobs.spec import EVENTS, OUTPUT_LOG


class JobLog:
    """Writes the job's output lines and secondary-status events, each line flushed at once.

    Safe to use from several threads, and from a signal handler on the main thread (the lock
    is reentrant, so a handler that interrupts a write cannot deadlock on it).
    """

    def __init__(self, host_dir: Path) -> None:
        self._output = (host_dir / OUTPUT_LOG).open("ab", buffering=0)
        self._events = (host_dir / EVENTS).open("ab", buffering=0)
        self._lock = threading.RLock()

    def line(self, data: bytes) -> None:
        """Append one line the job printed (a newline is added when missing)."""
        if not data.endswith(b"\n"):
            data += b"\n"
        with self._lock:
            self._output.write(data)

    def info(self, message: str) -> None:
        """Append one of the runner's own messages, marked as such."""
        for text in message.rstrip("\n").splitlines() or [""]:
            self.line(f"[shipyard] {text}".encode())

    def exception(self, message: str) -> None:
        """Append ``message`` and the traceback of the exception being handled."""
        self.info(f"{message}\n{traceback.format_exc()}")

    def event(self, status: str, message: str) -> None:
        """Append a secondary-status change to ``events.jsonl``."""
        record = {"time": time.time(), "status": status, "message": message}
        with self._lock:
            self._events.write((json.dumps(record) + "\n").encode())
