"""``shipyard logs``: a job's log, read through the CloudWatch Logs API like any client."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from rich.console import Console

from shipyard.compute.supervisor import LOG_GROUPS

_DESCRIBE = {
    "training": ("describe_training_job", "TrainingJobName", "TrainingJobStatus"),
    "processing": ("describe_processing_job", "ProcessingJobName", "ProcessingJobStatus"),
}
_ENDED = {"Completed", "Failed", "Stopped"}


@click.command()
@click.argument("job")
@click.option("--kind", type=click.Choice(sorted(LOG_GROUPS)), default="training", show_default=True, help="What JOB is.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the job ends.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line: host, timestamp (ms), message.")
@click.option("--profile", default="shipyard", show_default=True, help="AWS profile naming the server and key.")
@click.option("--endpoint-url", help="Server URL, instead of the profile's endpoint_url.")
def logs(job: str, kind: str, follow: bool, as_json: bool, profile: str, endpoint_url: str | None) -> None:
    """Print the log of a training or processing job (every host, as `[algo-N] line`)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session(profile_name=profile)
    client = session.client("logs", endpoint_url=endpoint_url)
    sagemaker = session.client("sagemaker", endpoint_url=endpoint_url)
    try:
        _print_logs(client, sagemaker, job, kind, follow, as_json)
    except (BotoCoreError, ClientError) as error:
        Console(stderr=True).print(f"[red]Cannot read the log of {job}:[/] {error}")
        sys.exit(1)


def _print_logs(client: Any, sagemaker: Any, job: str, kind: str, follow: bool, as_json: bool) -> None:
    operation, name_key, status_key = _DESCRIBE[kind]
    describe = getattr(sagemaker, operation)
    describe(**{name_key: job})  # a job that does not exist is an error, not an empty log
    group = LOG_GROUPS[kind]
    tokens: dict[str, str | None] = {}
    while True:
        ended = describe(**{name_key: job})[status_key] in _ENDED
        streams = _streams(client, group, job)
        for stream in streams:
            tokens[stream] = _print_new(client, group, stream, tokens.get(stream), multi=len(streams) > 1, as_json=as_json)
        if not follow or ended:
            return
        time.sleep(0.5)


def _streams(client: Any, group: str, job: str) -> list[str]:
    try:
        pages = client.get_paginator("describe_log_streams").paginate(logGroupName=group, logStreamNamePrefix=f"{job}/")
        return [stream["logStreamName"] for page in pages for stream in page["logStreams"]]
    except client.exceptions.ResourceNotFoundException:
        return []


def _print_new(client: Any, group: str, stream: str, token: str | None, *, multi: bool, as_json: bool) -> str | None:
    """Print a stream's events after ``token``; the token to continue from."""
    host = stream.split("/", 1)[-1].rsplit("-", 1)[0]
    while True:
        request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            request["nextToken"] = token
        answer = client.get_log_events(**request)
        for event in answer["events"]:
            if as_json:
                click.echo(json.dumps({"host": host, "timestamp": event["timestamp"], "message": event["message"]}))
            else:
                click.echo(f"[{host}] {event['message']}" if multi else event["message"])
        if answer["nextForwardToken"] == token:
            return token
        token = answer["nextForwardToken"]
