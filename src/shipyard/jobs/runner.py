"""``python -m shipyard.jobs.runner <host dir>``: run one host of a job, then write its result.

The order matters: the mount namespace is made before any thread starts, the SIGTERM
handler is in place before the job's code can run, and ``result.json`` is written last
(the server takes its presence to mean the runner is done). The exit status is always 0:
how the job ended is in the result.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from shipyard.jobs.context import Job
from shipyard.jobs.isolation import child_setup, isolate, pin_cpus
from shipyard.jobs.joblog import JobLog
from shipyard.jobs.processing import run_processing
from shipyard.jobs.s3 import S3, prewarm
from shipyard.jobs.spec import RUNNER_LOG, SPARE, HostResult, HostSpec, JobKind
from shipyard.jobs.stopping import StopSignal
from shipyard.jobs.training import run_training
from shipyard.jobs.transform import run_transform

INTERNAL_ERROR = "InternalServerError: We encountered an internal error. Please try again."
#: The final event's StatusMessage by job kind and outcome (Failed uses the reason).
FINAL_MESSAGES = {
    "training": {"Completed": "Training job completed", "Stopped": "Training job stopped"},
    "processing": {"Completed": "Processing job completed", "Stopped": "Processing job stopped"},
    "transform": {"Completed": "Transform job completed", "Stopped": "Transform job stopped"},
}
#: What runs a host of each kind of job.
FLOWS: dict[JobKind, Callable[[Job], HostResult]] = {
    "training": run_training,
    "processing": run_processing,
    "transform": run_transform,
}


def wait_as_spare() -> Path | None:
    """Be a spare runner: load what every job needs, then wait for one.

    The executor starts a spare ahead of need; when a job comes it writes one JSON line to
    the spare's stdin, ``{"host_dir": ..., "env": {...}}``: the job's host directory and
    environment variables to add. The spare then becomes that host's runner, with its output
    in the host's ``runner.log``, as if it had been started for it. None when stdin closes
    first (the server went away).
    """
    prewarm()
    line = sys.stdin.readline()
    if not line:
        return None
    order = json.loads(line)
    host_dir = Path(order["host_dir"]).resolve()
    os.environ.update(order.get("env") or {})
    os.chdir(host_dir)
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(host_dir / RUNNER_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    return host_dir


def run(host_dir: Path) -> HostResult:
    """Run the host described by ``host_dir/host.json``; its result (also written there)."""
    spec = HostSpec.read(host_dir)
    ml, notes = isolate(host_dir, spec.hosts)
    log = JobLog(host_dir)
    stop = StopSignal(log, f"Stopping the {spec.kind} job")
    stop.install()
    try:
        if not ml.namespaced:
            log.info(
                f"/opt/ml is not available on this machine ({ml.unavailable}): the job's files are in {ml.path}; "
                "job code must use the SM_* variables"
            )
        for note in [*notes, pin_cpus(spec.resources)]:
            if note:
                log.info(f"Note: {note}")
        job = Job(spec, host_dir, log, stop, ml, S3(spec), child_setup(spec.resources))
        result = FLOWS[spec.kind](job)
    except Exception:
        log.exception("The runner failed")
        result = HostResult("Failed", failure_reason=INTERNAL_ERROR)
    if result.outcome == "Failed":
        log.info(f"Failed: {result.failure_reason}")
    log.event(result.outcome, FINAL_MESSAGES[spec.kind].get(result.outcome) or result.failure_reason)
    result.write(host_dir)
    return result


def main(argv: list[str]) -> int:
    if argv == [SPARE]:
        host_dir = wait_as_spare()
        if host_dir is None:
            return 0
    elif len(argv) == 1:
        host_dir = Path(argv[0]).resolve()
    else:
        print(f"usage: python -m shipyard.jobs.runner <host dir> | {SPARE}", file=sys.stderr)
        return 2
    try:
        run(host_dir)
    except Exception:
        # No spec or no log to report through (an unreadable host.json): still end with a result.
        HostResult("Failed", failure_reason=INTERNAL_ERROR).write(host_dir)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
