"""SIGTERM, as the runner handles it: the job is stopped, and what it saved is kept."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from shipyard.jobs.errors import StopRequested
from shipyard.jobs.joblog import JobLog


class StopSignal:
    """Records the stop request (and its ``Stopping`` event) once.

    Inside :meth:`interrupting` (while inputs download, code is fetched...) the request
    also raises :class:`StopRequested` right away; elsewhere the runner polls ``requested``.
    """

    def __init__(self, log: JobLog, message: str) -> None:
        self._log = log
        self._message = message
        self.requested = threading.Event()
        self._interrupt = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested.is_set():
            return
        self.requested.set()
        self._log.event("Stopping", self._message)
        self._log.info("Received SIGTERM: stopping the job")
        if self._interrupt:
            raise StopRequested()

    @contextmanager
    def interrupting(self) -> Iterator[None]:
        """A block that a stop request ends at once with :class:`StopRequested`."""
        if self.requested.is_set():
            raise StopRequested()
        self._interrupt = True
        try:
            yield
        finally:
            self._interrupt = False
