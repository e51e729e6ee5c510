"""A processing job's host: inputs into ``/opt/ml/processing/...``, the app, outputs to S3.

Every host uploads its own outputs (as on SageMaker, where each instance writes its
``LocalPath`` to the output's S3 URI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shipyard.jobs import artifacts
from shipyard.jobs.commands import processing_command
from shipyard.jobs.context import Job
from shipyard.jobs.errors import ClientError, JobFailure, StopRequested
from shipyard.jobs.inputs import DataSource, Who, fetch
from shipyard.jobs.outcome import algorithm_error
from shipyard.jobs.s3 import S3Error
from shipyard.jobs.spec import HostResult
from shipyard.jobs.toolkit import resource_config

#: ExitMessage is "a string, up to one KB in size" (DescribeProcessingJob).
_EXIT_MESSAGE_LIMIT = 1024


def run_processing(job: Job) -> HostResult:
    """Prepare, run and wrap up one processing host; the result to write."""
    request = job.spec.request
    job.log.event("Starting", "Preparing the instances for processing")
    try:
        with job.stop.interrupting():
            _write_configs(job)
            outputs = _outputs(job, ((request.get("ProcessingOutputConfig") or {}).get("Outputs")) or [])
            job.log.event("Downloading", "Downloading input data")
            _download_inputs(job, request.get("ProcessingInputs") or [])
            command = processing_command(job)
    except JobFailure as failure:
        return HostResult("Failed", failure_reason=job.ml.explain(str(failure)))
    except StopRequested:
        return HostResult("Stopped")
    job.log.event("Processing", "Processing job in progress")
    if outputs:
        job.s3.warm_up()
    ending = job.run(command, {"PROCESSING_JOB_NAME": job.spec.job_name, "PROCESSING_JOB_ARN": job.spec.job_arn})
    if not ending.stopped and ending.exit_code != 0:
        reason = algorithm_error(ending, command, job.ml.path / "output" / "failure")
        return HostResult("Failed", exit_code=ending.exit_code, failure_reason=job.ml.explain(reason))
    if not ending.stopped:
        job.log.event("Uploading", "Uploading processing job outputs")
    try:
        uploaded = _upload(job, outputs)
    except JobFailure as failure:
        return HostResult("Failed", exit_code=ending.exit_code, failure_reason=job.ml.explain(str(failure)))
    if ending.stopped:
        return HostResult("Stopped", exit_code=ending.exit_code, outputs=uploaded)
    return HostResult("Completed", exit_code=ending.exit_code, outputs=uploaded, exit_message=_exit_message(job))


def _exit_message(job: Job) -> str:
    """What the container wrote to ``/opt/ml/output/message`` (at most 1 KB, as SageMaker
    keeps of it); empty if nothing."""
    try:
        with (job.ml.path / "output" / "message").open("rb") as handle:
            return handle.read(_EXIT_MESSAGE_LIMIT).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _write_configs(job: Job) -> None:
    config = job.ml.path / "config"
    config.mkdir(parents=True, exist_ok=True)
    description = {**job.spec.request, "ProcessingJobName": job.spec.job_name, "ProcessingJobArn": job.spec.job_arn}
    (config / "processingjobconfig.json").write_text(json.dumps(description, indent=1, sort_keys=True))
    (config / "resourceconfig.json").write_text(json.dumps(resource_config(job.spec), indent=1, sort_keys=True))


def _download_inputs(job: Job, inputs: list[dict[str, Any]]) -> None:
    who = Who(job.spec.host, job.spec.hosts, job.spec.region, job.spec.request.get("RoleArn", ""))
    for item in inputs:
        name = item.get("InputName", "")
        source = item.get("S3Input")
        if not source:
            raise ClientError(f"Processing input {name}: only S3Input inputs are supported by Shipyard (not DatasetDefinition).")
        local = job.ml.map(source.get("LocalPath", ""), f"Processing input {name}: LocalPath")
        if source.get("S3InputMode", "File") != "File":
            job.log.info(f"Processing input {name}: input mode {source['S3InputMode']} is served as File mode")
        data = DataSource.from_request(source, source.get("S3CompressionType", "None"))
        job.log.info(f"Downloading {data.uri} into {local}")
        count = fetch(job.s3, data, local, who)
        job.log.info(f"Processing input {name}: {count} objects downloaded")


def _outputs(job: Job, outputs: list[dict[str, Any]]) -> list[tuple[str, Path, str]]:
    """(name, local folder, S3 URI) of each S3 output; the folders are made empty."""
    found = []
    for item in outputs:
        name = item.get("OutputName", "")
        target = item.get("S3Output")
        if not target:
            job.log.info(f"Processing output {name}: only S3Output is uploaded by Shipyard; skipped")
            continue
        local = job.ml.map(target.get("LocalPath", ""), f"Processing output {name}: LocalPath")
        local.mkdir(parents=True, exist_ok=True)
        found.append((name, local, target["S3Uri"]))
    return found


def _upload(job: Job, outputs: list[tuple[str, Path, str]]) -> dict[str, str]:
    uploaded = {}
    for name, local, uri in outputs:
        try:
            count = artifacts.upload_tree(job.s3, local, uri)
        except S3Error as error:
            raise artifacts.upload_failure(f"output {name}", uri, error, job.spec.request.get("RoleArn", "")) from None
        job.log.info(f"Uploaded {count} files of output {name} to {uri}")
        uploaded[name] = uri
    return uploaded
