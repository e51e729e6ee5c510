"""Processing jobs through boto3: feature engineering whose output a training job reads."""

from __future__ import annotations

import io
import tarfile
import textwrap

import pytest
from botocore.exceptions import ClientError

from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import (
    SKLEARN_IMAGE,
    log_messages,
    sagemaker_role,
    start_script_job,
    wait_for_job,
)

PREPROCESS = """
    import csv, os, sys
    source = "/opt/ml/processing/input/data/raw.csv"
    target = "/opt/ml/processing/output/features"
    os.makedirs(target, exist_ok=True)
    rows = list(csv.reader(open(source)))
    with open(os.path.join(target, "features.csv"), "w") as handle:
        for label, x in rows:
            handle.write(f"{label},{x},{float(x) ** 2}\\n")
    print(f"wrote {len(rows)} rows; scale={os.environ['SCALE']}; args={sys.argv[1:]}")
"""

TRAIN_ON_FEATURES = """
    import os
    rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "features.csv")).read().splitlines()
    total = sum(float(row.split(",")[2]) for row in rows)
    print(f"rows={len(rows)} sum_sq={total}")
    open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write(str(total))
"""


@pytest.fixture(scope="module")
def role(server):
    return sagemaker_role(server)


def _processing_request(name: str, role: str, bucket: str, **extra) -> dict:
    return {
        "ProcessingJobName": name,
        "RoleArn": role,
        "AppSpecification": {
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
            "ContainerArguments": ["--split", "0.2"],
        },
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
        "ProcessingInputs": [
            {
                "InputName": "code",
                "S3Input": {
                    "S3Uri": f"s3://{bucket}/code/preprocess.py",
                    "LocalPath": "/opt/ml/processing/input/code",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            },
            {
                "InputName": "data",
                "S3Input": {
                    "S3Uri": f"s3://{bucket}/raw",
                    "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            },
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "features",
                    "S3Output": {
                        "S3Uri": f"s3://{bucket}/features",
                        "LocalPath": "/opt/ml/processing/output/features",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "Environment": {"SCALE": "2"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        **extra,
    }


def test_features_from_a_processing_job_train_a_model(server, s3, bucket, role):
    sagemaker = server.client("sagemaker")
    s3.put_object(Bucket=bucket, Key="code/preprocess.py", Body=textwrap.dedent(PREPROCESS).encode())
    s3.put_object(Bucket=bucket, Key="raw/raw.csv", Body=b"0,1\n1,2\n0,3\n")
    name = unique_name("features")
    arn = sagemaker.create_processing_job(**_processing_request(name, role, bucket))["ProcessingJobArn"]
    assert arn.endswith(f":processing-job/{name}")

    job = wait_for_job(sagemaker, name, kind="processing")

    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ProcessingStartTime"] <= job["ProcessingEndTime"]
    assert job["AppSpecification"]["ContainerArguments"] == ["--split", "0.2"]
    features = s3.get_object(Bucket=bucket, Key="features/features.csv")["Body"].read().decode()
    assert features.splitlines() == ["0,1,1.0", "1,2,4.0", "0,3,9.0"]
    assert "wrote 3 rows; scale=2; args=['--split', '0.2']" in log_messages(
        server, name, group="/aws/sagemaker/ProcessingJobs"
    )
    listed = sagemaker.list_processing_jobs(NameContains=name)["ProcessingJobSummaries"]
    assert [(item["ProcessingJobName"], item["ProcessingJobStatus"]) for item in listed] == [(name, "Completed")]

    channels = {"train": f"s3://{bucket}/features"}
    training = start_script_job(
        server, bucket, role, TRAIN_ON_FEATURES, prefix="fit", output=f"s3://{bucket}/models", channels=channels
    )
    trained = wait_for_job(sagemaker, training)
    assert trained["TrainingJobStatus"] == "Completed", trained.get("FailureReason")
    assert "rows=3 sum_sq=14.0" in log_messages(server, training)
    model = s3.get_object(Bucket=bucket, Key=f"models/{training}/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(model)) as archive:
        assert archive.extractfile("model.txt").read() == b"14.0"


def test_a_failing_processing_job_says_why(server, s3, bucket, role):
    sagemaker = server.client("sagemaker")
    s3.put_object(Bucket=bucket, Key="code/preprocess.py", Body=b"import sys\nsys.exit('no rows to process')\n")
    s3.put_object(Bucket=bucket, Key="raw/raw.csv", Body=b"")
    name = unique_name("broken")
    sagemaker.create_processing_job(**_processing_request(name, role, bucket))
    job = wait_for_job(sagemaker, name, kind="processing")
    assert job["ProcessingJobStatus"] == "Failed"
    assert "no rows to process" in job["FailureReason"]
    assert job["ExitMessage"]


def test_stop_processing_job(server, s3, bucket, role):
    sagemaker = server.client("sagemaker")
    s3.put_object(Bucket=bucket, Key="code/preprocess.py", Body=b"import time\nprint('working', flush=True)\ntime.sleep(120)\n")
    s3.put_object(Bucket=bucket, Key="raw/raw.csv", Body=b"0,1\n")
    name = unique_name("halt")
    sagemaker.create_processing_job(**_processing_request(name, role, bucket))
    sagemaker.stop_processing_job(ProcessingJobName=name)
    job = wait_for_job(sagemaker, name, kind="processing")
    assert job["ProcessingJobStatus"] == "Stopped"


def test_processing_errors(server, bucket, role):
    sagemaker = server.client("sagemaker")
    with pytest.raises(ClientError) as missing:
        sagemaker.describe_processing_job(ProcessingJobName="no-such-processing-job")
    assert missing.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not find" in missing.value.response["Error"]["Message"]
    request = _processing_request(unique_name("dupin"), role, bucket)
    request["ProcessingInputs"].append(dict(request["ProcessingInputs"][0]))
    with pytest.raises(ClientError) as duplicate:
        sagemaker.create_processing_job(**request)
    assert duplicate.value.response["Error"]["Code"] == "ValidationException"
    request = _processing_request(unique_name("huge"), role, bucket)
    request["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.m5.24xlarge"
    with pytest.raises(ClientError) as huge:
        sagemaker.create_processing_job(**request)
    assert huge.value.response["Error"]["Code"] == "ResourceLimitExceeded"
