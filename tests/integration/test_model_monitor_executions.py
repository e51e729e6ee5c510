"""Model Monitor end to end through boto3 and ``shipyard monitor run``: an endpoint captures
its traffic, a baseline job profiles the training data, and executions over the captured
traffic end Completed while it looks like the baseline, CompletedWithViolations with a
``baseline_drift_check`` on the shifted feature only once one feature shifts, and the
drift metrics reach CloudWatch; model quality merges ground truth by InferenceId."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from shipyard.testing import RunningServer, start_server
from shipyard.testing.hosting import (
    create_model,
    deploy,
    upload,
    variant,
    xgboost_model,
)
from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import sagemaker_role, wait_for_job

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
RESOURCES = {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}}
FEATURES = ["f0", "f1", "f2", "f3"]
OUTPUT = "/opt/ml/processing/output"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own that writes captured traffic every second."""
    env = {"SHIPYARD_CPUS": "32", "SHIPYARD_MEMORY": "131072", "SHIPYARD_CAPTURE_FLUSH_SECONDS": "1"}
    with start_server(tmp_path_factory.mktemp("monitor"), extra_env=env) as running:
        yield running


@pytest.fixture(scope="module")
def world(server: RunningServer) -> dict[str, str]:
    """A bucket, a role, an endpoint capturing its requests and responses as CSV text, and a
    finished baseline job over 1000 rows of four standard normal features."""
    sagemaker = server.client("sagemaker")
    bucket = unique_name("monitor")
    server.client("s3").create_bucket(Bucket=bucket)
    role = sagemaker_role(server)
    archive, _ = xgboost_model(features=4)
    model = unique_name("model")
    create_model(sagemaker, model, role, upload(server, bucket, "model/model.tar.gz", archive))
    endpoint = unique_name("watched")
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{bucket}/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
    }
    deploy(sagemaker, endpoint, [variant("AllTraffic", model)], wait=False, DataCaptureConfig=capture)

    rows = np.random.default_rng(0).normal(size=(1000, 4)).round(4)
    text = ",".join(FEATURES) + "\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n"
    upload(server, bucket, "training/train.csv", text.encode())
    baseline = unique_name("baseline")
    sagemaker.create_processing_job(
        ProcessingJobName=baseline,
        RoleArn=role,
        AppSpecification={"ImageUri": ANALYZER},
        ProcessingResources=RESOURCES,
        ProcessingInputs=[
            {
                "InputName": "baseline_dataset_input",
                "S3Input": {
                    "S3Uri": f"s3://{bucket}/training/",
                    "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        ProcessingOutputConfig={
            "Outputs": [{"OutputName": "monitoring_output", "S3Output": {"S3Uri": f"s3://{bucket}/baseline", "LocalPath": OUTPUT, "S3UploadMode": "EndOfJob"}}]
        },
        Environment={
            "dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
            "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
            "output_path": OUTPUT,
            "publish_cloudwatch_metrics": "Disabled",
        },
    )
    job = wait_for_job(sagemaker, baseline, kind="processing", timeout=180)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    server.client("sagemaker").get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 0.5, "MaxAttempts": 240})
    return {"bucket": bucket, "role": role, "endpoint": endpoint, "baseline": baseline}


def send(server: RunningServer, endpoint: str, rows: np.ndarray, per_request: int = 20) -> None:
    runtime = server.client("sagemaker-runtime")
    for start in range(0, len(rows), per_request):
        body = "\n".join(",".join(map(str, row)) for row in rows[start : start + per_request])
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)


def captured_count(server: RunningServer, bucket: str, endpoint: str) -> int:
    s3 = server.client("s3")
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"capture/{endpoint}/"):
        for item in page.get("Contents", []):
            count += len(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().splitlines())
    return count


def wait_for_capture(server: RunningServer, bucket: str, endpoint: str, count: int) -> None:
    """Until ``count`` records are in S3, and a second more (run-now windows end on a whole second)."""
    deadline = time.monotonic() + 30
    while captured_count(server, bucket, endpoint) < count:
        assert time.monotonic() < deadline, "the captured traffic did not reach S3"
        time.sleep(0.25)
    time.sleep(1.1)


def monitor_run(server: RunningServer, schedule: str, *, wait: bool = True) -> dict[str, Any]:
    """``shipyard monitor run SCHEDULE --json`` (``--wait`` too by default): the execution it printed."""
    command = [sys.executable, "-m", "shipyard", "monitor", "run", schedule, "--json", *(["--wait", "--timeout", "180"] if wait else [])]
    done = subprocess.run(command, check=False, env=server.client_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def report(server: RunningServer, execution: dict[str, Any], name: str) -> dict[str, Any]:
    """A file of the execution's report, from the processing job's output in S3."""
    sagemaker = server.client("sagemaker")
    job = sagemaker.describe_processing_job(ProcessingJobName=execution["ProcessingJobArn"].rsplit("/", 1)[-1])
    bucket, _, prefix = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].removeprefix("s3://").partition("/")
    return json.loads(server.client("s3").get_object(Bucket=bucket, Key=f"{prefix}/{name}")["Body"].read())


def metric_maximum(
    server: RunningServer, namespace: str, name: str, endpoint: str, schedule: str, statistic: str = "Maximum"
) -> float:
    """The largest ``statistic`` of the metric over the last hour's periods."""
    now = datetime.now(UTC)
    points = server.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": "Endpoint", "Value": endpoint}, {"Name": "MonitoringSchedule", "Value": schedule}],
        # One period from an hour ago to an hour ahead: periods start at StartTime rounded down
        # to the minute, so a one-hour window would put the current minute in a second one.
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
        Period=7200,
        Statistics=[statistic],
    )["Datapoints"]
    assert points, f"no {name} metric"
    return max(point[statistic] for point in points)


def test_drift_is_found_on_the_shifted_feature_only(server: RunningServer, world: dict[str, str]) -> None:
    sagemaker = server.client("sagemaker")
    bucket, endpoint = world["bucket"], world["endpoint"]
    definition, schedule = unique_name("dq"), unique_name("drift")
    sagemaker.create_data_quality_job_definition(
        JobDefinitionName=definition,
        DataQualityBaselineConfig={"BaseliningJobName": world["baseline"]},
        DataQualityAppSpecification={"ImageUri": ANALYZER, "Environment": {"publish_cloudwatch_metrics": "Enabled"}},
        DataQualityJobInput={"EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint"}},
        DataQualityJobOutputConfig={"MonitoringOutputs": [{"S3Output": {"S3Uri": f"s3://{bucket}/reports", "LocalPath": OUTPUT}}]},
        JobResources=RESOURCES,
        RoleArn=world["role"],
    )
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=schedule,
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": definition,
            "MonitoringType": "DataQuality",
        },
    )
    rng = np.random.default_rng(1)
    send(server, endpoint, rng.normal(size=(600, 4)).round(4))
    wait_for_capture(server, bucket, endpoint, 30)

    calm = monitor_run(server, schedule)
    assert calm["MonitoringExecutionStatus"] == "Completed", calm
    assert calm["Violations"] == []
    assert report(server, calm, "constraint_violations.json") == {"violations": []}
    statistics = report(server, calm, "statistics.json")
    assert statistics["dataset"]["item_count"] == 600
    assert [feature["name"] for feature in statistics["features"]] == FEATURES
    output = sagemaker.describe_processing_job(ProcessingJobName=calm["ProcessingJobArn"].rsplit("/", 1)[-1])
    hour = datetime.fromtimestamp(calm["ScheduledTime"], UTC).strftime("%Y/%m/%d/%H")
    assert output["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == f"s3://{bucket}/reports/{endpoint}/{schedule}/{hour}"
    namespace = "aws/sagemaker/Endpoints/data-metrics"
    assert metric_maximum(server, namespace, "feature_baseline_drift_f2", endpoint, schedule) < 0.1
    # The features' values, as a statistic set: SampleCount is the window's records.
    assert metric_maximum(server, namespace, "feature_data_f2", endpoint, schedule, "SampleCount") == 600
    assert abs(metric_maximum(server, namespace, "feature_data_f2", endpoint, schedule, "Average")) < 0.2

    shifted = rng.normal(size=(600, 4)).round(4)
    shifted[:, 2] += 3
    send(server, endpoint, shifted)
    wait_for_capture(server, bucket, endpoint, 60)
    drifted = monitor_run(server, schedule)
    assert drifted["MonitoringExecutionStatus"] == "CompletedWithViolations", drifted
    assert {(item["constraint_check_type"], item["feature_name"]) for item in drifted["Violations"]} == {("baseline_drift_check", "f2")}
    assert metric_maximum(server, namespace, "feature_baseline_drift_f2", endpoint, schedule) > 0.3
    assert metric_maximum(server, namespace, "feature_baseline_drift_f0", endpoint, schedule) < 0.1

    last = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=schedule)["LastMonitoringExecutionSummary"]
    assert last["MonitoringExecutionStatus"] == "CompletedWithViolations"
    assert last["ProcessingJobArn"] == drifted["ProcessingJobArn"]
    statuses = [
        item["MonitoringExecutionStatus"]
        for item in sagemaker.list_monitoring_executions(MonitoringScheduleName=schedule, SortBy="ScheduledTime", SortOrder="Ascending")[
            "MonitoringExecutionSummaries"
        ]
    ]
    assert statuses == ["Completed", "CompletedWithViolations"]
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=schedule)


def test_model_quality_merges_ground_truth_by_inference_id(server: RunningServer, world: dict[str, str]) -> None:
    """The model is judged against labels that contradict it: its accuracy falls below the
    baseline constraint."""
    sagemaker = server.client("sagemaker")
    runtime = server.client("sagemaker-runtime")
    bucket, endpoint = world["bucket"], world["endpoint"]
    rows = np.random.default_rng(2).normal(size=(40, 4)).round(4)
    labels = []
    for index, row in enumerate(rows):
        answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=",".join(map(str, row)), InferenceId=f"mq-{index}")
        probability = float(answer["Body"].read())
        labels.append({"groundTruthData": {"data": "0" if probability >= 0.5 else "1", "encoding": "CSV"}, "eventMetadata": {"eventId": f"mq-{index}"}, "eventVersion": "0"})
    hour = datetime.now(UTC).strftime("%Y/%m/%d/%H")
    upload(server, bucket, f"ground-truth/{hour}/labels.jsonl", "\n".join(map(json.dumps, labels)).encode())
    constraints = {"version": 0.0, "binary_classification_constraints": {"accuracy": {"threshold": 0.8, "comparison_operator": "LessThanThreshold"}}}
    upload(server, bucket, "mq-baseline/constraints.json", json.dumps(constraints).encode())
    definition, schedule = unique_name("mq"), unique_name("quality")
    sagemaker.create_model_quality_job_definition(
        JobDefinitionName=definition,
        ModelQualityBaselineConfig={"ConstraintsResource": {"S3Uri": f"s3://{bucket}/mq-baseline/constraints.json"}},
        ModelQualityAppSpecification={"ImageUri": ANALYZER, "ProblemType": "BinaryClassification"},
        ModelQualityJobInput={
            "EndpointInput": {
                "EndpointName": endpoint,
                "LocalPath": "/opt/ml/processing/input/endpoint",
                "ProbabilityAttribute": "0",
                "ProbabilityThresholdAttribute": 0.5,
            },
            "GroundTruthS3Input": {"S3Uri": f"s3://{bucket}/ground-truth"},
        },
        ModelQualityJobOutputConfig={"MonitoringOutputs": [{"S3Output": {"S3Uri": f"s3://{bucket}/mq-reports", "LocalPath": OUTPUT}}]},
        JobResources=RESOURCES,
        RoleArn=world["role"],
    )
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=schedule,
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": definition,
            "MonitoringType": "ModelQuality",
        },
    )
    wait_for_capture(server, bucket, endpoint, 1)
    time.sleep(1.5)  # the last records' capture files (flushed every second)
    started = monitor_run(server, schedule, wait=False)
    assert started["MonitoringExecutionStatus"] == "Pending"
    server.restart()  # while the execution runs: it is neither lost nor run twice
    deadline = time.monotonic() + 120
    while True:
        [execution] = sagemaker.list_monitoring_executions(MonitoringScheduleName=schedule)["MonitoringExecutionSummaries"]
        if execution["MonitoringExecutionStatus"] not in ("Pending", "InProgress"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert execution["MonitoringExecutionStatus"] == "CompletedWithViolations", execution
    assert execution["MonitoringType"] == "ModelQuality"
    assert execution["ScheduledTime"].timestamp() == started["ScheduledTime"]
    since = datetime.fromtimestamp(started["ScheduledTime"] - 1, UTC)
    jobs = sagemaker.list_processing_jobs(NameContains="model-monitoring-", CreationTimeAfter=since)["ProcessingJobSummaries"]
    assert [job["ProcessingJobArn"] for job in jobs] == [execution["ProcessingJobArn"]]
    violations = report(server, execution, "constraint_violations.json")["violations"]
    assert [item["constraint_check_type"] for item in violations] == ["LessThanThreshold"]
    assert "accuracy" in violations[0]["metric_name"]
    statistics = report(server, execution, "statistics.json")
    assert statistics["dataset"]["item_count"] == 40
    assert statistics["binary_classification_metrics"]["accuracy"]["value"] == 0.0
    accuracy = metric_maximum(server, "aws/sagemaker/Endpoints/model-metrics", "accuracy", endpoint, schedule)
    assert accuracy == 0.0
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=schedule)
