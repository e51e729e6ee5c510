"""A training job's host, from ``Starting`` to ``Completed``: SageMaker's training contract.

Only the first host (``algo-1``) uploads ``model.tar.gz`` and ``output.tar.gz``, as on
SageMaker; every host syncs its checkpoints.
"""

from __future__ import annotations

from typing import Any

from shipyard.jobs import artifacts
from shipyard.jobs.checkpoints import Checkpoints
from shipyard.jobs.commands import training_command
from shipyard.jobs.context import Job
from shipyard.jobs.errors import ClientError, JobFailure, StopRequested
from shipyard.jobs.inputs import DataSource, Who, fetch
from shipyard.jobs.outcome import algorithm_error
from shipyard.jobs.s3 import S3Error, join_uri
from shipyard.jobs.spec import HostResult
from shipyard.jobs.toolkit import TrainingLayout, training_environment, write_configs

DEFAULT_CHECKPOINTS = "/opt/ml/checkpoints"


def run_training(job: Job) -> HostResult:
    """Prepare, run and wrap up one training host; the result to write."""
    request = job.spec.request
    channels = request.get("InputDataConfig") or []
    layout = TrainingLayout(job.ml.path)
    job.log.event("Starting", "Preparing the instances for training")
    checkpoints: Checkpoints | None = None
    try:
        with job.stop.interrupting():
            layout.create([channel["ChannelName"] for channel in channels])
            write_configs(layout, job.spec)
            job.log.event("Downloading", "Downloading input data")
            _download_channels(job, layout, channels)
            checkpoints = _restore_checkpoints(job, request.get("CheckpointConfig") or {})
            command = training_command(job, layout)
    except JobFailure as failure:
        return HostResult("Failed", failure_reason=job.ml.explain(str(failure)))
    except StopRequested:
        return HostResult("Stopped")
    job.log.event("Training", "Training image download completed. Training in progress.")
    if checkpoints is not None:
        checkpoints.start()
    if job.is_first_host or checkpoints is not None:
        job.s3.warm_up()
    variables = {**training_environment(layout, job.spec), "TRAINING_JOB_NAME": job.spec.job_name, "TRAINING_JOB_ARN": job.spec.job_arn}
    ending = job.run(command, variables)
    try:
        if ending.stopped:
            return _stopped(job, layout, checkpoints, ending.exit_code)
        if ending.exit_code != 0:
            _finish_checkpoints(job, checkpoints)
            reason = algorithm_error(ending, command, layout.failure_file)
            return HostResult("Failed", exit_code=ending.exit_code, failure_reason=job.ml.explain(reason))
        job.log.event("Uploading", "Uploading generated training model")
        _finish_checkpoints(job, checkpoints)
        model, output = _upload(job, layout)
        return HostResult("Completed", exit_code=0, model_artifacts=model, output_data=output)
    except JobFailure as failure:
        return HostResult("Failed", exit_code=ending.exit_code, failure_reason=job.ml.explain(str(failure)))


def _stopped(job: Job, layout: TrainingLayout, checkpoints: Checkpoints | None, exit_code: int) -> HostResult:
    """After a stop: keep what the job saved before it ended."""
    _finish_checkpoints(job, checkpoints)
    model, output = _upload(job, layout)
    return HostResult("Stopped", exit_code=exit_code, model_artifacts=model, output_data=output)


def _download_channels(job: Job, layout: TrainingLayout, channels: list[dict[str, Any]]) -> None:
    who = Who(job.spec.host, job.spec.hosts, job.spec.region, job.spec.request.get("RoleArn", ""))
    for channel in channels:
        name = channel["ChannelName"]
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if not source:
            raise ClientError(f"Channel {name}: only S3DataSource inputs are supported by Shipyard.")
        mode = channel.get("InputMode") or (job.spec.request.get("AlgorithmSpecification") or {}).get("TrainingInputMode", "File")
        if mode != "File":
            job.log.info(f"Channel {name}: input mode {mode} is served as File mode (the files are downloaded)")
        data = DataSource.from_request(source, channel.get("CompressionType", "None"))
        job.log.info(f"Downloading {data.uri} into {layout.channel_dir(name)}")
        count = fetch(job.s3, data, layout.channel_dir(name), who)
        job.log.info(f"Channel {name}: {count} objects downloaded")


def _restore_checkpoints(job: Job, config: dict[str, Any]) -> Checkpoints | None:
    if not config.get("S3Uri"):
        return None
    local = job.ml.map(config.get("LocalPath") or DEFAULT_CHECKPOINTS, "CheckpointConfig.LocalPath")
    local.mkdir(parents=True, exist_ok=True)
    checkpoints = Checkpoints(job.s3, job.log, local, config["S3Uri"])
    try:
        checkpoints.restore()
    except S3Error as error:
        raise ClientError(f'Failed to restore checkpoints from "{config["S3Uri"]}": {error}') from None
    return checkpoints


def _finish_checkpoints(job: Job, checkpoints: Checkpoints | None) -> None:
    if checkpoints is None:
        return
    try:
        checkpoints.finish()
    except S3Error as error:
        raise ClientError(f'Failed to upload checkpoints to "{checkpoints.uri}": {error}') from None


def _upload(job: Job, layout: TrainingLayout) -> tuple[str, str]:
    """Upload ``model/`` and ``output/data/`` (first host only); their S3 URIs."""
    config = job.spec.request.get("OutputDataConfig") or {}
    base = config.get("S3OutputPath")
    if not job.is_first_host or not base:
        return "", ""
    destination = join_uri(base, job.spec.job_name, "output")
    try:
        if config.get("CompressionType") == "NONE":
            model = join_uri(destination, "model") + "/"
            count = artifacts.upload_tree(job.s3, layout.model_dir, model)
            job.log.info(f"Uploaded {count} model files to {model}")
        else:
            model = artifacts.upload_archive(job.s3, layout.model_dir, job.host_dir / "model.tar.gz", join_uri(destination, "model.tar.gz"))
            job.log.info(f"Uploaded {model}")
        output = ""
        if artifacts.files_under(layout.output_data_dir):
            archive = job.host_dir / "output.tar.gz"
            output = artifacts.upload_archive(job.s3, layout.output_data_dir, archive, join_uri(destination, "output.tar.gz"))
            job.log.info(f"Uploaded {output}")
    except S3Error as error:
        raise artifacts.upload_failure("the model artifacts", destination, error, job.spec.request.get("RoleArn", "")) from None
    return model, output
