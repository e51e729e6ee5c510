"""Analysis windows of monitoring executions: ISO 8601 offsets, the default hour before,
the capture hour folders a window touches; and the processing request an execution runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipyard.errors import AwsError
from shipyard.monitoring.schedules.metrics import read_metrics
from shipyard.monitoring.schedules.processing import job_name, processing_request
from shipyard.monitoring.schedules.windows import (
    Window,
    check_offsets,
    iso,
    parse_offset,
)

HOUR = 3_600_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "value"),
    [("-PT1H", -HOUR), ("-PT0H", 0), ("-P1D", -24 * HOUR), ("-P1DT2H30M", -(26 * HOUR + 30 * 60_000)), ("-PT90S", -90_000)],
)
def test_offsets_are_negative_iso_durations(text: str, value: int) -> None:
    assert parse_offset(text, "StartTimeOffset") == value


@pytest.mark.parametrize("text", ["PT1H", "-P", "-PT", "-1H", "-PT1.5H", "-P1W"])
def test_malformed_offsets_are_refused(text: str) -> None:
    with pytest.raises(AwsError) as raised:
        parse_offset(text, "StartTimeOffset")
    assert raised.value.code == "ValidationException"


def test_offsets_must_leave_a_window() -> None:
    check_offsets("-PT2H", "-PT1H")
    with pytest.raises(AwsError):
        check_offsets("-PT1H", "-PT2H")
    with pytest.raises(AwsError):
        check_offsets(None, "-PT1H")  # the default start is one hour before


def test_default_window_is_the_hour_before_and_touches_one_hour_folder() -> None:
    window = Window.around(ms("2026-12-06T11:00:00"), None, None)
    assert (window.start_ms, window.end_ms) == (ms("2026-12-06T10:00:00"), ms("2026-12-06T11:00:00"))
    assert [hour.hour for hour in window.hours()] == [10]
    assert iso(window.start_ms) == "2026-12-06T10:00:00Z"


def test_a_window_across_an_hour_touches_both_folders() -> None:
    window = Window(ms("2026-12-06T10:59:50"), ms("2026-12-06T11:00:10"))
    assert [hour.strftime("%d/%H") for hour in window.hours()] == ["06/10", "06/11"]
    window = Window.around(ms("2026-12-07T00:00:00"), "-P1D", "-PT23H")
    assert [hour.strftime("%d/%H") for hour in window.hours()] == ["06/00"]


def test_job_names_follow_sagemaker() -> None:
    name = job_name(ms("2026-12-06T11:00:00"))
    assert name.startswith("model-monitoring-202612061100-")
    assert len(name.rsplit("-", 1)[1]) == 8
    assert name != job_name(ms("2026-12-06T11:00:00"))


def test_processing_request_carries_the_analyzer_contract() -> None:
    definition = {
        "MonitoringType": "ModelQuality",
        "ProblemType": "BinaryClassification",
        "GroundTruthS3Input": {"S3Uri": "s3://b/truth"},
        "BaselineConfig": {},
        "MonitoringInputs": [
            {"EndpointInput": {"EndpointName": "ep", "LocalPath": "/opt/ml/processing/input/ep", "InferenceAttribute": "0", "ProbabilityThresholdAttribute": 0.5}}
        ],
        "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {"S3Uri": "s3://b/reports/", "LocalPath": "/opt/ml/processing/output"}}]},
        "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
        "MonitoringAppSpecification": {"ImageUri": "analyzer", "RecordPreprocessorSourceUri": "s3://b/code/pre.py"},
        "Environment": {"publish_cloudwatch_metrics": "Disabled"},
        "RoleArn": "arn:aws:iam::123456789012:role/r",
    }
    request = processing_request(
        name="job",
        definition=definition,
        schedule="sched",
        scheduled_ms=ms("2026-12-06T11:00:00"),
        window=Window(ms("2026-12-06T10:00:00"), ms("2026-12-06T11:00:00")),
        capture_prefixes=["AllTraffic/2026/12/06/10"],
        capture_uri="s3://b/capture/ep",
        baseline={"constraints": "s3://b/base/constraints.json", "statistics": "s3://b/base/"},
    )
    env = request["Environment"]
    assert env["analysis_type"] == "MODEL_QUALITY"
    assert env["problem_type"] == "BinaryClassification"
    assert env["inference_attribute"] == "0"
    assert env["probability_threshold_attribute"] == "0.5"
    assert env["ground_truth_source"] == "/opt/ml/processing/groundtruth"
    assert env["baseline_constraints"] == "/opt/ml/processing/baseline/constraints/constraints.json"
    assert env["baseline_statistics"] == "/opt/ml/processing/baseline/statistics/statistics.json"
    assert env["record_preprocessor_script"] == "/opt/ml/processing/code/preprocessing/pre.py"
    assert env["publish_cloudwatch_metrics"] == "Disabled"  # the definition's own environment wins
    assert (env["start_time"], env["end_time"]) == ("2026-12-06T10:00:00Z", "2026-12-06T11:00:00Z")
    assert json.loads(env["dataset_format"]) == {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}
    capture = request["ProcessingInputs"][0]["S3Input"]
    assert capture["S3Uri"] == "s3://b/capture/ep/AllTraffic/2026/12/06/10/"
    assert capture["LocalPath"] == "/opt/ml/processing/input/ep/ep/AllTraffic/2026/12/06/10"
    output = request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
    assert output["S3Uri"] == "s3://b/reports/ep/sched/2026/12/06/11"


def test_metric_lines_become_minute_aggregates(tmp_path: Path) -> None:
    folder = tmp_path / "opt_ml" / "output" / "metrics" / "cloudwatch"
    folder.mkdir(parents=True)
    dimensions = [{"Name": "MonitoringSchedule", "Value": "s"}, {"Name": "Endpoint", "Value": "e"}]
    lines = [
        {"Namespace": "aws/sagemaker/Endpoints/data-metrics", "MetricName": "feature_baseline_drift_x", "Timestamp": 1765018830, "Dimensions": dimensions, "Value": 0.25, "Unit": "None"},
        {"Namespace": "n", "MetricName": "bad", "Timestamp": 1765018830, "Value": "nan"},
        {"MetricName": "both", "Timestamp": 1765018830, "Value": 1, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}},
        {"MetricName": "unordered", "Timestamp": 1765018830, "StatisticValues": {"SampleCount": 2, "Sum": 1, "Minimum": 3, "Maximum": 1}},
        {"MetricName": "late", "Timestamp": "yesterday", "Value": 1},
        # As SageMaker's documentation writes a container's lines: an ISO time, a statistic
        # set, no namespace (the data-quality one) and no unit.
        {"MetricName": "feature_data_x", "Timestamp": "2025-12-06T11:00:30Z", "Dimensions": dimensions, "StatisticValues": {"SampleCount": 4, "Sum": 10, "Minimum": 1, "Maximum": 4}},
    ]
    (folder / "metrics.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    datum, statistic_set = read_metrics(tmp_path, "eu-west-1")
    assert statistic_set.key.namespace == "aws/sagemaker/Endpoints/data-metrics"
    assert statistic_set.timestamp_ms == 1765018800_000 and statistic_set.unit == "None"
    aggregate = statistic_set.aggregate
    assert (aggregate.sample_count, aggregate.sum, aggregate.minimum, aggregate.maximum) == (4, 10, 1, 4)
    assert datum.key.region == "eu-west-1"
    assert datum.key.metric_name == "feature_baseline_drift_x"
    assert datum.key.dimensions == (("Endpoint", "e"), ("MonitoringSchedule", "s"))
    assert datum.timestamp_ms == 1765018800_000
    assert datum.aggregate.sum == 0.25
