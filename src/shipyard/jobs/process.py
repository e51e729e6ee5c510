"""The job's own process: started in its own process group, its output pumped into
``output.log`` line by line, stopped with SIGTERM then SIGKILL."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from shipyard.jobs.joblog import JobLog
from shipyard.jobs.stopping import StopSignal

LINE_LIMIT = 1 << 16
STDERR_TAIL = 50
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Ending:
    """How the job's process ended."""

    #: The exit status; 128 + N when signal N killed it (as a shell reports it).
    exit_code: int
    #: The signal's name (``SIGKILL``) when one killed it, else empty.
    signal: str
    #: Whether the runner stopped it (SIGTERM arrived).
    stopped: bool
    #: The last lines it wrote to stderr.
    stderr_tail: list[str]


class UserProcess:
    """Runs ``argv`` with its stdout and stderr going into the job's log."""

    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: Path, log: JobLog, setup: Callable[[], None]) -> None:
        self._log = log
        self._tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        try:
            self._popen = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                # Only async-signal-safe calls (prctl, setrlimit through ctypes/resource, set up
                # before the fork): the runner's other threads hold no lock the child needs.
                preexec_fn=setup,  # noqa: PLW1509
            )
        except OSError as error:
            raise OSError(error.errno, f"cannot run {argv[0]}: {error.strerror}") from error
        self._pumps = [
            threading.Thread(target=self._pump, args=(self._popen.stdout, False), daemon=True, name="stdout"),
            threading.Thread(target=self._pump, args=(self._popen.stderr, True), daemon=True, name="stderr"),
        ]
        for pump in self._pumps:
            pump.start()

    def _pump(self, pipe: IO[bytes], is_stderr: bool) -> None:
        for line in iter(lambda: pipe.readline(LINE_LIMIT), b""):
            self._log.line(line)
            if is_stderr and line.strip():
                self._tail.append(line.decode("utf-8", "replace").rstrip())
        pipe.close()

    def wait(self, stop: StopSignal, grace: float) -> Ending:
        """Wait for the process to end; on a stop request, SIGTERM it, SIGKILL after ``grace`` s."""
        deadline: float | None = None
        while True:
            try:
                code = self._popen.wait(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                pass
            if stop.requested.is_set():
                if deadline is None:
                    self._log.info(f"Stopping the job: SIGTERM, then SIGKILL after {grace:g} seconds")
                    self._signal(signal.SIGTERM)
                    deadline = time.monotonic() + grace
                elif time.monotonic() >= deadline:
                    self._signal(signal.SIGKILL)
        self._signal(signal.SIGKILL)  # what it started and left behind ends with it, as in a container
        for pump in self._pumps:
            pump.join(timeout=5)
        name = signal.Signals(-code).name if code < 0 else ""
        return Ending(128 - code if code < 0 else code, name, stop.requested.is_set(), list(self._tail))

    def _signal(self, number: signal.Signals) -> None:
        try:
            os.killpg(self._popen.pid, number)
        except ProcessLookupError:
            pass
