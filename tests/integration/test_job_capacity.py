"""Capacity: FIFO admission with a visible wait, memory limits, and jobs across server crashes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer, start_server
from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import (
    log_messages,
    sagemaker_role,
    start_script_job,
    wait_for_job,
    wait_for_status,
)


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own with 4 vCPUs for jobs, so the tests here own its queue."""
    with start_server(tmp_path_factory.mktemp("capacity"), extra_env={"SHIPYARD_CPUS": "4"}) as running:
        yield running


@pytest.fixture(scope="module")
def bucket(small_server: RunningServer) -> str:
    name = unique_name("capacity")
    small_server.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def role(small_server: RunningServer) -> str:
    return sagemaker_role(small_server)


def test_a_job_waits_for_capacity_first_come_first_served(small_server, bucket, role):
    sagemaker = small_server.client("sagemaker")
    big = start_script_job(small_server, bucket, role, "import time\ntime.sleep(2.5)\n", instance_type="ml.m5.xlarge")
    wait_for_status(sagemaker, big, "Training")
    small = start_script_job(small_server, bucket, role, "print('my turn')\n", instance_type="ml.t3.medium")
    waiting = sagemaker.describe_training_job(TrainingJobName=small)
    assert (waiting["TrainingJobStatus"], waiting["SecondaryStatus"]) == ("InProgress", "Starting")
    message = waiting["SecondaryStatusTransitions"][-1]["StatusMessage"]
    assert message.startswith("Waiting for capacity") and "ml.t3.medium" in message
    first, second = wait_for_job(sagemaker, big), wait_for_job(sagemaker, small)
    assert (first["TrainingJobStatus"], second["TrainingJobStatus"]) == ("Completed", "Completed")
    assert second["TrainingStartTime"] >= first["TrainingEndTime"]


def test_a_job_over_its_memory_fails_and_the_server_lives(small_server, bucket, role):
    sagemaker = small_server.client("sagemaker")
    hog = "blocks = []\nwhile True:\n    blocks.append(b'x' * (256 << 20))\n"
    name = start_script_job(small_server, bucket, role, hog, instance_type="ml.t3.medium")
    job = wait_for_job(sagemaker, name)
    assert job["TrainingJobStatus"] == "Failed"
    assert "memory" in job["FailureReason"].lower()
    assert sagemaker.list_training_jobs(MaxResults=1)["TrainingJobSummaries"]  # still serving


def _host_dir(server: RunningServer, name: str) -> Path:
    return server.data_dir / "jobs" / "training" / name / "algo-1"


def _processes_in(directory: Path) -> list[int]:
    """The processes whose working directory is ``directory`` (a job's runner)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == directory.resolve():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_jobs_survive_a_server_crash(small_server, bucket, role):
    sagemaker = small_server.client("sagemaker")
    survivor = start_script_job(
        small_server,
        bucket,
        role,
        "import os, time\ntime.sleep(3)\nopen(os.environ['SM_MODEL_DIR'] + '/m.txt', 'w').write('kept')\nprint('finished')\n",
        instance_type="ml.t3.medium",
    )
    victim = start_script_job(small_server, bucket, role, "import time\ntime.sleep(60)\n", instance_type="ml.t3.medium")
    done = start_script_job(small_server, bucket, role, "print('quick')\n", instance_type="ml.t3.medium")
    wait_for_status(sagemaker, survivor, "Training")
    wait_for_status(sagemaker, victim, "Training")
    completed = wait_for_job(sagemaker, done)
    assert completed["TrainingJobStatus"] == "Completed"

    small_server.stop(kill=True)
    runners = _processes_in(_host_dir(small_server, victim))
    assert runners
    for pid in runners:
        os.killpg(pid, signal.SIGKILL)
    small_server.start()

    sagemaker = small_server.client("sagemaker")
    lost = wait_for_job(sagemaker, victim)
    assert lost["TrainingJobStatus"] == "Failed"
    assert lost["FailureReason"] == "InternalServerError: the server restarted during the job"
    kept = wait_for_job(sagemaker, survivor)
    assert kept["TrainingJobStatus"] == "Completed", kept.get("FailureReason")
    key = kept["ModelArtifacts"]["S3ModelArtifacts"].removeprefix(f"s3://{bucket}/")
    assert small_server.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    again = sagemaker.describe_training_job(TrainingJobName=done)
    assert again["TrainingJobStatus"] == "Completed"
    assert again["ModelArtifacts"] == completed["ModelArtifacts"]
    # a job created after the restart runs as usual
    after = start_script_job(small_server, bucket, role, "print('after')\n", instance_type="ml.t3.medium")
    assert wait_for_job(sagemaker, after)["TrainingJobStatus"] == "Completed"


def test_capacity_from_the_config_file_refuses_what_never_fits(tmp_path: Path) -> None:
    config = tmp_path / "shipyard.toml"
    config.write_text("cpus = 2\nmemory = 8192\ngpus = 0\n")
    with start_server(tmp_path / "server", extra_env={"SHIPYARD_CONFIG": str(config)}) as server:
        bucket = unique_name("cfg")
        server.client("s3").create_bucket(Bucket=bucket)
        role = sagemaker_role(server)
        with pytest.raises(ClientError) as refused:
            start_script_job(server, bucket, role, "print(1)\n", instance_type="ml.m5.xlarge")
        error = refused.value.response["Error"]
        assert error["Code"] == "ResourceLimitExceeded"
        assert "ml.m5.xlarge" in error["Message"] and "2 vCPUs" in error["Message"] and "8192 MiB" in error["Message"]
        with pytest.raises(ClientError) as gpu:
            start_script_job(server, bucket, role, "print(1)\n", instance_type="ml.g4dn.xlarge")
        assert gpu.value.response["Error"]["Code"] == "ResourceLimitExceeded"
        fits = start_script_job(server, bucket, role, "print('fits')\n", instance_type="ml.m5.large")
        assert wait_for_job(server.client("sagemaker"), fits)["TrainingJobStatus"] == "Completed"


def test_a_job_lost_in_a_crash_is_retried_as_its_retry_strategy_allows(small_server, bucket, role):
    script = f"""
        import os, time
        import boto3, botocore
        s3, key = boto3.client("s3"), "markers/" + os.environ["TRAINING_JOB_NAME"]
        try:
            s3.head_object(Bucket="{bucket}", Key=key)
            print("second attempt", flush=True)
        except botocore.exceptions.ClientError:
            s3.put_object(Bucket="{bucket}", Key=key, Body=b"started")
            print("first attempt", flush=True)
            time.sleep(60)
    """
    name = start_script_job(
        small_server, bucket, role, script, prefix="retry", instance_type="ml.t3.medium",
        RetryStrategy={"MaximumRetryAttempts": 1},
    )
    deadline = time.monotonic() + 30
    while "first attempt" not in log_messages(small_server, name):
        assert time.monotonic() < deadline
        time.sleep(0.1)

    small_server.stop(kill=True)
    for pid in _processes_in(_host_dir(small_server, name)):
        os.killpg(pid, signal.SIGKILL)
    small_server.start()

    job = wait_for_job(small_server.client("sagemaker"), name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    restarting = [item for item in job["SecondaryStatusTransitions"] if item["Status"] == "Restarting"]
    assert len(restarting) == 1
    assert "the server restarted during the job" in restarting[0]["StatusMessage"]
    assert "second attempt" in log_messages(small_server, name)
