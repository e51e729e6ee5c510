"""The monitoring schedules' reconciler: starts each execution when its time comes (or when
asked to run one now), runs it as a processing job, follows it to the end, and publishes
the CloudWatch metrics its analyzer wrote.

Every execution is a row (:class:`~shipyard.monitoring.schedules.records.Execution`)
written, with its processing job's name, before the job is created. After a restart the
runner finds the rows not ended: a ``Pending`` one whose job exists is taken up, one whose
job does not is started; the unique (region, schedule, scheduled time) keeps one
scheduled time from running twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from shipyard.compute.capacity import MachineCapacity, check_fits
from shipyard.compute.images import resolve_processing_image
from shipyard.compute.job_store import ImageStore, JobStore
from shipyard.compute.records import ACTIVE as JOB_ACTIVE
from shipyard.compute.records import Job, job_arn
from shipyard.compute.supervisor import JobSupervisor
from shipyard.compute.ticker import Ticker
from shipyard.errors import AwsError
from shipyard.monitoring.metric_store import MetricDatum, merge_rows
from shipyard.monitoring.schedules.cron import DAY_MS, ScheduleExpression
from shipyard.monitoring.schedules.definitions import endpoint_input
from shipyard.monitoring.schedules.metrics import read_metrics
from shipyard.monitoring.schedules.processing import job_name, processing_request
from shipyard.monitoring.schedules.records import (
    SCHEDULE,
    Execution,
    ExecutionStore,
    MonitoringRecord,
    MonitoringStore,
)
from shipyard.monitoring.schedules.windows import Window
from shipyard.serving.capture import CaptureConfig
from shipyard.serving.store import HostingStore
from shipyard.store.objects import S3Store
from shipyard.store.record_table import RecordExists
from shipyard.store.records import now_ms

log = logging.getLogger("shipyard.monitoring")

#: SageMaker's FailureReason of an execution whose window holds no captured data.
NO_DATA = "Job inputs had no data"
#: At most this many capture folders become inputs; more, and the whole endpoint prefix is.
MAX_CAPTURE_INPUTS = 8


class ScheduleRunner:
    """Drives every monitoring schedule and execution; one per server, run in the background."""

    def __init__(
        self,
        *,
        store: MonitoringStore,
        executions: ExecutionStore,
        jobs: JobStore,
        supervisor: JobSupervisor,
        hosting: HostingStore,
        s3: S3Store,
        images: ImageStore,
        capacity: MachineCapacity,
        account_id: str,
        interval_seconds: float = 0,
    ) -> None:
        self._store = store
        self._executions = executions
        self._jobs = jobs
        self._supervisor = supervisor
        self._hosting = hosting
        self._s3 = s3
        self._images = images
        self._capacity = capacity
        self._account_id = account_id
        self._interval_ms = int(interval_seconds * 1000)
        self._active = False
        self._ticker = Ticker(self._tick, lambda: self._active, "shipyard-monitoring", busy_interval=0.25)

    def start(self) -> None:
        self._ticker.start()

    async def close(self) -> None:
        """Stop; running executions' jobs go on, and the next start follows them again."""
        await self._ticker.stop()

    def wake(self) -> None:
        """Reconcile now (the API changed something)."""
        self._ticker.wake()

    def _next_time(self, expression: ScheduleExpression, after_ms: int) -> int | None:
        """When a schedule with ``expression`` runs next after ``after_ms`` (None: never again)."""
        if expression.one_time:
            return None
        if self._interval_ms > 0:
            return (after_ms // self._interval_ms + 1) * self._interval_ms
        return expression.next_after(after_ms)

    def _window(self, schedule: MonitoringRecord, at_ms: int) -> Window:
        """The window an execution of ``schedule`` at ``at_ms`` analyses: the interval before
        it (``monitoring_interval_seconds``), a one-time schedule's DataAnalysis offsets, or
        the definition's StartTimeOffset / EndTimeOffset (default the hour before)."""
        config = schedule.request["MonitoringScheduleConfig"].get("ScheduleConfig") or {}
        if ScheduleExpression.parse(config.get("ScheduleExpression", "")).one_time:
            return Window.around(at_ms, config.get("DataAnalysisStartTime"), config.get("DataAnalysisEndTime"))
        if self._interval_ms > 0:
            return Window(at_ms - self._interval_ms, at_ms)
        source = endpoint_input(schedule.details["definition"]) or {}
        return Window.around(at_ms, source.get("StartTimeOffset"), source.get("EndTimeOffset"))

    async def run_now(self, schedule: MonitoringRecord) -> Execution:
        """Start an execution of ``schedule`` now (``shipyard monitor run``); it is returned
        as written (Pending). ``ResourceInUse`` if one was started this very second."""
        at = now_ms() // 1000 * 1000
        execution = await self._plan(schedule, at, self._window(schedule, at))
        if execution is None:
            raise AwsError("ResourceInUse", f"An execution of monitoring schedule {schedule.name} started at this time already.")
        self.wake()
        return execution

    # --- the loop ----------------------------------------------------------------------------

    async def _tick(self) -> None:
        for schedule in await self._store.of_kind(SCHEDULE):
            try:
                await self._schedule(schedule)
            except Exception:
                log.exception("monitoring schedule %s: a step failed", schedule.name)
        active = await self._executions.active()
        self._active = bool(active)
        for execution in active:
            try:
                await self._advance(execution)
            except Exception:
                log.exception("monitoring execution %s of %s: a step failed", execution.id, execution.schedule_name)

    async def _schedule(self, schedule: MonitoringRecord) -> None:
        """Activate a new schedule; start its execution when its time has come."""
        expression = ScheduleExpression.parse(
            (schedule.request["MonitoringScheduleConfig"].get("ScheduleConfig") or {}).get("ScheduleExpression", "")
        )
        now = now_ms()
        if schedule.status == "Pending":
            first = now if expression.one_time else self._next_time(expression, now)

            def activate(stored: MonitoringRecord) -> None:
                if stored.status == "Pending":
                    stored.status = "Scheduled"
                    stored.details["next_ms"] = first

            try:
                schedule, _ = await self._store.mutate(schedule.id, activate)
            except LookupError:  # deleted meanwhile
                return
        due = schedule.details.get("next_ms")
        if schedule.status != "Scheduled" or due is None or due > now:
            return
        if now - due > DAY_MS:  # the server was down: SageMaker does not run what it missed
            due = self._next_time(expression, now - DAY_MS) or due
        while (following := self._next_time(expression, due)) is not None and following <= now:
            due = following
        await self._plan(schedule, due, self._window(schedule, due))

        def advance(stored: MonitoringRecord) -> None:
            if stored.details.get("next_ms") == schedule.details.get("next_ms"):
                stored.details["next_ms"] = self._next_time(expression, due)

        with contextlib.suppress(LookupError):  # deleted meanwhile: its execution runs on
            await self._store.mutate(schedule.id, advance)

    async def _plan(self, schedule: MonitoringRecord, at_ms: int, window: Window) -> Execution | None:
        """Write the execution of ``schedule`` at ``at_ms`` (Pending, its job named); None if
        that scheduled time has one already."""
        details = schedule.details
        execution = Execution(
            id=0,
            region=schedule.region,
            schedule_name=schedule.name,
            scheduled_ms=at_ms,
            status="Pending",
            processing_job_name=job_name(at_ms),
            details={
                "endpoint": details["endpoint"],
                "monitoring_type": details["monitoring_type"],
                "job_definition_name": details.get("job_definition_name"),
                "definition": details["definition"],
                "window": [window.start_ms, window.end_ms],
            },
            created_ms=now_ms(),
            modified_ms=now_ms(),
        )
        try:
            return await self._executions.create(execution)
        except RecordExists:
            return None

    # --- one execution -----------------------------------------------------------------------

    async def _advance(self, execution: Execution) -> None:
        name = execution.processing_job_name or ""
        job = await self._jobs.get("processing", execution.region, name)
        if execution.status == "Pending" and job is None:
            try:
                job = await self._start_job(execution)
            except AwsError as error:
                await self._end(execution, "Failed", error.message)
                return
            if job is None:
                await self._end(execution, "Failed", NO_DATA)
                return
        if job is None:  # the job row is gone (it never is, but the execution must end)
            await self._end(execution, "Failed", "InternalServerError: the execution's processing job is missing")
            return
        if execution.status == "Pending" or execution.details.get("processing_job_arn") != job.arn:
            execution.status = "InProgress"
            execution.details["processing_job_arn"] = job.arn
            await self._executions.update(execution)
        if job.status in JOB_ACTIVE:
            return
        await self._finish(execution, job)

    async def _start_job(self, execution: Execution) -> Job | None:
        """Create and queue the execution's processing job; None if the window has no data."""
        definition = execution.details["definition"]
        endpoint = execution.details["endpoint"]
        capture = await self._capture(execution.region, endpoint)
        window = Window(*execution.details["window"])
        prefixes = await self._capture_folders(capture, endpoint, window)
        if not prefixes:
            return None
        base = f"{capture.prefix}/{endpoint}" if capture.prefix else endpoint
        if len(prefixes) > MAX_CAPTURE_INPUTS:
            prefixes = sorted({prefix.split("/", 1)[0] for prefix in prefixes})
        request = processing_request(
            name=execution.processing_job_name or "",
            definition=definition,
            schedule=execution.schedule_name,
            scheduled_ms=execution.scheduled_ms,
            window=window,
            capture_prefixes=prefixes,
            capture_uri=f"s3://{capture.bucket}/{base}",
            baseline=await self._baseline(execution.region, definition),
        )
        cluster = request["ProcessingResources"]["ClusterConfig"]
        check_fits(cluster["InstanceType"], int(cluster["InstanceCount"]), self._capacity)
        image = await resolve_processing_image(request["AppSpecification"], self._images.path)
        name = request["ProcessingJobName"]
        job = Job.new(
            kind="processing",
            region=execution.region,
            name=name,
            arn=job_arn("processing", execution.region, self._account_id, name),
            request=request,
            details={"image": asdict(image)},
            at_ms=now_ms(),
        )
        try:
            job = await self._jobs.create(job)
        except RecordExists:  # created before a restart; the supervisor recovered it
            return await self._jobs.get("processing", execution.region, name)
        self._supervisor.submit(job)
        log.info("monitoring schedule %s: execution started as %s", execution.schedule_name, name)
        return job

    async def _capture(self, region: str, endpoint: str) -> CaptureConfig:
        record = await self._hosting.get("endpoint", region, endpoint)
        if record is None:
            raise AwsError("ValidationException", f"Could not find endpoint {endpoint}.")
        capture = CaptureConfig.parse(record.details.get("data_capture"))
        if capture is None:
            raise AwsError("ValidationException", f"Data capture is not enabled on endpoint {endpoint}.")
        return capture

    async def _capture_folders(self, capture: CaptureConfig, endpoint: str, window: Window) -> list[str]:
        """``{variant}/yyyy/mm/dd/hh`` of every capture folder of the window that holds data."""
        base = f"{capture.prefix}/{endpoint}/" if capture.prefix else f"{endpoint}/"
        try:
            listing = await self._s3.list_objects(bucket=capture.bucket, prefix=base, delimiter="/")
            found = []
            for variant_prefix in listing.common_prefixes:
                variant = variant_prefix[len(base) :].rstrip("/")
                for hour in window.hours():
                    folder = f"{variant}/{hour.strftime('%Y/%m/%d/%H')}"
                    page = await self._s3.list_objects(bucket=capture.bucket, prefix=f"{base}{folder}/", max_keys=1)
                    if page.objects:
                        found.append(folder)
        except AwsError as error:  # the bucket is gone: nothing was captured
            log.info("capture data of %s unreadable: %s", endpoint, error.message)
            return []
        return found

    async def _baseline(self, region: str, definition: dict[str, Any]) -> dict[str, str]:
        """``constraints`` / ``statistics`` -> the S3 URI of the baseline's file."""
        config = definition.get("BaselineConfig") or {}
        found = {
            kind: config[member]["S3Uri"]
            for kind, member in (("constraints", "ConstraintsResource"), ("statistics", "StatisticsResource"))
            if (config.get(member) or {}).get("S3Uri")
        }
        if config.get("BaseliningJobName") and len(found) < 2:
            job = await self._jobs.get("processing", region, config["BaseliningJobName"])
            outputs = ((job.request.get("ProcessingOutputConfig") or {}).get("Outputs") or []) if job else []
            if not outputs:
                raise AwsError("ValidationException", f"Could not find baselining job {config['BaseliningJobName']} or its output.")
            folder = outputs[0]["S3Output"]["S3Uri"].rstrip("/")
            for kind in ("constraints", "statistics"):
                found.setdefault(kind, f"{folder}/{kind}.json")
        return found

    async def _finish(self, execution: Execution, job: Job) -> None:
        """End the execution as its processing job ended; a completed one's CloudWatch
        metrics are published in the same transaction, so exactly once."""
        if job.status == "Completed":
            message = job.details.get("exit_message") or ""
            status = "CompletedWithViolations" if message.startswith("CompletedWithViolations") else "Completed"
            data = await self._analyzer_metrics(execution, job)
            await self._end(execution, status, "", also=(lambda conn: merge_rows(conn, data)) if data else None)
            if data:
                log.info("monitoring schedule %s: %d metric values published", execution.schedule_name, len(data))
        elif job.status == "Stopped":
            await self._end(execution, "Stopped", "")
        else:
            await self._end(execution, "Failed", job.details.get("failure_reason") or "The processing job failed")

    @staticmethod
    async def _analyzer_metrics(execution: Execution, job: Job) -> list[MetricDatum]:
        """The CloudWatch metrics the analyzer of ``job`` wrote in its host directory."""
        host = (job.details.get("hosts") or {}).get("algo-1")
        if host is None:
            return []
        return await asyncio.to_thread(read_metrics, Path(host["handle"]["host_dir"]), execution.region)

    async def _end(
        self, execution: Execution, status: str, reason: str, *, also: Callable[[Connection], None] | None = None
    ) -> None:
        execution.status = status
        if reason:
            execution.details["failure_reason"] = reason[:1024]
        await self._executions.update(execution, also=also)
        log.info("monitoring schedule %s: execution %s %s %s", execution.schedule_name, execution.id, status, reason)
