"""Monitoring schedules and their executions: CreateMonitoringSchedule, DescribeMonitoringSchedule,
ListMonitoringSchedules, UpdateMonitoringSchedule, StopMonitoringSchedule,
StartMonitoringSchedule, DeleteMonitoringSchedule and ListMonitoringExecutions. The
runner (:mod:`shipyard.monitoring.schedules.runner`) starts and follows the executions;
each one's processing job answers DescribeProcessingJob like any other."""

from __future__ import annotations

from typing import Any

from shipyard.errors import AwsError
from shipyard.monitoring.schedules import definitions
from shipyard.monitoring.schedules.cron import ScheduleExpression
from shipyard.monitoring.schedules.records import (
    DEFINITION_KINDS,
    SCHEDULE,
    Execution,
    MonitoringRecord,
)
from shipyard.monitoring.schedules.windows import check_offsets
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.sagemaker.jobs import drop_none, json_safe
from shipyard.services.sagemaker.monitoring import (
    check_definition,
    check_endpoint,
    create,
    find,
    paged,
    within,
)
from shipyard.store.records import to_datetime

router = ServiceRouter("sagemaker")


@router.operation("CreateMonitoringSchedule")
async def create_monitoring_schedule(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    details = await _resolve(ctx, json_safe(params["MonitoringScheduleConfig"]))
    record = await create(ctx, SCHEDULE, params["MonitoringScheduleName"], params, "Pending", details)
    ctx.runtime.monitor.wake()
    return {"MonitoringScheduleArn": record.arn}


@router.operation("DescribeMonitoringSchedule")
async def describe_monitoring_schedule(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    record = await find(ctx, SCHEDULE, params["MonitoringScheduleName"])
    latest = await ctx.runtime.monitoring_executions.latest(ctx.region, record.name)
    return drop_none(
        {
            "MonitoringScheduleArn": record.arn,
            "MonitoringScheduleName": record.name,
            "MonitoringScheduleStatus": record.status,
            "MonitoringType": record.details["monitoring_type"],
            "FailureReason": record.details.get("failure_reason"),
            "CreationTime": to_datetime(record.created_ms),
            "LastModifiedTime": to_datetime(record.modified_ms),
            "MonitoringScheduleConfig": record.request["MonitoringScheduleConfig"],
            "EndpointName": record.details["endpoint"],
            "LastMonitoringExecutionSummary": None if latest is None else execution_summary(latest),
        }
    )


@router.operation("ListMonitoringSchedules")
async def list_monitoring_schedules(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    records = [
        record
        for record in await ctx.runtime.monitoring.of_kind(SCHEDULE, ctx.region)
        if _matches(record.details, params)
        and (not params.get("NameContains") or params["NameContains"] in record.name)
        and (not params.get("StatusEquals") or record.status == params["StatusEquals"])
        and within(record.created_ms, params, "CreationTimeAfter", "CreationTimeBefore")
        and within(record.modified_ms, params, "LastModifiedTimeAfter", "LastModifiedTimeBefore")
    ]
    keys = {
        "Name": lambda item: item.name,
        "CreationTime": lambda item: item.created_ms,
        "Status": lambda item: item.status,
    }
    page, token = paged(records, params, keys)
    summaries = [
        drop_none(
            {
                "MonitoringScheduleName": record.name,
                "MonitoringScheduleArn": record.arn,
                "CreationTime": to_datetime(record.created_ms),
                "LastModifiedTime": to_datetime(record.modified_ms),
                "MonitoringScheduleStatus": record.status,
                "EndpointName": record.details["endpoint"],
                "MonitoringJobDefinitionName": record.details.get("job_definition_name"),
                "MonitoringType": record.details["monitoring_type"],
            }
        )
        for record in page
    ]
    return drop_none({"MonitoringScheduleSummaries": summaries, "NextToken": token})


@router.operation("UpdateMonitoringSchedule")
async def update_monitoring_schedule(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    record = await find(ctx, SCHEDULE, params["MonitoringScheduleName"])
    config = json_safe(params["MonitoringScheduleConfig"])
    details = await _resolve(ctx, config)

    def update(stored: MonitoringRecord) -> None:
        stored.request["MonitoringScheduleConfig"] = config
        stored.details.update(details)
        stored.details.pop("next_ms", None)
        if stored.status != "Stopped":  # the runner schedules it afresh
            stored.status = "Pending"

    await ctx.runtime.monitoring.mutate(record.id, update)
    ctx.runtime.monitor.wake()
    return {"MonitoringScheduleArn": record.arn}


@router.operation("StopMonitoringSchedule")
async def stop_monitoring_schedule(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    record = await find(ctx, SCHEDULE, params["MonitoringScheduleName"])

    def stop(stored: MonitoringRecord) -> None:
        stored.status = "Stopped"
        stored.details.pop("next_ms", None)

    await ctx.runtime.monitoring.mutate(record.id, stop)
    return {}


@router.operation("StartMonitoringSchedule")
async def start_monitoring_schedule(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    record = await find(ctx, SCHEDULE, params["MonitoringScheduleName"])

    def start(stored: MonitoringRecord) -> None:
        if stored.status == "Stopped":
            stored.status = "Pending"

    await ctx.runtime.monitoring.mutate(record.id, start)
    ctx.runtime.monitor.wake()
    return {}


@router.operation("DeleteMonitoringSchedule")
async def delete_monitoring_schedule(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    record = await find(ctx, SCHEDULE, params["MonitoringScheduleName"])
    await ctx.runtime.monitoring.delete(record.id)
    await ctx.runtime.monitoring_executions.delete_schedule(ctx.region, record.name)
    await ctx.runtime.tags.remove(record.arn, list(await ctx.runtime.tags.tags(record.arn)))
    return {}


@router.operation("ListMonitoringExecutions")
async def list_monitoring_executions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    store = ctx.runtime.monitoring_executions
    if params.get("MonitoringScheduleName"):
        found = await store.of_schedule(ctx.region, params["MonitoringScheduleName"])
    else:
        found = await store.of_region(ctx.region)
    executions = [
        execution
        for execution in found
        if _matches(execution.details, params)
        and (not params.get("StatusEquals") or execution.status == params["StatusEquals"])
        and within(execution.scheduled_ms, params, "ScheduledTimeAfter", "ScheduledTimeBefore")
        and within(execution.created_ms, params, "CreationTimeAfter", "CreationTimeBefore")
        and within(execution.modified_ms, params, "LastModifiedTimeAfter", "LastModifiedTimeBefore")
    ]
    keys = {
        "CreationTime": lambda item: item.created_ms,
        "ScheduledTime": lambda item: item.scheduled_ms,
        "Status": lambda item: item.status,
    }
    page, token = paged(executions, params, keys)
    return drop_none({"MonitoringExecutionSummaries": [execution_summary(item) for item in page], "NextToken": token})


def execution_summary(execution: Execution) -> dict[str, Any]:
    """MonitoringExecutionSummary of ``execution``."""
    details = execution.details
    return drop_none(
        {
            "MonitoringScheduleName": execution.schedule_name,
            "ScheduledTime": to_datetime(execution.scheduled_ms),
            "CreationTime": to_datetime(execution.created_ms),
            "LastModifiedTime": to_datetime(execution.modified_ms),
            "MonitoringExecutionStatus": execution.status,
            "ProcessingJobArn": details.get("processing_job_arn"),
            "EndpointName": details["endpoint"],
            "FailureReason": details.get("failure_reason"),
            "MonitoringJobDefinitionName": details.get("job_definition_name"),
            "MonitoringType": details["monitoring_type"],
        }
    )


def _matches(details: dict[str, Any], params: dict[str, Any]) -> bool:
    """The EndpointName, MonitoringJobDefinitionName and MonitoringTypeEquals filters."""
    return (
        (not params.get("EndpointName") or details["endpoint"] == params["EndpointName"])
        and (
            not params.get("MonitoringJobDefinitionName")
            or details.get("job_definition_name") == params["MonitoringJobDefinitionName"]
        )
        and (not params.get("MonitoringTypeEquals") or details["monitoring_type"] == params["MonitoringTypeEquals"])
    )


async def _resolve(ctx: RequestContext, config: dict[str, Any]) -> dict[str, Any]:
    """Check a MonitoringScheduleConfig; the schedule's details it gives: ``endpoint``,
    ``monitoring_type``, ``job_definition_name``, ``definition_kind``, ``definition``."""
    schedule = config.get("ScheduleConfig")
    if not schedule:
        raise AwsError("ValidationException", "MonitoringScheduleConfig.ScheduleConfig is required.")
    expression = ScheduleExpression.parse(schedule["ScheduleExpression"])
    window = (schedule.get("DataAnalysisStartTime"), schedule.get("DataAnalysisEndTime"))
    if expression.one_time:
        if not all(window):
            raise AwsError(
                "ValidationException",
                "A one-time (NOW) schedule needs DataAnalysisStartTime and DataAnalysisEndTime.",
            )
        check_offsets(*window, "DataAnalysis")
    elif any(window):
        raise AwsError(
            "ValidationException", "DataAnalysisStartTime and DataAnalysisEndTime are only for one-time (NOW) schedules."
        )
    inline, name = config.get("MonitoringJobDefinition"), config.get("MonitoringJobDefinitionName")
    if (inline is None) == (name is None):
        raise AwsError(
            "ValidationException", "Exactly one of MonitoringJobDefinition or MonitoringJobDefinitionName must be given."
        )
    monitoring_type = config.get("MonitoringType") or "DataQuality"
    if monitoring_type not in DEFINITION_KINDS:
        raise AwsError("ValidationException", f"MonitoringType {monitoring_type} is not supported by Shipyard.")
    if inline is not None:
        if monitoring_type != "DataQuality":
            raise AwsError("ValidationException", "An inline MonitoringJobDefinition is for DataQuality monitoring only.")
        definition = definitions.inline(inline)
        endpoint = await check_definition(ctx, definition)
        kind = None
    else:
        kind = DEFINITION_KINDS[monitoring_type]
        record = await find(ctx, kind, name)
        definition = definitions.from_job_definition(kind, record.request)
        endpoint = record.details["endpoint"]
        await check_endpoint(ctx, endpoint)
    return {
        "endpoint": endpoint,
        "monitoring_type": monitoring_type,
        "job_definition_name": name,
        "definition_kind": kind,
        "definition": definition,
    }
