"""Model Monitor's analyzer image run as processing jobs through boto3 (and the SageMaker SDK):
a baseline's statistics and constraints checked against pandas, and executions against it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import sagemaker_role, wait_for_job
from shipyard.testing.sdk import sagemaker_session

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
ROWS = 400


@pytest.fixture(scope="module")
def role(sqlite_server):
    return sagemaker_role(sqlite_server)


@pytest.fixture(scope="module")
def monitor_bucket(sqlite_server):
    name = unique_name("monitor")
    sqlite_server.client("s3").create_bucket(Bucket=name)
    return name


def _training_frame(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "label": rng.integers(0, 2, ROWS),
            "income": rng.normal(50.0, 12.0, ROWS).round(3),
            "age": rng.integers(18, 90, ROWS),
            "city": rng.choice(["berlin", "lima", "osaka", "quito"], ROWS, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )
    frame.loc[rng.choice(ROWS, 37, replace=False), "income"] = np.nan
    frame.loc[rng.choice(ROWS, 11, replace=False), "city"] = np.nan
    return frame


def _input(name: str, uri: str, local: str) -> dict:
    return {
        "InputName": name,
        "S3Input": {"S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File"},
    }


def _analyzer_job(server, role, bucket, prefix, environment, inputs) -> tuple[str, dict]:
    """Run the analyzer image with ``environment`` over ``inputs``; the output prefix and
    the finished job's description."""
    name = unique_name(prefix)
    output = f"s3://{bucket}/{name}/report"
    sagemaker = server.client("sagemaker")
    sagemaker.create_processing_job(
        ProcessingJobName=name,
        RoleArn=role,
        AppSpecification={"ImageUri": ANALYZER},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}},
        ProcessingInputs=inputs,
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "S3Output": {"S3Uri": output, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"},
                }
            ]
        },
        Environment={"output_path": "/opt/ml/processing/output", **environment},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    return f"{name}/report", wait_for_job(sagemaker, name, kind="processing", timeout=180)


def _read(server, bucket: str, key: str) -> dict:
    return json.loads(server.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.fixture(scope="module")
def baseline(sqlite_server, role, monitor_bucket):
    """A baseline job over a CSV with a header, a string column and missing values."""
    frame = _training_frame()
    body = frame.to_csv(index=False).encode()
    sqlite_server.client("s3").put_object(Bucket=monitor_bucket, Key="baseline/train.csv", Body=body)
    environment = {
        "dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "publish_cloudwatch_metrics": "Disabled",
    }
    inputs = [_input("baseline_dataset_input", f"s3://{monitor_bucket}/baseline/", "/opt/ml/processing/input/baseline_dataset_input")]
    prefix, job = _analyzer_job(sqlite_server, role, monitor_bucket, "baseline", environment, inputs)
    return frame, prefix, job


def test_baseline_statistics_match_pandas(sqlite_server, monitor_bucket, baseline):
    frame, prefix, job = baseline
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ExitMessage"] == "Completed: Job completed successfully with no violations."
    statistics = _read(sqlite_server, monitor_bucket, f"{prefix}/statistics.json")

    assert statistics["dataset"]["item_count"] == ROWS
    features = {feature["name"]: feature for feature in statistics["features"]}
    assert list(features) == ["label", "income", "age", "city"]
    assert {name: feature["inferred_type"] for name, feature in features.items()} == {
        "label": "Integral",
        "income": "Fractional",
        "age": "Integral",
        "city": "String",
    }
    for name in ("label", "income", "age"):
        column = frame[name].dropna().astype(float)
        numbers = features[name]["numerical_statistics"]
        assert numbers["common"] == {"num_present": len(column), "num_missing": int(frame[name].isna().sum())}
        assert numbers["mean"] == pytest.approx(column.mean(), rel=1e-12)
        assert numbers["sum"] == pytest.approx(column.sum(), rel=1e-12)
        assert numbers["std_dev"] == pytest.approx(column.std(ddof=0), rel=1e-9)
        assert (numbers["min"], numbers["max"]) == (column.min(), column.max())
        kll = numbers["distribution"]["kll"]
        edges = np.linspace(column.min(), column.max(), 11)
        expected, _ = np.histogram(column, bins=edges)
        assert [bucket["count"] for bucket in kll["buckets"]] == expected.tolist()
        assert [bucket["lower_bound"] for bucket in kll["buckets"]] == pytest.approx(edges[:-1].tolist())
        assert sorted(kll["sketch"]["data"][0]) == sorted(column.tolist())  # small data: every value kept
        assert kll["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0}

    city = features["city"]["string_statistics"]
    counts = frame["city"].value_counts()
    assert city["common"] == {"num_present": int(counts.sum()), "num_missing": 11}
    assert city["distinct_count"] == len(counts)
    buckets = {bucket["value"]: bucket["count"] for bucket in city["distribution"]["categorical"]["buckets"]}
    assert buckets == counts.to_dict()


def test_baseline_suggests_constraints(sqlite_server, monitor_bucket, baseline):
    frame, prefix, _ = baseline
    constraints = _read(sqlite_server, monitor_bucket, f"{prefix}/constraints.json")
    features = {feature["name"]: feature for feature in constraints["features"]}
    assert features["income"]["completeness"] == pytest.approx(frame["income"].notna().mean())
    assert features["label"]["completeness"] == 1.0
    assert features["age"]["num_constraints"] == {"is_non_negative": True}
    assert features["city"]["string_constraints"]["domains"] == sorted(frame["city"].dropna().unique())
    config = constraints["monitoring_config"]
    assert config["evaluate_constraints"] == "Enabled"
    assert config["distribution_constraints"]["comparison_method"] == "Robust"
    assert config["distribution_constraints"]["comparison_threshold"] == 0.1


def _capture_lines(frame: pd.DataFrame, start: datetime) -> str:
    """``frame``'s rows as an endpoint's data capture records (label as the output)."""
    lines = []
    for index, row in enumerate(frame.itertuples(index=False)):
        inputs = ",".join("" if pd.isna(value) else str(value) for value in (row.income, row.age, row.city))
        record = {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": inputs, "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": str(row.label), "encoding": "CSV"},
            },
            "eventMetadata": {"eventId": f"event-{index}", "inferenceTime": (start + timedelta(seconds=index)).isoformat().replace("+00:00", "Z")},
            "eventVersion": "0",
        }
        lines.append(json.dumps(record))
    return "\n".join(lines) + "\n"


def _execution(sqlite_server, role, monitor_bucket, baseline, traffic: pd.DataFrame, prefix: str) -> tuple[dict, dict]:
    _, baseline_prefix, _ = baseline
    s3 = sqlite_server.client("s3")
    start = datetime(2026, 12, 6, 10, tzinfo=UTC)
    data = f"{prefix}/capture/my-endpoint/AllTraffic/2026/12/06/10/capture.jsonl"
    s3.put_object(Bucket=monitor_bucket, Key=data, Body=_capture_lines(traffic, start).encode())
    # A record after the window, which the analysis must leave out.
    late = _capture_lines(traffic.head(50).assign(income=1e6), start + timedelta(hours=1))
    s3.put_object(Bucket=monitor_bucket, Key=f"{prefix}/capture/my-endpoint/AllTraffic/2026/12/06/11/late.jsonl", Body=late.encode())
    environment = {
        "dataset_format": json.dumps({"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}),
        "dataset_source": "/opt/ml/processing/input/endpoint",
        "baseline_statistics": "/opt/ml/processing/baseline/stats/statistics.json",
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
        "start_time": "2026-12-06T10:00:00Z",
        "end_time": "2026-12-06T11:00:00Z",
        "metric_time": "2026-12-06T11:00:00Z",
        "sagemaker_endpoint_name": "my-endpoint",
        "sagemaker_monitoring_schedule_name": "my-schedule",
        "publish_cloudwatch_metrics": "Enabled",
    }
    inputs = [
        _input("endpoint", f"s3://{monitor_bucket}/{prefix}/capture/my-endpoint", "/opt/ml/processing/input/endpoint"),
        _input("stats", f"s3://{monitor_bucket}/{baseline_prefix}/statistics.json", "/opt/ml/processing/baseline/stats"),
        _input(
            "constraints", f"s3://{monitor_bucket}/{baseline_prefix}/constraints.json", "/opt/ml/processing/baseline/constraints"
        ),
    ]
    report, job = _analyzer_job(sqlite_server, role, monitor_bucket, prefix, environment, inputs)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    violations = _read(sqlite_server, monitor_bucket, f"{report}/constraint_violations.json")
    statistics = _read(sqlite_server, monitor_bucket, f"{report}/statistics.json")
    assert statistics["dataset"]["item_count"] == len(traffic)
    return job, violations


def test_an_execution_over_traffic_like_the_baseline_finds_no_violations(sqlite_server, role, monitor_bucket, baseline):
    traffic = _training_frame(seed=8).head(150).fillna({"income": 50.0, "city": "lima"})
    job, violations = _execution(sqlite_server, role, monitor_bucket, baseline, traffic, unique_name("steady"))
    assert violations == {"violations": []}
    assert job["ExitMessage"] == "Completed: Job completed successfully with no violations."


def test_an_execution_over_shifted_traffic_flags_the_shifted_feature_only(sqlite_server, role, monitor_bucket, baseline):
    traffic = _training_frame(seed=9).head(150).fillna({"income": 50.0, "city": "lima"})
    traffic["income"] = traffic["income"] + 30.0  # 2.5 standard deviations
    job, violations = _execution(sqlite_server, role, monitor_bucket, baseline, traffic, unique_name("shifted"))
    found = violations["violations"]
    assert [(item["feature_name"], item["constraint_check_type"]) for item in found] == [("income", "baseline_drift_check")]
    assert found[0]["description"].startswith("Baseline drift distance: ")
    assert found[0]["description"].endswith("exceeds threshold: 0.1")
    assert job["ExitMessage"] == "CompletedWithViolations: Job completed successfully with 1 violations."


def test_suggest_baseline_through_the_sagemaker_sdk(sqlite_server, role, tmp_path):
    from sagemaker.model_monitor import DefaultModelMonitor
    from sagemaker.model_monitor.dataset_format import DatasetFormat

    frame = _training_frame(seed=11).head(120)
    data = tmp_path / "train.csv"
    data.write_text(frame.to_csv(index=False))
    with sagemaker_session(sqlite_server, tmp_path) as session:
        monitor = DefaultModelMonitor(
            role=role, instance_count=1, instance_type="ml.m5.xlarge", max_runtime_in_seconds=600, sagemaker_session=session
        )
        monitor.suggest_baseline(
            baseline_dataset=str(data),
            dataset_format=DatasetFormat.csv(header=True),
            output_s3_uri=f"s3://{session.default_bucket()}/{unique_name('sdk-baseline')}",
            wait=True,
            logs=False,
        )
        statistics = monitor.baseline_statistics().body_dict
        constraints = monitor.suggested_constraints().body_dict
    features = {feature["name"]: feature for feature in statistics["features"]}
    assert features["age"]["numerical_statistics"]["mean"] == pytest.approx(frame["age"].mean())
    assert {feature["name"] for feature in constraints["features"]} == {"label", "income", "age", "city"}


def test_a_dataset_that_is_not_there_fails_the_job(sqlite_server, role, monitor_bucket):
    environment = {
        "dataset_format": json.dumps({"csv": {"header": True}}),
        "dataset_source": "/opt/ml/processing/input/nothing-here",
    }
    _, job = _analyzer_job(sqlite_server, role, monitor_bucket, "missing", environment, [])
    assert job["ProcessingJobStatus"] == "Failed"
    assert "does not exist" in job["FailureReason"]


def test_a_model_quality_baseline_job(sqlite_server, role, monitor_bucket):
    from sklearn.metrics import mean_absolute_error, r2_score

    rng = np.random.default_rng(12)
    truth = rng.normal(20.0, 5.0, ROWS).round(3)
    frame = pd.DataFrame({"prediction": (truth + rng.normal(0, 2.0, ROWS)).round(3), "label": truth})
    sqlite_server.client("s3").put_object(Bucket=monitor_bucket, Key="quality/data.csv", Body=frame.to_csv(index=False).encode())
    environment = {
        "analysis_type": "MODEL_QUALITY",
        "problem_type": "Regression",
        "inference_attribute": "prediction",
        "ground_truth_attribute": "label",
        "dataset_format": json.dumps({"csv": {"header": True}}),
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
    }
    inputs = [_input("baseline_dataset_input", f"s3://{monitor_bucket}/quality/", "/opt/ml/processing/input/baseline_dataset_input")]
    prefix, job = _analyzer_job(sqlite_server, role, monitor_bucket, "quality", environment, inputs)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    metrics = _read(sqlite_server, monitor_bucket, f"{prefix}/statistics.json")["regression_metrics"]
    assert metrics["mae"]["value"] == pytest.approx(mean_absolute_error(frame["label"], frame["prediction"]))
    assert metrics["r2"]["value"] == pytest.approx(r2_score(frame["label"], frame["prediction"]))
    constraints = _read(sqlite_server, monitor_bucket, f"{prefix}/constraints.json")["regression_constraints"]
    assert constraints["mae"] == {"threshold": metrics["mae"]["value"], "comparison_operator": "GreaterThanThreshold"}
