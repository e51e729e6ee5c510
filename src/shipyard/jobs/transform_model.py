"""The model a transform host runs: an endpoint worker started by the runner, its log
lines copied into the job's log, and requests to its ``/invocations``.

The worker is the one endpoints use (``python -m shipyard.serving.worker``), in the
runner's process group, so that whatever ends the runner ends it too.
"""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from typing import Self

import urllib3

from shipyard.compute.network import free_port
from shipyard.jobs.context import Job
from shipyard.jobs.errors import ClientError
from shipyard.jobs.spec import RUNNER_LOG, Image, read_lines
from shipyard.serving.failures import read_failure
from shipyard.serving.launch import NotReady, start_worker, wait_ready
from shipyard.serving.spec import OUTPUT_LOG, ContainerSpec, WorkerSpec

#: Where the worker lives, under the host directory.
INSTANCE_DIR = "model"
#: Seconds the model gets to download and load before the job fails.
READY_TIMEOUT = 600.0
#: How long the worker gets to end after SIGTERM before SIGKILL: its own grace for requests
#: in flight (5 s, :data:`shipyard.serving.worker.STOP_GRACE`) and a second to close its
#: containers. A request the model never finishes would keep it alive past that.
STOP_SECONDS = 6.0
TAIL_SECONDS = 0.2
TAIL_LINES = 5
#: Answers worth another try (the model server is busy or restarting), as for transport errors.
RETRIED_STATUSES = frozenset({500, 502, 503, 504})


class ModelRefused(Exception):
    """The model answered a request with an error status; ``message`` is its body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ModelSettings:
    """How the job talks to its model (``CreateTransformJob`` fields and their defaults)."""

    #: Variables added to every container's environment: the job's ``Environment`` and
    #: those SageMaker sets for batch transform (``SAGEMAKER_BATCH``...).
    environment: dict[str, str]
    content_type: str | None
    accept: str | None
    concurrency: int
    timeout: float
    retries: int


class TransformModel:
    """The job's model server, for as long as the ``with`` block lasts."""

    def __init__(self, job: Job, settings: ModelSettings) -> None:
        self._job = job
        self._settings = settings
        self._dir = job.host_dir / INSTANCE_DIR
        self._process: subprocess.Popen[bytes] | None = None
        self._pool: urllib3.HTTPConnectionPool | None = None
        self._closed = threading.Event()
        self._tail = threading.Thread(target=self._copy_log, daemon=True, name="model-log")

    def __enter__(self) -> Self:
        spec = self._worker_spec()
        self._job.log.info(f"Starting the model server on port {spec.port}")
        self._process = start_worker(spec, self._dir)
        self._tail.start()
        try:
            wait_ready(f"http://127.0.0.1:{spec.port}", READY_TIMEOUT, self._process)
        except NotReady as error:
            self.__exit__(None, None, None)
            raise ClientError(f"The model server did not start: {self._why(error)}") from None
        except BaseException:  # a stop request while the model loads
            self.__exit__(None, None, None)
            raise
        self._pool = urllib3.HTTPConnectionPool(
            "127.0.0.1",
            spec.port,
            maxsize=self._settings.concurrency,
            block=True,
            retries=False,
            timeout=urllib3.Timeout(connect=10.0, read=self._settings.timeout),
        )
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._pool is not None:
            self._pool.close()
        self._closed.set()
        if self._tail.is_alive():
            self._tail.join()

    def invoke(self, body: bytes) -> tuple[bytes, str]:
        """The model's answer to one request and its content type (from a worker thread).

        Transport errors and 5xx answers are tried again (``InvocationsMaxRetries`` times);
        :class:`ModelRefused` when the model still refuses.
        """
        assert self._pool is not None
        headers = {}
        if self._settings.content_type:
            headers["Content-Type"] = self._settings.content_type
        if self._settings.accept:
            headers["Accept"] = self._settings.accept
        attempt = 0
        while True:
            try:
                answer = self._pool.urlopen("POST", "/invocations", body=body, headers=headers)
            except urllib3.exceptions.HTTPError as error:
                if attempt >= self._settings.retries:
                    raise ModelRefused(0, f"the model server did not answer: {error}") from None
            else:
                if answer.status == 200:
                    return answer.data, answer.headers.get("Content-Type", "")
                if answer.status not in RETRIED_STATUSES or attempt >= self._settings.retries:
                    raise ModelRefused(answer.status, answer.data.decode("utf-8", "replace").strip())
            attempt += 1

    def _worker_spec(self) -> WorkerSpec:
        spec = self._job.spec
        containers = [
            ContainerSpec(
                **{
                    **item,
                    "image": Image(**item["image"]),
                    "environment": {**item.get("environment", {}), **self._settings.environment},
                }
            )
            for item in spec.model["containers"]
        ]
        return WorkerSpec(
            endpoint_name=spec.job_name,
            variant_name="transform",
            instance_id=spec.host,
            region=spec.region,
            containers=containers,
            mode=spec.model.get("mode", "Serial"),
            port=free_port(),
            resources=spec.resources,
            endpoint_url=spec.endpoint_url,
            credentials=spec.credentials,
            ca_bundle=spec.ca_bundle,
            venv_cache=spec.venv_cache,
        )

    def _copy_log(self) -> None:
        """Copy the worker's log lines into the job's log until the worker is gone."""
        offset = 0
        while True:
            closed = self._closed.wait(TAIL_SECONDS)
            lines, offset = read_lines(self._dir / OUTPUT_LOG, offset)
            for line in lines:
                self._job.log.line(line.encode())
            if closed:
                return

    def _why(self, error: NotReady) -> str:
        """What the worker said about failing to start: its ``failure``, or its last lines."""
        written = read_failure(self._dir)
        if written:
            return written
        tail: list[str] = []
        for name in (OUTPUT_LOG, RUNNER_LOG):
            lines, _ = read_lines(self._dir / name, 0)
            tail += [line for line in lines if line.strip()]
        return "; ".join([str(error), *tail[-TAIL_LINES:]])

