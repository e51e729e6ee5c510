"""``shipyard logs``: a job's or an endpoint's log, read through the CloudWatch Logs API
like any client."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from rich.console import Console

from shipyard.compute.supervisor import LOG_GROUPS
from shipyard.serving.fleet import LOG_GROUP_PREFIX

#: Per kind: the Describe operation, its name member and its status member.
_DESCRIBE = {
    "training": ("describe_training_job", "TrainingJobName", "TrainingJobStatus"),
    "processing": ("describe_processing_job", "ProcessingJobName", "ProcessingJobStatus"),
    "transform": ("describe_transform_job", "TransformJobName", "TransformJobStatus"),
    "endpoint": ("describe_endpoint", "EndpointName", "EndpointStatus"),
}
#: Statuses after which nothing more is logged (an endpoint logs until it is deleted).
_ENDED = {"Completed", "Failed", "Stopped"}


@click.command()
@click.argument("job")
@click.option("--kind", type=click.Choice(sorted(_DESCRIBE)), default="training", show_default=True, help="What JOB is.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the job ends.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line: host, timestamp (ms), message.")
@click.option("--profile", default="shipyard", show_default=True, help="AWS profile naming the server and key.")
@click.option("--endpoint-url", help="Server URL, instead of the profile's endpoint_url.")
def logs(job: str, kind: str, follow: bool, as_json: bool, profile: str, endpoint_url: str | None) -> None:
    """Print the log of a training, processing or transform job (every host, as `[algo-N] line`),
    or of an endpoint (`--kind endpoint`: every instance, as `[<variant>/<instance id>] line`)."""
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
    endpoint = kind == "endpoint"
    group = LOG_GROUP_PREFIX + job if endpoint else LOG_GROUPS[kind]
    tokens: dict[str, str | None] = {}
    while True:
        ended = describe(**{name_key: job})[status_key] in _ENDED and not endpoint
        streams = _streams(client, group, "" if endpoint else f"{job}/")
        for stream in streams:
            host = stream if endpoint else stream.split("/", 1)[-1].rsplit("-", 1)[0]
            tokens[stream] = _print_new(
                client, group, stream, tokens.get(stream), host=host, multi=len(streams) > 1, as_json=as_json
            )
        if not follow or ended:
            return
        time.sleep(0.5)


def _streams(client: Any, group: str, prefix: str) -> list[str]:
    try:
        paginator = client.get_paginator("describe_log_streams")
        pages = paginator.paginate(logGroupName=group, **({"logStreamNamePrefix": prefix} if prefix else {}))
        return [stream["logStreamName"] for page in pages for stream in page["logStreams"]]
    except client.exceptions.ResourceNotFoundException:
        return []


def _print_new(
    client: Any, group: str, stream: str, token: str | None, *, host: str, multi: bool, as_json: bool
) -> str | None:
    """Print a stream's events after ``token``, labelled ``host``; the token to continue from."""
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
