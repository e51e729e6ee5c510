"""What the server hands a job process, and what the process hands back: plain files.

The server (through an executor) lays out one *host directory* per job host
(``algo-1`` ... ``algo-N``) and starts ``python -m shipyard.jobs.runner <host dir>`` there.
Everything passes through files in that directory, so the same runner works under any
executor (local processes now, Ray later) and the server can re-attach to a runner after
it restarts::

    <host dir>/
      host.json      HostSpec, written by the server before the start (read-only after)
      runner.log     the runner's own output (a crash's traceback), not the job's
      opt_ml/        the job's /opt/ml tree (bind-mounted on /opt/ml where the OS allows)
      output.log     what the job printed (stdout and stderr, line by line) and the
                     runner's own messages; the server tails it into CloudWatch Logs
      events.jsonl   one JSON object per line: {"time": <epoch s>, "status": <secondary
                     status>, "message": <StatusMessage>}; appended by the runner
      result.json    written once, last, by the runner: a HostResult

The runner is the only writer of output.log, events.jsonl and result.json; the server
only reads them. A runner that died without result.json failed (killed, out of memory).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

HOST_SPEC = "host.json"
#: The runner's own output (its crashes); the job's output is in OUTPUT_LOG.
RUNNER_LOG = "runner.log"
#: The runner's argument to start as a spare, waiting for a job on its stdin.
SPARE = "--spare"
OPT_ML = "opt_ml"
OUTPUT_LOG = "output.log"
EVENTS = "events.jsonl"
RESULT = "result.json"

#: Environment variable an executor sets to "1" for a runner it could not put in a memory
#: cgroup: the runner then caps the job's address space (RLIMIT_AS) at the instance's memory.
RLIMIT_SWITCH = "SHIPYARD_RLIMIT_AS"

JobKind = Literal["training", "processing", "transform"]
ImageKind = Literal["script", "local", "builtin", "command", "analyzer"]
Outcome = Literal["Completed", "Failed", "Stopped"]


@dataclass(frozen=True)
class Image:
    """What ``TrainingImage`` / ``ImageUri`` resolved to on the server.

    - ``script``: a framework image (``framework`` is ``pytorch``, ``sklearn``, ``xgboost``,
      ``tensorflow``...) run in script mode with the server's Python: ``sagemaker_program``
      from ``sagemaker_submit_directory`` (training), or the ``ContainerEntrypoint``
      (processing, and training jobs that give one).
    - ``local``: a registered local image, a directory holding ``train`` (and ``serve``)
      executables: the bring-your-own-container contract; ``path`` is that directory.
    - ``builtin``: a built-in algorithm; ``algorithm`` is its short name (``xgboost``...).
    - ``command``: any other image given with a ``ContainerEntrypoint``: the entrypoint
      runs as a command on this machine.
    - ``analyzer``: SageMaker Model Monitor's ``sagemaker-model-monitor-analyzer`` image,
      run as ``python -m shipyard.monitoring.analyzer`` (processing jobs).
    """

    uri: str
    kind: ImageKind
    framework: str = ""
    algorithm: str = ""
    path: str = ""


@dataclass(frozen=True)
class Resources:
    """The share of the machine one host gets, as the capacity scheduler assigned it."""

    instance_type: str
    #: The instance type's vCPUs, and the CPU ids the process is pinned to (may be fewer
    #: ids than vCPUs when the machine is oversubscribed on purpose; never empty).
    vcpus: int
    cpu_ids: list[int]
    memory_mib: int
    #: GPU ids for CUDA_VISIBLE_DEVICES (empty: none).
    gpu_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class HostSpec:
    """Everything one host's runner needs; written by the server as ``host.json``.

    ``request`` is the job's Create*Job request as the client sent it (JSON-safe, timestamps
    as epoch seconds): the runner reads the SageMaker fields it needs from it
    (``HyperParameters``, ``InputDataConfig``, ``OutputDataConfig``, ``CheckpointConfig``,
    ``Environment``, ``AlgorithmSpecification``; for processing ``ProcessingInputs``,
    ``ProcessingOutputConfig``, ``AppSpecification``; for batch transform ``TransformInput``,
    ``TransformOutput``, ``DataProcessing``, ``BatchStrategy``...).
    """

    kind: JobKind
    job_name: str
    job_arn: str
    region: str
    host: str
    hosts: list[str]
    request: dict[str, Any]
    image: Image
    resources: Resources
    #: Where boto3 inside the job (and the runner) reaches Shipyard: AWS_ENDPOINT_URL.
    endpoint_url: str
    #: Temporary credentials of the job's role: AccessKeyId, SecretAccessKey, SessionToken,
    #: Expiration (ISO 8601).
    credentials: dict[str, str]
    #: Rendezvous for distributed training: every host of the job gets the same address
    #: and port; algo-1 listens there (torch.distributed's MASTER_ADDR / MASTER_PORT).
    master_addr: str = "127.0.0.1"
    master_port: int = 0
    #: Seconds between SIGTERM and SIGKILL when the job is stopped.
    stop_grace_seconds: float = 30.0
    #: A CA bundle for HTTPS endpoints (AWS_CA_BUNDLE); empty for HTTP or public CAs.
    ca_bundle: str = ""
    #: Cache directory for script-mode virtualenvs (requirements.txt), shared by jobs.
    venv_cache: str = ""
    #: Batch transform: the model it runs, resolved by the server: ``containers`` (
    #: :class:`~shipyard.serving.spec.ContainerSpec` dicts), ``mode`` (Serial or Direct) and
    #: ``role_arn`` (the model's ExecutionRoleArn, whose credentials the job has).
    model: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A name for what the executor makes for this host (its cgroup)."""
        return f"{self.job_name}-{self.host}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HostSpec:
        data = json.loads(text)
        data["image"] = Image(**data["image"])
        data["resources"] = Resources(**data["resources"])
        return cls(**data)

    def write(self, host_dir: Path) -> None:
        """Write ``host.json`` atomically into ``host_dir``."""
        write_atomic(host_dir / HOST_SPEC, self.to_json())

    @classmethod
    def read(cls, host_dir: Path) -> HostSpec:
        return cls.from_json((host_dir / HOST_SPEC).read_text())


@dataclass(frozen=True)
class HostResult:
    """How one host's run ended; ``result.json``, written once by the runner.

    ``failure_reason`` is SageMaker's ``FailureReason`` (``AlgorithmError: ...``,
    ``ClientError: ...``), at most 1024 characters. ``model_artifacts`` /
    ``output_data`` are the S3 URIs uploaded (training: ``model.tar.gz`` and
    ``output.tar.gz``; empty when nothing was uploaded). ``outputs`` names the S3 URIs a
    processing job wrote, by output name. ``exit_message`` is what a processing container
    wrote to ``/opt/ml/output/message`` (the job's ``ExitMessage``).
    """

    outcome: Outcome
    exit_code: int | None = None
    failure_reason: str = ""
    model_artifacts: str = ""
    output_data: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    exit_message: str = ""

    def write(self, host_dir: Path) -> None:
        write_atomic(host_dir / RESULT, json.dumps(asdict(self), sort_keys=True))

    @classmethod
    def read(cls, host_dir: Path) -> HostResult | None:
        """The result, or None while the runner has not finished (or died without one)."""
        try:
            return cls(**json.loads((host_dir / RESULT).read_text()))
        except FileNotFoundError:
            return None


@dataclass(frozen=True)
class HostEvent:
    """One secondary-status change of a host, a line of ``events.jsonl``."""

    time: float
    status: str
    message: str


def read_events(host_dir: Path, offset: int = 0) -> tuple[list[HostEvent], int]:
    """Complete event lines of ``events.jsonl`` from byte ``offset``; and the next offset."""
    lines, offset = read_lines(host_dir / EVENTS, offset)
    return [HostEvent(**json.loads(line)) for line in lines if line.strip()], offset


def read_lines(path: Path, offset: int, limit: int = 1 << 20) -> tuple[list[str], int]:
    """Complete lines of ``path`` from byte ``offset`` (at most ``limit`` bytes); the next offset.

    A last line without its newline is left for the next read, unless it alone is longer
    than ``limit`` (then it is cut there). A missing file reads as empty.
    """
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(limit)
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        if len(data) < limit:
            return [], offset
        end = len(data) - 1
    chunk = data[: end + 1]
    return chunk.decode("utf-8", "replace").splitlines(), offset + len(chunk)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
