"""``python -m shipyard.serving.worker <instance dir>``: the model server of one endpoint instance.

In order: take over the log (fd 1 and 2 into ``output.log``), pin to the instance's CPUs,
download every container's model data and code, switch to the virtualenv of the code's
``requirements.txt`` (re-executing the worker in it), load the containers, then serve
SageMaker's contract on ``127.0.0.1:<port>`` until SIGTERM (in-flight requests finish,
for at most 5 seconds; exit 0). A model that cannot be loaded ends the worker with exit
code 1, its traceback in the log and the reason in ``failure``, also the log's last line.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import traceback
from pathlib import Path

from shipyard.jobs.errors import ClientError
from shipyard.jobs.isolation import pin_cpus
from shipyard.jobs.joblog import JobLog
from shipyard.jobs.s3 import S3
from shipyard.jobs.spec import RLIMIT_SWITCH
from shipyard.jobs.venvs import cached_venv
from shipyard.serving import containers
from shipyard.serving.failures import LoadError, read_failure, write_failure
from shipyard.serving.invocation import Container
from shipyard.serving.pipeline import Pipeline
from shipyard.serving.spec import OUTPUT_LOG, WorkerSpec

#: The argument a worker re-executed in its code's virtualenv gets: the files are in place.
FETCHED = "--fetched"
#: Seconds in-flight requests get to finish after SIGTERM.
STOP_GRACE = 5
VENVS = "venvs"


def say(message: str) -> None:
    """One line of the worker's own in the log (which becomes the endpoint's)."""
    print(f"[shipyard] {message}", flush=True)


def take_output(instance_dir: Path) -> None:
    """Send fd 1 and 2 (this process's and its children's) to ``output.log``, line-buffered."""
    log = os.open(instance_dir / OUTPUT_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]


def limit_memory(spec: WorkerSpec) -> None:
    """Cap the address space at the instance's memory when the executor asks for it (no cgroup)."""
    if os.environ.get(RLIMIT_SWITCH) == "1":
        limit = spec.resources.memory_mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def fetch(spec: WorkerSpec, instance_dir: Path) -> Path | None:
    """Download every container's files; the virtualenv their requirements need, if any."""
    s3 = S3(spec)
    for index, container in enumerate(spec.containers):
        if container.model_data_url:
            say(f"Downloading the model data of container {index} from {container.model_data_url}")
        containers.fetch(container, instance_dir, index, s3)
    wanted = [
        path for index, container in enumerate(spec.containers)
        if (path := containers.requirements(container, instance_dir, index)) is not None
    ]
    if not wanted:
        return None
    combined = instance_dir / containers.REQUIREMENTS
    combined.write_text("\n".join(path.read_text() for path in wanted))
    try:
        return cached_venv(combined, Path(spec.venv_cache or instance_dir / VENVS), JobLog(instance_dir))
    except ClientError as error:
        raise LoadError(str(error).removeprefix("ClientError: ")) from None


def load(spec: WorkerSpec, instance_dir: Path) -> Pipeline:
    """Load every container (closing those loaded when a later one fails)."""
    loaded: list[Container] = []
    try:
        for index, container in enumerate(spec.containers):
            say(f"Loading container {index} ({container.image.uri})")
            loaded.append(containers.load(container, instance_dir, index, spec.resources))
    except BaseException:
        for container in loaded:
            container.close()
        raise
    hostnames = [container.hostname or str(index) for index, container in enumerate(spec.containers)]
    return Pipeline(spec.mode, loaded, hostnames)


def serve(pipeline: Pipeline, port: int) -> None:
    """Serve until SIGTERM or SIGINT."""
    import uvicorn

    from shipyard.serving.model_server import ModelServer

    config = uvicorn.Config(
        ModelServer(pipeline),
        host="127.0.0.1",
        port=port,
        loop="auto",
        http="auto",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=STOP_GRACE,
    )
    # uvicorn stops on SIGTERM/SIGINT, puts back the handlers it found and raises the signal
    # again: with no-op handlers there, a stop ends in exit status 0.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: None)
    say(f"Listening on http://127.0.0.1:{port}")
    try:
        uvicorn.Server(config).run()
    finally:
        pipeline.close()
    say("Stopped")


def run(instance_dir: Path, fetched: bool) -> int:
    """Be the worker of ``instance_dir``; the exit status."""
    spec = WorkerSpec.read(instance_dir)
    # OpenMP threads that spin between requests (XGBoost's, LightGBM's) take the CPU from the
    # server and the other instances; a container's Environment may still say otherwise.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    take_output(instance_dir)
    say(f"Starting the model server of {spec.endpoint_name}, variant {spec.variant_name}, instance {spec.instance_id}")
    if note := pin_cpus(spec.resources):
        say(f"Note: {note}")
    limit_memory(spec)
    try:
        if not fetched and (venv := fetch(spec, instance_dir)) is not None:
            say(f"Restarting in the virtualenv {venv}")
            python = str(venv / "bin" / "python")
            os.execv(python, [python, "-m", "shipyard.serving.worker", str(instance_dir), FETCHED])
        pipeline = load(spec, instance_dir)
    except LoadError as error:
        return fail(instance_dir, str(error))
    except Exception as error:  # noqa: BLE001 - whatever the model's code raises is its failure
        traceback.print_exc()
        return fail(instance_dir, f"The model failed to load: {type(error).__name__}: {error}")
    say("Loaded")
    try:
        serve(pipeline, spec.port)
    except SystemExit:
        # uvicorn's way to give up when it cannot bind (it has logged why).
        return fail(instance_dir, f"The model server could not listen on 127.0.0.1:{spec.port}.")
    return 0


def fail(instance_dir: Path, reason: str) -> int:
    """Write ``reason`` as the log's last line and the ``failure`` file; exit status 1."""
    write_failure(instance_dir, reason)
    say(f"Failed: {read_failure(instance_dir)}")
    return 1


def main(argv: list[str]) -> int:
    if len(argv) == 1 or (len(argv) == 2 and argv[1] == FETCHED):
        return run(Path(argv[0]).resolve(), fetched=len(argv) == 2)
    print(f"usage: python -m shipyard.serving.worker <instance dir> [{FETCHED}]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Not sys.exit: a request stuck in the model's code holds a thread that would keep the
    # interpreter from exiting after the server stopped.
    os._exit(status)
