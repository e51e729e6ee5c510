"""Build and follow SageMaker jobs on a running server, for tests, benches and examples."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
import time
from collections.abc import Mapping
from typing import Any

from shipyard.testing.identities import allow, trust_text, unique_name
from shipyard.testing.server import RunningServer

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
PYTORCH_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1.0-cpu-py310"

_ENDED = {"Completed", "Failed", "Stopped"}


def sagemaker_role(server: RunningServer, policy: Mapping[str, Any] | None = None) -> str:
    """A role SageMaker may assume, allowed ``policy`` (default: all of S3); its ARN."""
    iam = server.client("iam")
    name = unique_name("sagemaker")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_text())["Role"]["Arn"]
    document = policy if policy is not None else allow("s3:*")
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document))
    return arn


def sourcedir_tar(files: Mapping[str, str]) -> bytes:
    """A ``sourcedir.tar.gz`` holding ``files`` (name -> text, dedented)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = textwrap.dedent(text).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload_sourcedir(server: RunningServer, bucket: str, prefix: str, files: Mapping[str, str]) -> str:
    """Upload :func:`sourcedir_tar` of ``files``; its ``s3://`` URI."""
    key = f"{prefix}/source/sourcedir.tar.gz"
    server.client("s3").put_object(Bucket=bucket, Key=key, Body=sourcedir_tar(files))
    return f"s3://{bucket}/{key}"


def script_hyperparameters(program: str, submit_dir: str, **values: Any) -> dict[str, str]:
    """Script-mode hyperparameters as the SageMaker Python SDK sends them (JSON strings)."""
    params = {"sagemaker_program": json.dumps(program), "sagemaker_submit_directory": json.dumps(submit_dir)}
    params.update({name: json.dumps(value) for name, value in values.items()})
    return params


def training_request(
    name: str,
    role: str,
    output: str,
    *,
    image: str = SKLEARN_IMAGE,
    hyperparameters: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
    instance_type: str = "ml.m5.large",
    instance_count: int = 1,
    max_runtime: int = 600,
    **extra: Any,
) -> dict[str, Any]:
    """CreateTrainingJob's parameters, as the SageMaker SDK would send them."""
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": role,
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": instance_count, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        "HyperParameters": dict(hyperparameters or {}),
    }
    if channels:
        request["InputDataConfig"] = [
            {
                "ChannelName": channel,
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
                },
            }
            for channel, uri in channels.items()
        ]
    request.update(extra)
    return request


def start_script_job(
    server: RunningServer,
    bucket: str,
    role: str,
    script: str,
    *,
    prefix: str = "job",
    hyperparameters: Mapping[str, Any] | None = None,
    **fields: Any,
) -> str:
    """Create a script-mode training job running ``script`` (as ``train.py``); its name.

    ``hyperparameters`` are the script's own (JSON-encoded as the SDK does); ``fields`` go
    to :func:`training_request` (``channels``, ``instance_type``, ``max_runtime``, members).
    """
    name = unique_name(prefix)
    source = upload_sourcedir(server, bucket, name, {"train.py": script})
    hps = script_hyperparameters("train.py", source, **(hyperparameters or {}))
    output = fields.pop("output", f"s3://{bucket}/output")
    server.client("sagemaker").create_training_job(**training_request(name, role, output, hyperparameters=hps, **fields))
    return name


def wait_for_job(sagemaker: Any, name: str, *, kind: str = "training", timeout: float = 120) -> dict[str, Any]:
    """Poll Describe*Job until the job ends; its last description."""
    describe = getattr(sagemaker, f"describe_{kind}_job")
    key, status_key = f"{kind.capitalize()}JobName", f"{kind.capitalize()}JobStatus"
    deadline = time.monotonic() + timeout
    while True:
        found = describe(**{key: name})
        if found[status_key] in _ENDED:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{kind} job {name} still {found[status_key]} after {timeout} s: {found}")
        time.sleep(0.05)


def wait_for_status(sagemaker: Any, name: str, secondary: str, *, timeout: float = 60) -> dict[str, Any]:
    """Poll DescribeTrainingJob until its SecondaryStatus is ``secondary``."""
    deadline = time.monotonic() + timeout
    while True:
        found = sagemaker.describe_training_job(TrainingJobName=name)
        if found["SecondaryStatus"] == secondary:
            return found
        if found["TrainingJobStatus"] in _ENDED or time.monotonic() > deadline:
            raise AssertionError(f"{name} never reached {secondary}: {found}")
        time.sleep(0.05)


def log_messages(server: RunningServer, name: str, *, group: str = "/aws/sagemaker/TrainingJobs") -> list[str]:
    """Every message of every log stream of job ``name``, stream by stream."""
    logs = server.client("logs")
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{name}/")["logStreams"]
    messages = []
    for stream in streams:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True)
        messages += [event["message"] for event in events["events"]]
    return messages
