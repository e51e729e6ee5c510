"""Training jobs through boto3: lifecycle, the container contract, errors, logs and metrics."""

from __future__ import annotations

import io
import json
import tarfile
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.identities import create_role, create_user, unique_name
from shipyard.testing.jobs import (
    log_messages,
    sagemaker_role,
    script_hyperparameters,
    start_script_job,
    training_request,
    upload_sourcedir,
    wait_for_job,
    wait_for_status,
)

TRAIN = """
    import argparse, json, os, sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--learning-rate", type=float)
    args = parser.parse_args()
    print("user code started", flush=True)
    for epoch in range(args.epochs):
        print(f"epoch={epoch} loss={1.0 / (epoch + 1):.4f}", flush=True)
    seen = {
        "args": sys.argv[1:],
        "hps": json.loads(os.environ["SM_HPS"]),
        "channels": json.loads(os.environ["SM_CHANNELS"]),
        "host": os.environ["SM_CURRENT_HOST"],
        "hosts": json.loads(os.environ["SM_HOSTS"]),
        "train_files": sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"])),
        "model_dir": os.environ["SM_MODEL_DIR"],
    }
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as handle:
        json.dump(seen, handle)
    with open("/opt/ml/model/literal.txt", "w") as handle:
        handle.write("written to the literal /opt/ml path")
    os.makedirs(os.environ["SM_OUTPUT_DATA_DIR"], exist_ok=True)
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.txt"), "w") as handle:
        handle.write("report")
"""


@pytest.fixture(scope="module")
def role(server: RunningServer) -> str:
    return sagemaker_role(server)


@pytest.fixture
def sagemaker(server: RunningServer):
    return server.client("sagemaker")


def _error(raised: pytest.ExceptionInfo) -> tuple[str, str]:
    """The AWS error code and message of a boto3 ClientError."""
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def _model_files(server: RunningServer, uri: str) -> dict[str, bytes]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = server.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        return {member.name.removeprefix("./"): archive.extractfile(member).read() for member in archive if member.isfile()}


def test_script_mode_job_completes_with_the_contract(server, sagemaker, s3, bucket, role):
    s3.put_object(Bucket=bucket, Key="data/train/a.csv", Body=b"1,2\n")
    s3.put_object(Bucket=bucket, Key="data/train/nested/b.csv", Body=b"3,4\n")
    source = upload_sourcedir(server, bucket, "code", {"train.py": TRAIN})
    name = unique_name("train")
    request = training_request(
        name,
        role,
        f"s3://{bucket}/output",
        hyperparameters=script_hyperparameters("train.py", source, epochs=3, **{"learning-rate": 0.1}),
        channels={"train": f"s3://{bucket}/data/train"},
        AlgorithmSpecification={
            "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "train:loss", "Regex": r"loss=([0-9.]+)"}],
        },
        EnableNetworkIsolation=False,
        DebugHookConfig={"S3OutputPath": f"s3://{bucket}/debug"},
        ProfilerConfig={"S3OutputPath": f"s3://{bucket}/profiler", "DisableProfiler": True},
        RetryStrategy={"MaximumRetryAttempts": 1},
        Environment={"MY_SETTING": "on"},
    )
    arn = sagemaker.create_training_job(**request)["TrainingJobArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:{server.client('sts').get_caller_identity()['Account']}:training-job/{name}"

    job = wait_for_job(sagemaker, name)

    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["SecondaryStatus"] == "Completed"
    statuses = [item["Status"] for item in job["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all(item["StatusMessage"] for item in job["SecondaryStatusTransitions"])
    assert job["TrainingStartTime"] <= job["TrainingEndTime"]
    assert job["TrainingTimeInSeconds"] >= 1 and job["BillableTimeInSeconds"] == job["TrainingTimeInSeconds"]
    assert job["HyperParameters"]["epochs"] == "3"
    assert job["DebugHookConfig"]["S3OutputPath"] == f"s3://{bucket}/debug"
    assert job["EnableNetworkIsolation"] is False
    model_uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert model_uri == f"s3://{bucket}/output/{name}/output/model.tar.gz"
    metrics = {item["MetricName"]: item["Value"] for item in job["FinalMetricDataList"]}
    assert metrics == {"train:loss": pytest.approx(1 / 3, abs=1e-3)}

    files = _model_files(server, model_uri)
    seen = json.loads(files["seen.json"])
    assert seen["args"] == ["--epochs", "3", "--learning-rate", "0.1"]
    assert seen["hps"] == {"epochs": 3, "learning-rate": 0.1}
    assert seen["channels"] == ["train"]
    assert seen["train_files"] == ["a.csv", "nested"]
    assert (seen["host"], seen["hosts"]) == ("algo-1", ["algo-1"])
    assert files["literal.txt"] == b"written to the literal /opt/ml path"
    output = s3.get_object(Bucket=bucket, Key=f"output/{name}/output/output.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(output)) as archive:
        assert "report.txt" in [member.name.removeprefix("./") for member in archive]

    messages = log_messages(server, name)
    assert "user code started" in messages
    assert "epoch=2 loss=0.3333" in messages
    streams = server.client("logs").describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/"
    )["logStreams"]
    assert [stream["logStreamName"].rsplit("-", 1)[0] for stream in streams] == [f"{name}/algo-1"]


def test_failure_reason_comes_from_output_failure(server, sagemaker, bucket, role):
    script = """
        import sys
        open("/opt/ml/output/failure", "w").write("ValueError: the data has no label column")
        sys.exit(3)
    """
    name = start_script_job(server, bucket, role, script, prefix="fail")
    job = wait_for_job(sagemaker, name)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["SecondaryStatus"] == "Failed"
    assert job["FailureReason"] == "ValueError: the data has no label column"


def test_a_non_zero_exit_fails_with_the_exit_code(server, sagemaker, bucket, role):
    name = start_script_job(server, bucket, role, "raise SystemExit(7)\n", prefix="exit")
    job = wait_for_job(sagemaker, name)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("AlgorithmError")
    assert "exit code" in job["FailureReason"].lower() and "7" in job["FailureReason"]


SLEEPER = """
    import os, signal, sys, time
    def save(signum, frame):
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "saved.txt"), "w") as handle:
            handle.write("saved at SIGTERM")
        sys.exit(0)
    signal.signal(signal.SIGTERM, save)
    print("sleeping", flush=True)
    time.sleep(120)
"""


def test_stop_training_job_saves_the_model(server, sagemaker, bucket, role):
    name = start_script_job(server, bucket, role, SLEEPER, prefix="stop")
    wait_for_status(sagemaker, name, "Training")
    time.sleep(0.5)
    sagemaker.stop_training_job(TrainingJobName=name)
    assert sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] in ("Stopping", "Stopped")
    job = wait_for_job(sagemaker, name)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert "Stopping" in [item["Status"] for item in job["SecondaryStatusTransitions"]]
    files = _model_files(server, job["ModelArtifacts"]["S3ModelArtifacts"])
    assert files["saved.txt"] == b"saved at SIGTERM"
    with pytest.raises(ClientError) as stopped_again:
        sagemaker.stop_training_job(TrainingJobName=name)
    assert _error(stopped_again)[0] == "ValidationException"


def test_max_runtime_stops_the_job(server, sagemaker, bucket, role):
    name = start_script_job(server, bucket, role, "import time\ntime.sleep(300)\n", prefix="slow", max_runtime=2)
    job = wait_for_job(sagemaker, name, timeout=60)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded"), job.get("FailureReason")


def test_waiter_sees_the_job_end(server, sagemaker, bucket, role):
    name = start_script_job(server, bucket, role, "print('done')\n", prefix="wait")
    sagemaker.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    job = sagemaker.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")


def test_a_missing_channel_fails_the_job_with_a_client_error(server, sagemaker, bucket, role):
    channels = {"train": f"s3://{bucket}/no/such/prefix"}
    name = start_script_job(server, bucket, role, "print('never')\n", prefix="nochannel", channels=channels)
    job = wait_for_job(sagemaker, name)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: No S3 objects found under S3 URL")
    assert f"s3://{bucket}/no/such/prefix" in job["FailureReason"]


def test_the_job_acts_with_its_role_and_no_more(server, sagemaker, s3, bucket, role):
    other = f"other-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=other)
    limited = sagemaker_role(
        server,
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
            ],
        },
    )
    script = f"""
        import boto3, botocore
        s3 = boto3.client("s3")
        print("whoami", boto3.client("sts").get_caller_identity()["Arn"])
        s3.put_object(Bucket="{bucket}", Key="from-job.txt", Body=b"ok")
        try:
            s3.put_object(Bucket="{other}", Key="x", Body=b"no")
            print("other bucket: allowed")
        except botocore.exceptions.ClientError as error:
            print("other bucket:", error.response["Error"]["Code"])
    """
    name = start_script_job(server, bucket, limited, script, prefix="rights")
    job = wait_for_job(sagemaker, name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    messages = log_messages(server, name)
    role_name = limited.rsplit("/", 1)[-1]
    assert any(message.startswith("whoami arn:aws:sts::") and f"assumed-role/{role_name}/" in message for message in messages)
    assert "other bucket: AccessDenied" in messages
    assert s3.get_object(Bucket=bucket, Key="from-job.txt")["Body"].read() == b"ok"


def test_two_jobs_at_once_each_see_their_own_opt_ml(server, sagemaker, bucket, role):
    script = """
        import os, time
        name = os.environ["TRAINING_JOB_NAME"]
        open("/opt/ml/model/owner.txt", "w").write(name)
        time.sleep(1.5)
        print("files:", sorted(os.listdir("/opt/ml/model")), open("/opt/ml/model/owner.txt").read() == name)
    """
    names = [start_script_job(server, bucket, role, script, prefix="pair", instance_type="ml.t3.medium") for _ in "ab"]
    for name in names:
        job = wait_for_job(sagemaker, name)
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        assert "files: ['owner.txt'] True" in log_messages(server, name)
        files = _model_files(server, job["ModelArtifacts"]["S3ModelArtifacts"])
        assert files["owner.txt"] == name.encode()


def test_create_errors_as_aws_answers_them(server, sagemaker, bucket, role):
    source = upload_sourcedir(server, bucket, "errs", {"train.py": "print(1)\n"})
    hps = script_hyperparameters("train.py", source)
    name = unique_name("dup")
    sagemaker.create_training_job(**training_request(name, role, f"s3://{bucket}/out", hyperparameters=hps))
    cases = {
        "duplicate": (training_request(name, role, f"s3://{bucket}/out", hyperparameters=hps), "ResourceInUse", "already exists"),
        "too large": (
            training_request(unique_name("big"), role, f"s3://{bucket}/out", hyperparameters=hps, instance_type="ml.p3.16xlarge"),
            "ResourceLimitExceeded",
            "ml.p3.16xlarge",
        ),
        "bad name": (training_request("bad_name!", role, f"s3://{bucket}/out", hyperparameters=hps), "ValidationException", "trainingJobName"),
        "bad hyperparameter": (
            training_request(unique_name("hp"), role, f"s3://{bucket}/out", hyperparameters={**hps, "lr": "x" * 2600}),
            "ValidationException",
            "hyperParameters",
        ),
        "untrusting role": (
            training_request(
                unique_name("role"), create_role(server, trusted=server.client("sts").get_caller_identity()["Account"]),
                f"s3://{bucket}/out", hyperparameters=hps,
            ),
            "ValidationException",
            "Could not assume role",
        ),
        "missing role": (
            training_request(unique_name("role"), role + "-gone", f"s3://{bucket}/out", hyperparameters=hps),
            "ValidationException",
            "Could not assume role",
        ),
        "bad metric regex": (
            training_request(
                unique_name("regex"), role, f"s3://{bucket}/out", hyperparameters=hps,
                AlgorithmSpecification={"TrainingImage": "sklearn", "TrainingInputMode": "File",
                                        "MetricDefinitions": [{"Name": "m", "Regex": "(unclosed"}]},
            ),
            "ValidationException",
            "Invalid regular expression",
        ),
        "unknown image": (
            training_request(unique_name("img"), role, f"s3://{bucket}/out", image="no-such-image:1"),
            "ValidationException",
            "no-such-image",
        ),
    }
    for label, (request, code, text) in cases.items():
        with pytest.raises(ClientError) as raised:
            sagemaker.create_training_job(**request)
        got_code, message = _error(raised)
        assert (label, got_code) == (label, code)
        assert text in message, (label, message)
    names = [job["TrainingJobName"] for job in sagemaker.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]]
    assert not any(n.startswith(("big-", "hp-", "role-", "regex-", "img-")) for n in names)
    with pytest.raises(ClientError) as missing:
        sagemaker.describe_training_job(TrainingJobName="no-such-job")
    assert _error(missing)[0] == "ValidationException"
    assert "Could not find" in _error(missing)[1]


def test_list_filters_sorts_and_pages(server, sagemaker, bucket, role):
    marker = uuid.uuid4().hex[:8]
    names = []
    for _ in range(3):
        names.append(start_script_job(server, bucket, role, "print(1)\n", prefix=f"list-{marker}"))
        time.sleep(0.01)
    for name in names:
        wait_for_job(sagemaker, name)
    listed = sagemaker.list_training_jobs(NameContains=marker, SortBy="Name", SortOrder="Ascending")["TrainingJobSummaries"]
    assert [job["TrainingJobName"] for job in listed] == sorted(names)
    assert {job["TrainingJobStatus"] for job in listed} == {"Completed"}
    paged = []
    token = None
    while True:
        page = sagemaker.list_training_jobs(NameContains=marker, MaxResults=2, **({"NextToken": token} if token else {}))
        paged += [job["TrainingJobName"] for job in page["TrainingJobSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert paged == list(reversed(names))
    paginated = [
        job["TrainingJobName"]
        for page in sagemaker.get_paginator("list_training_jobs").paginate(NameContains=marker, PaginationConfig={"PageSize": 1})
        for job in page["TrainingJobSummaries"]
    ]
    assert paginated == list(reversed(names))
    assert sagemaker.list_training_jobs(NameContains=marker, StatusEquals="Failed")["TrainingJobSummaries"] == []
    first = sagemaker.describe_training_job(TrainingJobName=names[0])["CreationTime"]
    after = sagemaker.list_training_jobs(NameContains=marker, CreationTimeAfter=first)["TrainingJobSummaries"]
    assert sorted(job["TrainingJobName"] for job in after) == sorted(names[1:])


def test_tags_on_a_training_job(server, sagemaker, bucket, role):
    name = start_script_job(server, bucket, role, "print(1)\n", prefix="Tagged", Tags=[{"Key": "team", "Value": "ml"}])
    arn = sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobArn"]
    assert arn.endswith(f"training-job/{name.lower()}")
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"}, {"Key": "team", "Value": "research"}])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "stage", "Value": "dev"},
        {"Key": "team", "Value": "research"},
    ]
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["stage"])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "research"}]
    with pytest.raises(ClientError) as missing:
        sagemaker.list_tags(ResourceArn=arn + "-gone")
    assert _error(missing)[0] == "ValidationException"
    wait_for_job(sagemaker, name)


def test_creating_a_job_needs_pass_role_on_its_role(server, bucket, role):
    source = upload_sourcedir(server, bucket, "pass", {"train.py": "print(1)\n"})
    hps = script_hyperparameters("train.py", source)
    create = {"Effect": "Allow", "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob"], "Resource": "*"}
    without = create_user(server, policy={"Version": "2012-10-17", "Statement": [create]})
    sagemaker = server.client("sagemaker", credentials=without.credentials)
    with pytest.raises(ClientError) as denied:
        sagemaker.create_training_job(**training_request(unique_name("denied"), role, f"s3://{bucket}/o", hyperparameters=hps))
    code, message = _error(denied)
    assert code == "AccessDeniedException"
    assert "iam:PassRole" in message and role in message

    passing = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": role,
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    }
    allowed = create_user(server, policy={"Version": "2012-10-17", "Statement": [create, passing]})
    name = unique_name("passed")
    server.client("sagemaker", credentials=allowed.credentials).create_training_job(
        **training_request(name, role, f"s3://{bucket}/o", hyperparameters=hps)
    )
    assert wait_for_job(server.client("sagemaker"), name)["TrainingJobStatus"] == "Completed"


def test_a_role_that_cannot_write_the_output_fails_the_job(server, sagemaker, bucket):
    reader = sagemaker_role(
        server,
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}
            ],
        },
    )
    name = start_script_job(server, bucket, reader, "print('trained')\n", prefix="readonly")
    job = wait_for_job(sagemaker, name)
    assert job["TrainingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("ClientError: Failed to upload") and "AccessDenied" in reason
    assert f"s3://{bucket}/output/{name}/output" in reason and reader in reason
    assert "trained" in log_messages(server, name)
