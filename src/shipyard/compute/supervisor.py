"""The jobs' reconciler: admits queued jobs to capacity, starts their hosts, follows them
to the end, and brings the world back into line after a server restart.

State lives in the database (:class:`~shipyard.compute.job_store.JobStore`); the
supervisor's memory holds only what it can rebuild from there. Every change is written
first and acted on second: a stop asked for through the API is a row change the next
tick acts on, and a crash between the two is repaired by :meth:`JobSupervisor.recover`.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from shipyard.compute.capacity import CapacityScheduler
from shipyard.compute.executor import Executor, HostHandle, HostState
from shipyard.compute.job_store import JobStore
from shipyard.compute.metrics import MetricParser
from shipyard.compute.network import free_port
from shipyard.compute.records import Job
from shipyard.compute.roles import JobRoles
from shipyard.compute.ticker import Ticker
from shipyard.errors import AwsError
from shipyard.jobs.spec import HostResult, HostSpec, Image, Resources
from shipyard.logs import LogStore
from shipyard.monitoring.metric_store import MetricKey
from shipyard.monitoring.usage import UsagePublisher
from shipyard.store.records import now_ms

log = logging.getLogger("shipyard.jobs")

#: Where each kind of job logs, as on SageMaker; its metrics' CloudWatch namespace too.
LOG_GROUPS = {
    "training": "/aws/sagemaker/TrainingJobs",
    "processing": "/aws/sagemaker/ProcessingJobs",
    "transform": "/aws/sagemaker/TransformJobs",
}

#: Reason given to jobs whose process did not survive a server restart.
RESTARTED = "InternalServerError: the server restarted during the job"

_FAILURE_LIMIT = 1024



class JobSupervisor:
    """Drives every active job; one per server, run as a background task."""

    def __init__(
        self,
        *,
        store: JobStore,
        executor: Executor,
        scheduler: CapacityScheduler,
        roles: JobRoles,
        logs: LogStore,
        usage: UsagePublisher,
        jobs_dir: Path,
        endpoint_url: str,
        ca_bundle: str = "",
        stop_grace_seconds: float = 30.0,
    ) -> None:
        self._store = store
        self._executor = executor
        self._scheduler = scheduler
        self._roles = roles
        self._logs = logs
        self._usage = usage
        self._jobs_dir = jobs_dir
        self._endpoint_url = endpoint_url
        self._ca_bundle = ca_bundle
        self._stop_grace = stop_grace_seconds
        #: Jobs with hosts started, by id; queued jobs live in the scheduler.
        self._running: dict[int, Job] = {}
        self._queued: dict[int, Job] = {}
        self._parsers: dict[int, MetricParser] = {}
        self._ticker = Ticker(self._tick, lambda: bool(self._running or self._queued), "shipyard-jobs")

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Recover what the database says is active, then run the loop in the background."""
        await self.recover()
        self._executor.prepare()
        self._ticker.start()

    async def close(self) -> None:
        """Stop supervising. Running jobs go on; the next start re-attaches to them."""
        await self._ticker.stop()
        self._executor.close()

    async def recover(self) -> None:
        """After a (re)start: queue waiting jobs again, re-attach to live hosts, and settle
        jobs whose hosts ended or vanished while no server watched them."""
        for job in await self._store.active():
            hosts = job.details.get("hosts") or {}
            if not hosts:
                await self._abandon_launch(job)
                if job.stop_reason:
                    await self._finish_unstarted(job)
                    continue
                try:
                    self._enqueue(job)
                except AwsError as error:  # the server restarted with less capacity
                    await self._fail(job, f"{error.code}: {error.message}")
                continue
            handles = [HostHandle(**host["handle"]) for host in hosts.values()]
            lost = [
                handle
                for handle in handles
                if not self._executor.attach(handle) and HostResult.read(Path(handle.host_dir)) is None
            ]
            if lost:
                for handle in handles:
                    await self._executor.kill(handle)
                    await self._executor.release(handle)
                if not await self._retry(job, RESTARTED):
                    await self._fail(job, RESTARTED)
                continue
            self._scheduler.restore(job.key, [Resources(**item) for item in job.details.get("resources", [])])
            self._running[job.id] = job
            self._watch(job)
            log.info("re-attached to %s job %s", job.kind, job.name)

    async def _abandon_launch(self, job: Job) -> None:
        """Undo a launch the server died in the middle of (hosts started, none recorded):
        end what it started and drop its files, so the job starts afresh."""
        job_dir = self._jobs_dir / job.kind / job.name
        if not job_dir.is_dir():
            return
        for host_dir in job_dir.iterdir():
            await self._executor.abandon(host_dir)
        await asyncio.to_thread(shutil.rmtree, job_dir, True)

    # --- what the API asks for -------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Queue a newly created job for capacity (it is in the database already)."""
        self._enqueue(job)
        self.wake()

    async def stop(self, job: Job) -> None:
        """Act on a stop the database already records (``stop_reason`` set, ``Stopping``)."""
        if job.id in self._queued:
            self._scheduler.cancel(job.key)
            del self._queued[job.id]
            await self._finish_unstarted(job)
            return
        running = self._running.get(job.id)
        if running is not None:
            running.stop_reason = job.stop_reason
            for host in running.details.get("hosts", {}).values():
                await self._executor.stop(HostHandle(**host["handle"]))
        self.wake()

    def wake(self) -> None:
        self._ticker.wake()

    def waiting_message(self, job: Job) -> str | None:
        """Why a queued job has not started yet (None if it is not waiting)."""
        return self._scheduler.waiting_message(job.key)

    # --- the loop ----------------------------------------------------------------------------

    async def _tick(self) -> None:
        for key, resources in self._scheduler.admit():
            job = self._queued.pop(int(key))
            await self._launch(job, resources)
        for job in list(self._running.values()):
            try:
                await self._follow(job)
            except Exception:
                log.exception("following %s job %s failed", job.kind, job.name)
        for job in list(self._queued.values()):
            await self._show_waiting(job)

    def _enqueue(self, job: Job) -> None:
        self._scheduler.enqueue(job.key, job.instance_type, job.instance_count)
        self._queued[job.id] = job

    async def _show_waiting(self, job: Job) -> None:
        message = self._scheduler.waiting_message(job.key)
        if message and job.details.get("transitions", [{}])[-1].get("StatusMessage") != message:
            stored, _ = await self._store.mutate(job.id, lambda j: j.set_secondary("Starting", message, now_ms()))
            self._queued[job.id] = stored

    # --- starting ------------------------------------------------------------------------------

    async def _launch(self, job: Job, resources: list[Resources]) -> None:
        hosts = [f"algo-{index + 1}" for index in range(len(resources))]
        try:
            credentials = await self._roles.assume(job.role_arn, "SageMaker", job.max_runtime_seconds)
        except AwsError as error:  # the role was deleted or changed since CreateTrainingJob
            self._scheduler.release(job.key)
            await self._fail(job, f"ClientError: {error.message}")
            return
        started_ms = now_ms()
        epoch = started_ms // 1000
        port = free_port()  # the job's rendezvous (torch.distributed's MASTER_PORT)
        image = Image(**job.details["image"])
        launched: dict[str, Any] = {}
        try:
            for host, share in zip(hosts, resources, strict=True):
                spec = HostSpec(
                    kind=job.kind,
                    job_name=job.name,
                    job_arn=job.arn,
                    region=job.region,
                    host=host,
                    hosts=hosts,
                    request=job.request,
                    image=image,
                    resources=share,
                    endpoint_url=self._endpoint_url,
                    credentials=credentials,
                    master_port=port,
                    stop_grace_seconds=self._stop_grace,
                    ca_bundle=self._ca_bundle,
                    venv_cache=str(self._jobs_dir / "venvs"),
                    model=job.details.get("model", {}),
                )
                handle = await self._executor.start(spec, self._jobs_dir / job.kind / job.name / host)
                launched[host] = {
                    "handle": asdict(handle),
                    "output": 0,
                    "events": 0,
                    "stream": _stream_name(job, host, epoch),
                }
        except Exception as error:
            log.exception("starting %s job %s failed", job.kind, job.name)
            for host in launched.values():
                await self._executor.kill(HostHandle(**host["handle"]))
            self._scheduler.release(job.key)
            reason = f"InternalServerError: could not start the job: {error}"
            if not await self._retry(job, reason):
                await self._fail(job, reason)
            return

        def started(stored: Job) -> None:
            stored.details["hosts"] = launched
            stored.details["resources"] = [asdict(share) for share in resources]
            stored.details["start_ms"] = started_ms
            message = "Preparing the instances for training" if job.kind == "training" else "Starting the job"
            stored.set_secondary("Starting", message, started_ms)

        stored, _ = await self._store.mutate(job.id, started)
        self._running[job.id] = stored
        self._watch(stored)
        if stored.stop_reason:  # stopped while it was being launched
            await self.stop(stored)

    # --- following -----------------------------------------------------------------------------

    async def _follow(self, job: Job) -> None:
        hosts = job.details["hosts"]
        shipped: dict[str, tuple[int, int]] = {}
        statuses: list[tuple[str, str, float]] = []
        for host, state in hosts.items():
            handle = HostHandle(**state["handle"])
            lines, output = await self._executor.read_output(handle, state["output"])
            if lines:
                await self._ship(job, state["stream"], lines)
            events, offset = await self._executor.read_events(handle, state["events"])
            if host == "algo-1":
                statuses = [(event.status, event.message, event.time) for event in events]
            shipped[host] = (output, offset)
        polls = {host: await self._executor.poll(HostHandle(**state["handle"])) for host, state in hosts.items()}
        overdue = (
            not job.stop_reason
            and now_ms() - job.details.get("start_ms", now_ms()) > job.max_runtime_seconds * 1000
        )

        def progress(stored: Job) -> None:
            for host, (output, offset) in shipped.items():
                stored.details["hosts"][host].update(output=output, events=offset)
            for status, message, at in statuses:
                _apply_event(stored, status, message, int(at * 1000))
            if overdue and stored.stop_reason is None:
                stored.stop_reason = "max-runtime"
                stored.status = "Stopping"
                stored.set_secondary("Stopping", stored.message("Stopping"), now_ms())

        unchanged = all((hosts[host]["output"], hosts[host]["events"]) == read for host, read in shipped.items())
        stored = job
        if not (unchanged and not statuses and not overdue):
            stored, _ = await self._store.mutate(job.id, progress)
            self._running[job.id] = stored
        if overdue:
            await self.stop(stored)
        ended = {host: poll for host, poll in polls.items() if not poll.running}
        failed = [poll for poll in ended.values() if _failed(poll)]
        if failed and len(ended) < len(polls):
            for host, poll in polls.items():  # one host failed: the others cannot finish the job
                if poll.running:
                    await self._executor.kill(HostHandle(**hosts[host]["handle"]))
            return
        if len(ended) == len(polls):
            await self._finish(stored, polls)

    async def _ship(self, job: Job, stream: str, lines: list[str]) -> None:
        at = now_ms()
        await self._logs.append(LOG_GROUPS[job.kind], stream, [(at, line) for line in lines], region=job.region)
        parser = self._parser(job)
        if parser:
            points = parser.parse(lines)
            if points:
                await self._store.add_metrics(job.id, [(name, at, value) for name, value in points])
                await self._publish(job, points, at)

                def latest(stored: Job) -> None:
                    metrics = stored.details.setdefault("final_metrics", {})
                    for name, value in points:
                        metrics[name] = [value, at]

                stored, _ = await self._store.mutate(job.id, latest)
                self._running[job.id] = stored

    async def _publish(self, job: Job, points: list[tuple[str, float]], at: int) -> None:
        """A training job's metric values to CloudWatch, as SageMaker publishes them:
        named as their definitions, dimension ``TrainingJobName``."""
        dimensions = (("TrainingJobName", job.name),)
        await self._usage.publish(
            [(MetricKey(job.region, LOG_GROUPS[job.kind], name, dimensions), at, value) for name, value in points]
        )

    def _watch(self, job: Job) -> None:
        """Sample the CPU, memory and disk of ``job``'s running hosts from now on."""
        shares = job.details.get("resources") or []
        for (host, state), share in zip(job.details["hosts"].items(), shares, strict=False):
            self._usage.watch(
                HostHandle(**state["handle"]),
                region=job.region,
                namespace=LOG_GROUPS[job.kind],
                dimensions=(("Host", f"{job.name}/{host}"),),
                memory_mib=share["memory_mib"],
                gpu_ids=share.get("gpu_ids", ()),
            )

    def _parser(self, job: Job) -> MetricParser:
        if job.id not in self._parsers:
            definitions = (job.request.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
            self._parsers[job.id] = MetricParser(definitions)
        return self._parsers[job.id]

    # --- ending --------------------------------------------------------------------------------

    async def _finish(self, job: Job, polls: dict[str, HostState]) -> None:
        for host in job.details["hosts"].values():  # the last words of every host
            handle = HostHandle(**host["handle"])
            lines, host["output"] = await self._executor.read_output(handle, host["output"])
            if lines:
                await self._ship(job, host["stream"], lines)
            await self._executor.release(handle)
        first = polls.get("algo-1") or next(iter(polls.values()))
        result = first.result
        # A host's own failure says more than the hosts stopped because of it.
        failed = sorted((poll for poll in polls.values() if _failed(poll)), key=lambda poll: poll.result is None)
        failure = _failure_reason(job, failed[0]) if failed else ""
        if failure and await self._retry(job, failure):
            return
        at = now_ms()
        offsets = {host: state["output"] for host, state in job.details["hosts"].items()}

        def finish(stored: Job) -> None:
            for host, output in offsets.items():
                stored.details["hosts"][host]["output"] = output
            if result is not None:
                stored.details["model_artifacts"] = result.model_artifacts
                stored.details["output_data"] = result.output_data
                stored.details["outputs"] = result.outputs
            if failure and stored.stop_reason is None:
                stored.details["failure_reason"] = failure[:_FAILURE_LIMIT]
                stored.details["exit_message"] = failure[:_FAILURE_LIMIT]
                stored.finish("Failed", "Failed", failure[:_FAILURE_LIMIT], at)
            elif stored.stop_reason == "max-runtime":
                stored.details["failure_reason"] = f"MaxRuntimeExceeded: {stored.message('MaxRuntimeExceeded')}"
                stored.finish("Stopped", "MaxRuntimeExceeded", stored.message("MaxRuntimeExceeded"), at)
            elif stored.stop_reason:
                stored.finish("Stopped", "Stopped", stored.message("Stopped"), at)
            else:
                if result is not None and result.exit_message:  # /opt/ml/output/message
                    stored.details["exit_message"] = result.exit_message
                stored.finish("Completed", "Completed", stored.message("Completed"), at)

        await self._store.mutate(job.id, finish)
        self._scheduler.release(job.key)
        self._running.pop(job.id, None)
        self._parsers.pop(job.id, None)
        self.wake()

    async def _finish_unstarted(self, job: Job) -> None:
        at = now_ms()
        await self._store.mutate(job.id, lambda stored: stored.finish("Stopped", "Stopped", stored.message("Stopped"), at))
        self._queued.pop(job.id, None)
        self.wake()

    async def _retry(self, job: Job, reason: str) -> bool:
        """Start ``job`` over after an internal error, if its ``RetryStrategy`` allows one
        more attempt (as SageMaker does, for ``InternalServerError`` only); whether it did."""
        allowed = int((job.request.get("RetryStrategy") or {}).get("MaximumRetryAttempts") or 0)
        used = int(job.details.get("retries", 0))
        if not reason.startswith("InternalServerError") or job.stop_reason or used >= allowed:
            return False
        at = now_ms()

        def again(stored: Job) -> None:
            stored.details["retries"] = used + 1
            for key in ("hosts", "resources", "start_ms", "training_start_ms", "training_end_ms"):
                stored.details.pop(key, None)
            message = f"Restarting after an internal error (retry {used + 1} of {allowed}): {reason}"
            stored.set_secondary("Restarting", message[:_FAILURE_LIMIT], at)

        stored, _ = await self._store.mutate(job.id, again)
        self._running.pop(job.id, None)
        self._parsers.pop(job.id, None)
        self._scheduler.release(job.key)
        await self._abandon_launch(stored)
        self._enqueue(stored)
        self.wake()
        log.info("retrying %s job %s after: %s", job.kind, job.name, reason)
        return True

    async def _fail(self, job: Job, reason: str) -> None:
        at = now_ms()

        def fail(stored: Job) -> None:
            stored.details["failure_reason"] = reason[:_FAILURE_LIMIT]
            stored.finish("Failed", "Failed", reason[:_FAILURE_LIMIT], at)

        await self._store.mutate(job.id, fail)
        self._running.pop(job.id, None)
        self._queued.pop(job.id, None)
        self._parsers.pop(job.id, None)


def _apply_event(job: Job, status: str, message: str, at_ms: int) -> None:
    """A runner's secondary-status event, as far as the server lets the runner decide it.

    The server owns Starting, Stopping and the final statuses; the runner reports
    Downloading, Training and Uploading (and the times training started and ended).
    """
    if status not in ("Downloading", "Training", "Uploading") or job.status != "InProgress":
        return
    job.set_secondary(status, message, at_ms)
    if status == "Training":
        job.details.setdefault("training_start_ms", at_ms)
    elif status == "Uploading":
        job.details.setdefault("training_end_ms", at_ms)


def _failed(poll: HostState) -> bool:
    return poll.out_of_memory or poll.result is None or poll.result.outcome == "Failed"


def _failure_reason(job: Job, poll: HostState) -> str:
    if poll.out_of_memory:
        memory = (job.details.get("resources") or [{}])[0].get("memory_mib")
        return (
            f"OutOfMemory: the {job.kind} job used more than the {memory} MiB of memory of its "
            f"{job.instance_type} instance and was killed"
        )
    if poll.result is not None:
        return poll.result.failure_reason or "AlgorithmError: the job failed"
    return f"InternalServerError: {poll.lost_reason or 'the job process ended without a result'}"


def _stream_name(job: Job, host: str, epoch: int) -> str:
    """SageMaker's log stream names: ``<job>/algo-1-<epoch seconds>``."""
    return f"{job.name}/{host}-{epoch}"



