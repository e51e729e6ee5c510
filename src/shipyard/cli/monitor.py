"""``shipyard monitor``: Model Monitor from the command line (``monitor run`` starts an
execution of a monitoring schedule now, instead of at its next scheduled hour)."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta
from typing import Any

import click
from rich.console import Console

#: Execution statuses after which nothing changes.
_ENDED = {"Completed", "CompletedWithViolations", "Failed", "Stopped"}

console = Console(stderr=True)


class RunError(Exception):
    """The server refused the run, or the execution could not be followed."""


@click.group()
def monitor() -> None:
    """Model Monitor: monitoring schedules and their executions."""


@monitor.command("run")
@click.argument("schedule")
@click.option("--profile", default="shipyard", show_default=True, help="AWS profile naming the server and key.")
@click.option("--endpoint-url", help="Server URL, instead of the profile's endpoint_url.")
@click.option("--wait", is_flag=True, help="Wait for the execution to end and print its violations.")
@click.option("--timeout", type=click.IntRange(1), default=600, show_default=True, help="Seconds --wait waits at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the execution as JSON.")
def run(schedule: str, profile: str, endpoint_url: str | None, wait: bool, timeout: int, as_json: bool) -> None:
    """Start an execution of monitoring schedule SCHEDULE now, over the last hour (or the
    window its job definition's offsets give), and print it.

    The request is signed with the profile's credentials; the caller needs
    sagemaker:StartMonitoringSchedule on the schedule."""
    import botocore.session
    from botocore.exceptions import BotoCoreError, ClientError

    session = botocore.session.Session(profile=profile)
    try:
        sagemaker = session.create_client("sagemaker", endpoint_url=endpoint_url)
        execution = _start(session, sagemaker, schedule)
        if wait:
            execution = _wait(sagemaker, execution, timeout)
            execution["Violations"] = _violations(session, sagemaker, execution, endpoint_url)
    except (BotoCoreError, ClientError, RunError) as error:
        console.print(f"[red]Cannot run monitoring schedule {schedule}:[/] {error}")
        sys.exit(1)
    _print(execution, as_json)
    if execution["MonitoringExecutionStatus"] == "Failed":
        sys.exit(1)


def _start(session: Any, sagemaker: Any, schedule: str) -> dict[str, Any]:
    """POST the run-now request, signed with SigV4 as a SageMaker request; the execution."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.httpsession import URLLib3Session

    from shipyard.server.monitoring_run import PATH

    credentials = session.get_credentials()
    if credentials is None:
        raise RunError("the profile has no credentials")
    request = AWSRequest(
        method="POST",
        url=sagemaker.meta.endpoint_url.rstrip("/") + PATH,
        data=json.dumps({"MonitoringScheduleName": schedule}).encode(),
        headers={"Content-Type": "application/json"},
    )
    SigV4Auth(credentials.get_frozen_credentials(), "sagemaker", sagemaker.meta.region_name).add_auth(request)
    verify = session.get_config_variable("ca_bundle") or True
    response = URLLib3Session(verify=verify).send(request.prepare())
    try:
        answer = json.loads(response.content or b"{}")
    except ValueError:
        raise RunError(f"the server answered HTTP {response.status_code}") from None
    if response.status_code != 200:
        raise RunError(f"{answer.get('__type', 'Error')}: {answer.get('message', response.status_code)}")
    return answer


def _wait(sagemaker: Any, execution: dict[str, Any], timeout: int) -> dict[str, Any]:
    """The execution once it has ended (polling ListMonitoringExecutions)."""
    scheduled = datetime.fromtimestamp(execution["ScheduledTime"]).astimezone()
    deadline = time.monotonic() + timeout
    with console.status(f"Execution of {execution['MonitoringScheduleName']}: {execution['MonitoringExecutionStatus']}") as status:
        while True:
            found = sagemaker.list_monitoring_executions(
                MonitoringScheduleName=execution["MonitoringScheduleName"],
                ScheduledTimeAfter=scheduled - timedelta(milliseconds=1),
                ScheduledTimeBefore=scheduled + timedelta(milliseconds=1),
            )["MonitoringExecutionSummaries"]
            if not found:
                raise RunError("the execution is gone (was the schedule deleted?)")
            current = found[0]
            status.update(f"Execution of {current['MonitoringScheduleName']}: {current['MonitoringExecutionStatus']}")
            if current["MonitoringExecutionStatus"] in _ENDED:
                return {key: _plain(value) for key, value in current.items()}
            if time.monotonic() > deadline:
                raise RunError(f"the execution did not end within {timeout} s")
            time.sleep(1)


def _violations(session: Any, sagemaker: Any, execution: dict[str, Any], endpoint_url: str | None) -> list[dict[str, Any]]:
    """The ``violations`` of the execution's ``constraint_violations.json`` ([] if none)."""
    arn = execution.get("ProcessingJobArn")
    if not arn or execution["MonitoringExecutionStatus"] not in ("Completed", "CompletedWithViolations"):
        return []
    job = sagemaker.describe_processing_job(ProcessingJobName=arn.rsplit("/", 1)[-1])
    uri = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    s3 = session.create_client("s3", endpoint_url=endpoint_url)
    try:
        body = s3.get_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/constraint_violations.json")["Body"].read()
    except s3.exceptions.NoSuchKey:
        return []
    return json.loads(body).get("violations", [])


def _plain(value: Any) -> Any:
    return value.timestamp() if isinstance(value, datetime) else value


def _print(execution: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(execution, indent=2, sort_keys=True))
        return
    scheduled = datetime.fromtimestamp(execution["ScheduledTime"]).astimezone().isoformat(timespec="seconds")
    click.echo(f"{execution['MonitoringScheduleName']} at {scheduled}: {execution['MonitoringExecutionStatus']}")
    for key in ("ProcessingJobArn", "FailureReason"):
        if execution.get(key):
            click.echo(f"  {key}: {execution[key]}")
    for violation in execution.get("Violations") or []:
        click.echo(f"  {violation.get('constraint_check_type')} on {violation.get('feature_name')}: {violation.get('description')}")
