"""``python -m shipyard.jobs.runner <host dir>``: run one host of a job, then write its result.

The order matters: the mount namespace is made before any thread starts, the SIGTERM
handler is in place before the job's code can run, and ``result.json`` is written last
(the server takes its presence to mean the runner is done). The exit status is always 0:
how the job ended is in the result.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shipyard.jobs.context import Job
from shipyard.jobs.isolation import child_setup, isolate, pin_cpus
from shipyard.jobs.joblog import JobLog
from shipyard.jobs.processing import run_processing
from shipyard.jobs.s3 import S3
from shipyard.jobs.spec import HostResult, HostSpec
from shipyard.jobs.stopping import StopSignal
from shipyard.jobs.training import run_training

INTERNAL_ERROR = "InternalServerError: We encountered an internal error. Please try again."
#: The final event's StatusMessage by job kind and outcome (Failed uses the reason).
FINAL_MESSAGES = {
    "training": {"Completed": "Training job completed", "Stopped": "Training job stopped"},
    "processing": {"Completed": "Processing job completed", "Stopped": "Processing job stopped"},
}


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
        result = run_processing(job) if spec.kind == "processing" else run_training(job)
    except Exception:
        log.exception("The runner failed")
        result = HostResult("Failed", failure_reason=INTERNAL_ERROR)
    if result.outcome == "Failed":
        log.info(f"Failed: {result.failure_reason}")
    log.event(result.outcome, FINAL_MESSAGES[spec.kind].get(result.outcome) or result.failure_reason)
    result.write(host_dir)
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m shipyard.jobs.runner <host dir>", file=sys.stderr)
        return 2
    host_dir = Path(argv[0]).resolve()
    try:
        run(host_dir)
    except Exception:
        # No spec or no log to report through (an unreadable host.json): still end with a result.
        HostResult("Failed", failure_reason=INTERNAL_ERROR).write(host_dir)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
