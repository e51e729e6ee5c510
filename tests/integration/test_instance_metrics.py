"""What SageMaker publishes to CloudWatch about its instances and jobs, read back through boto3
(and the SageMaker SDK's training curves): endpoint instances' CPU, memory and disk
(``/aws/sagemaker/Endpoints``, also after a server restart), training and processing hosts'
the same (dimension ``Host``) and a training job's metric definitions (dimension
``TrainingJobName``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
from shipyard.testing.jobs import (
    SKLEARN_IMAGE,
    sagemaker_role,
    start_script_job,
    wait_for_job,
)
from shipyard.testing.sdk import sagemaker_session

#: Prints three losses, keeping a core busy for 0.4 s before each.
TRAIN = """
    import time
    for epoch, loss in enumerate([1.0, 0.5, 0.25]):
        deadline = time.monotonic() + 0.4
        while time.monotonic() < deadline:
            pass
        print(f"epoch={epoch} loss={loss}", flush=True)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own that samples usage five times a second and stores it twice a second."""
    env = {
        "SHIPYARD_CPUS": "8",
        "SHIPYARD_MEMORY": "32768",
        "SHIPYARD_USAGE_SAMPLE_SECONDS": "0.2",
        "SHIPYARD_METRICS_FLUSH_SECONDS": "0.5",
    }
    with start_server(tmp_path_factory.mktemp("usage"), extra_env=env) as running:
        yield running


@pytest.fixture(scope="module")
def role(server: RunningServer) -> str:
    return sagemaker_role(server)


def eventually(read: Callable[[], Any], check: Callable[[Any], bool], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if check(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def statistics(server: RunningServer, namespace: str, metric: str, dimensions: dict[str, str]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return server.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": name, "Value": value} for name, value in dimensions.items()],
        # One period from an hour ago to an hour ahead: periods start at StartTime rounded down
        # to the minute, so a one-hour window would put the current minute in a second one.
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
        Period=7200,
        Statistics=["SampleCount", "Average", "Minimum", "Maximum"],
    )["Datapoints"]


def test_endpoint_instances_report_cpu_memory_and_disk(server: RunningServer, role: str) -> None:
    sagemaker = server.client("sagemaker")
    bucket = unique_name("usage")
    server.client("s3").create_bucket(Bucket=bucket)
    archive, _ = xgboost_model()
    model = unique_name("model")
    create_model(sagemaker, model, role, upload(server, bucket, "model.tar.gz", archive))
    endpoint = unique_name("watched")
    deploy(sagemaker, endpoint, [variant("AllTraffic", model)])
    dimensions = {"EndpointName": endpoint, "VariantName": "AllTraffic"}
    namespace = "/aws/sagemaker/Endpoints"

    cpu = eventually(
        lambda: statistics(server, namespace, "CPUUtilization", dimensions),
        lambda points: sum(point["SampleCount"] for point in points) >= 2,
    )
    assert sum(point["SampleCount"] for point in cpu) >= 2
    assert all(point["Unit"] == "Percent" and 0 <= point["Minimum"] <= point["Maximum"] for point in cpu)
    # ml.t2.medium has 2 vCPUs: CloudWatch sums the cores' utilization.
    assert all(point["Maximum"] <= 200 * 1.05 for point in cpu)
    (memory,) = statistics(server, namespace, "MemoryUtilization", dimensions)
    # A model server in a few hundred MiB of the instance type's 4 GiB.
    assert memory["Unit"] == "Percent" and 0 < memory["Minimum"] <= memory["Average"] <= memory["Maximum"] < 100
    (disk,) = statistics(server, namespace, "DiskUtilization", dimensions)
    assert 0 < disk["Average"] <= 100

    listed = server.client("cloudwatch").list_metrics(
        Namespace=namespace, Dimensions=[{"Name": "EndpointName", "Value": endpoint}]
    )["Metrics"]
    assert sorted(metric["MetricName"] for metric in listed) == ["CPUUtilization", "DiskUtilization", "MemoryUtilization"]
    assert all(
        metric["Dimensions"] == [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}]
        for metric in listed
    )
    # Not the invocation metrics' namespace: no invocation happened.
    assert statistics(server, "AWS/SageMaker", "CPUUtilization", dimensions) == []

    # A restarted server samples the instances it re-attached to (more samples than the
    # few the old one still held when it stopped).
    def samples() -> float:
        return sum(point["SampleCount"] for point in statistics(server, namespace, "MemoryUtilization", dimensions))

    before = samples()
    server.restart()
    assert eventually(samples, lambda total: total >= before + 10) >= before + 10


def metric_data(server: RunningServer, name: str, metric: str, stats: list[str]) -> dict[str, list[float]]:
    """GetMetricData of a training job's metric, one query per statistic: values by statistic."""
    now = datetime.now(UTC)
    queries = [
        {
            "Id": stat.lower(),
            "MetricStat": {
                "Metric": {
                    "Namespace": "/aws/sagemaker/TrainingJobs",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "TrainingJobName", "Value": name}],
                },
                "Period": 60,
                "Stat": stat,
            },
        }
        for stat in stats
    ]
    results = server.client("cloudwatch").get_metric_data(
        MetricDataQueries=queries, StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=1)
    )["MetricDataResults"]
    return {stat: result["Values"] for stat, result in zip(stats, results, strict=True)}


def test_a_training_job_publishes_its_metric_definitions_and_host_usage(
    server: RunningServer, role: str, tmp_path: Path
) -> None:
    sagemaker = server.client("sagemaker")
    bucket = unique_name("train")
    server.client("s3").create_bucket(Bucket=bucket)
    name = start_script_job(
        server,
        bucket,
        role,
        TRAIN,
        AlgorithmSpecification={
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "train:loss", "Regex": r"loss=([0-9.]+)"}],
        },
    )
    job = wait_for_job(sagemaker, name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")

    stats = ["SampleCount", "Sum", "Minimum", "Maximum"]
    values = metric_data(server, name, "train:loss", stats)
    assert sum(values["SampleCount"]) == 3
    assert sum(values["Sum"]) == pytest.approx(1.75)
    assert (min(values["Minimum"]), max(values["Maximum"])) == (0.25, 1.0)
    listed = server.client("cloudwatch").list_metrics(
        Namespace="/aws/sagemaker/TrainingJobs", Dimensions=[{"Name": "TrainingJobName", "Value": name}]
    )["Metrics"]
    assert [metric["MetricName"] for metric in listed] == ["train:loss"]
    # The SageMaker SDK's training curves read the same metric (its average per minute).
    with sagemaker_session(server, tmp_path) as session:
        from sagemaker.analytics import TrainingJobAnalytics

        curve = TrainingJobAnalytics(name, sagemaker_session=session).dataframe()
    assert set(curve["metric_name"]) == {"train:loss"}
    assert all(0.25 <= value <= 1.0 for value in curve["value"]) and len(curve) == len(values["Sum"])

    host = {"Host": f"{name}/algo-1"}
    namespace = "/aws/sagemaker/TrainingJobs"
    cpu = eventually(lambda: statistics(server, namespace, "CPUUtilization", host), bool)
    assert cpu and all(point["Unit"] == "Percent" for point in cpu)
    # The script spun a core for over a second: some sample saw it busy.
    assert max(point["Maximum"] for point in cpu) > 10
    (memory,) = statistics(server, namespace, "MemoryUtilization", host)
    assert 0 < memory["Minimum"] <= memory["Maximum"] < 100


def test_a_processing_job_reports_its_hosts_usage(server: RunningServer, role: str) -> None:
    sagemaker = server.client("sagemaker")
    bucket = unique_name("process")
    server.client("s3").create_bucket(Bucket=bucket)
    spin = "import time\ndeadline = time.monotonic() + 1.0\nwhile time.monotonic() < deadline:\n    pass\n"
    upload(server, bucket, "code/spin.py", spin.encode())
    name = unique_name("spin")
    sagemaker.create_processing_job(
        ProcessingJobName=name,
        RoleArn=role,
        AppSpecification={"ImageUri": SKLEARN_IMAGE, "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/spin.py"]},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
        ProcessingInputs=[
            {
                "InputName": "code",
                "S3Input": {
                    "S3Uri": f"s3://{bucket}/code/spin.py",
                    "LocalPath": "/opt/ml/processing/input/code",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
    )
    job = wait_for_job(sagemaker, name, kind="processing")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")

    host = {"Host": f"{name}/algo-1"}
    namespace = "/aws/sagemaker/ProcessingJobs"
    cpu = eventually(lambda: statistics(server, namespace, "CPUUtilization", host), bool)
    assert cpu and max(point["Maximum"] for point in cpu) > 10
    (memory,) = statistics(server, namespace, "MemoryUtilization", host)
    assert 0 < memory["Minimum"] <= memory["Maximum"] < 100
    listed = server.client("cloudwatch").list_metrics(Namespace=namespace, Dimensions=[{"Name": "Host", "Value": host["Host"]}])
    assert sorted(metric["MetricName"] for metric in listed["Metrics"]) == [
        "CPUUtilization",
        "DiskUtilization",
        "MemoryUtilization",
    ]
