"""Start an endpoint worker for a spec and wait until it answers ``/ping``.

For callers that run a worker themselves rather than through an executor (batch
transform's runner, tests); imports nothing of the server.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from shipyard.jobs.spec import RUNNER_LOG
from shipyard.serving.spec import WorkerSpec

WORKER = (sys.executable, "-m", "shipyard.serving.worker")
POLL_SECONDS = 0.05


class NotReady(Exception):
    """A worker (or a local image's ``serve``) did not come up: it exited, or took too long."""


def start_worker(spec: WorkerSpec, instance_dir: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Write ``spec`` into ``instance_dir`` and start its worker; returns at once.

    The worker's own output before it takes over its logging goes to ``runner.log``;
    ``env`` is its environment (this process's by default).
    """
    instance_dir.mkdir(parents=True, exist_ok=True)
    spec.write(instance_dir)
    with (instance_dir / RUNNER_LOG).open("ab") as log:
        return subprocess.Popen(
            [*WORKER, str(instance_dir)],
            cwd=instance_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
        )


def wait_ready(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``GET <url>/ping`` answers 200; :class:`NotReady` when ``process`` exits
    first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise NotReady(f"the process exited with code {process.returncode} before it answered /ping")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=max(POLL_SECONDS, 1.0)) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise NotReady(f"{url}/ping did not answer 200 within {timeout:g} seconds")
        time.sleep(POLL_SECONDS)
