"""Model quality runs of the analyzer: metrics checked against scikit-learn, constraints,
violations, and executions merging captured predictions with ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from shipyard.monitoring.analyzer.__main__ import main
from shipyard.monitoring.analyzer.model_quality import (
    Labelled,
    check,
    problem_metrics,
    suggest,
)

N = 400


@pytest.fixture
def analyze(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the analyzer with ``env`` (paths relative to the run's folder); (exit code, folder)."""
    count = iter(range(100))

    def go(files: dict[str, str], **env: str) -> tuple[int, Path]:
        folder = tmp_path / f"run{next(count)}"
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        for name in ("baseline_constraints", "ground_truth_source", "publish_cloudwatch_metrics", "probability_attribute",
                     "inference_attribute", "start_time", "end_time", "metric_time", "dataset_format"):
            monkeypatch.delenv(name, raising=False)
        paths = {"dataset_source", "baseline_constraints", "ground_truth_source"}
        variables = {"analysis_type": "MODEL_QUALITY", "output_path": str(folder / "out")}
        variables.update({name: str(folder / value) if name in paths else value for name, value in env.items()})
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return main([str(folder / "ml")]), folder

    return go


def binary_data(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, N)
    probability = np.clip(label * 0.35 + rng.uniform(0, 0.65, N), 0, 1).round(4)
    return pd.DataFrame({"label": label, "prediction": (probability >= 0.5).astype(int), "probability": probability})


def test_regression_metrics_match_scikit_learn():
    rng = np.random.default_rng(1)
    truth = rng.normal(10, 3, N)
    predicted = truth + rng.normal(0, 1, N)
    values = problem_metrics("Regression", Labelled(truth.astype(str), predicted.astype(str)))
    assert values["mae"]["value"] == pytest.approx(skm.mean_absolute_error(truth, predicted))
    assert values["mse"]["value"] == pytest.approx(skm.mean_squared_error(truth, predicted))
    assert values["rmse"]["value"] == pytest.approx(np.sqrt(skm.mean_squared_error(truth, predicted)))
    assert values["r2"]["value"] == pytest.approx(skm.r2_score(truth, predicted))
    assert 0 < values["mae"]["standard_deviation"] < 0.2


def test_binary_metrics_match_scikit_learn():
    frame = binary_data()
    truth, predicted = frame["label"].to_numpy(), frame["prediction"].to_numpy()
    data = Labelled(truth.astype(str).astype(object), predicted.astype(str).astype(object), frame["probability"].to_numpy())
    values = problem_metrics("BinaryClassification", data)
    assert values["accuracy"]["value"] == pytest.approx(skm.accuracy_score(truth, predicted))
    assert values["precision"]["value"] == pytest.approx(skm.precision_score(truth, predicted))
    assert values["recall"]["value"] == pytest.approx(skm.recall_score(truth, predicted))
    assert values["f1"]["value"] == pytest.approx(skm.f1_score(truth, predicted))
    assert values["f2"]["value"] == pytest.approx(skm.fbeta_score(truth, predicted, beta=2))
    assert values["auc"]["value"] == pytest.approx(skm.roc_auc_score(truth, frame["probability"]))
    (tn, fp), (fn, tp) = skm.confusion_matrix(truth, predicted)
    assert values["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}
    assert values["false_positive_rate"]["value"] == pytest.approx(fp / (fp + tn))
    assert values["true_negative_rate"]["value"] == pytest.approx(tn / (fp + tn))
    majority = int(truth.mean() >= 0.5)
    assert values["accuracy_best_constant_classifier"]["value"] == pytest.approx(np.mean(truth == majority))
    curve = values["receiver_operating_characteristic_curve"]
    assert len(curve["false_positive_rates"]) == len(curve["true_positive_rates"]) <= 100


def test_multiclass_metrics_match_scikit_learn():
    rng = np.random.default_rng(2)
    truth = rng.choice(["cat", "dog", "eel"], N, p=[0.5, 0.3, 0.2])
    predicted = np.where(rng.uniform(size=N) < 0.7, truth, rng.choice(["cat", "dog", "eel"], N))
    values = problem_metrics("MulticlassClassification", Labelled(truth.astype(object), predicted.astype(object)))
    assert values["accuracy"]["value"] == pytest.approx(skm.accuracy_score(truth, predicted))
    for name, score in (("weighted_recall", skm.recall_score), ("weighted_precision", skm.precision_score),
                        ("weighted_f1", skm.f1_score)):
        assert values[name]["value"] == pytest.approx(score(truth, predicted, average="weighted"))
    assert values["weighted_f0_5"]["value"] == pytest.approx(skm.fbeta_score(truth, predicted, beta=0.5, average="weighted"))
    assert values["confusion_matrix"]["cat"]["dog"] == np.sum((truth == "cat") & (predicted == "dog"))
    assert values["accuracy_best_constant_classifier"]["value"] == pytest.approx(np.mean(truth == "cat"))


def test_suggested_constraints_flag_worse_metrics_only():
    baseline = {"mae": {"value": 1.0}, "r2": {"value": 0.8}, "rmse": {"value": 1.2}}
    constraints = suggest("Regression", {**baseline, "mse": {"value": 1.44}})
    assert constraints["mae"] == {"threshold": 1.0, "comparison_operator": "GreaterThanThreshold"}
    assert constraints["r2"] == {"threshold": 0.8, "comparison_operator": "LessThanThreshold"}
    better = {"mae": {"value": 0.9}, "mse": {"value": 1.0}, "rmse": {"value": 1.0}, "r2": {"value": 0.9}}
    assert check(better, constraints) == []
    worse = {**better, "mae": {"value": 1.5}, "r2": {"value": 0.5}}
    assert check(worse, constraints) == [
        {"constraint_check_type": "GreaterThanThreshold", "description": "Metric mae with 1.5 was GreaterThanThreshold '1.0'",
         "metric_name": "mae"},
        {"constraint_check_type": "LessThanThreshold", "description": "Metric r2 with 0.5 was LessThanThreshold '0.8'",
         "metric_name": "r2"},
    ]


def capture(event: str, output: str, inference_id: str | None = None) -> str:
    metadata = {"eventId": event, "inferenceTime": "2026-12-06T10:05:00Z"}
    if inference_id:
        metadata["inferenceId"] = inference_id
    record = {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2", "encoding": "CSV"},
            "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": output, "encoding": "JSON"},
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }
    return json.dumps(record)


def ground_truth(event: str, label: int) -> str:
    return json.dumps(
        {"groundTruthData": {"data": str(label), "encoding": "CSV"}, "eventMetadata": {"eventId": event}, "eventVersion": "0"}
    )


def test_a_binary_baseline_then_an_execution_with_merged_ground_truth(analyze):
    frame = binary_data(seed=3)
    code, folder = analyze(
        {"data/baseline.csv": frame.to_csv(index=False)},
        dataset_format=json.dumps({"csv": {"header": True}}),
        dataset_source="data",
        problem_type="BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="probability",
        ground_truth_attribute="label",
    )
    assert code == 0, (folder / "ml" / "output" / "failure").read_text()
    statistics = json.loads((folder / "out" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == N
    accuracy = statistics["binary_classification_metrics"]["accuracy"]["value"]
    assert accuracy == pytest.approx(skm.accuracy_score(frame["label"], frame["prediction"]))
    constraints = (folder / "out" / "constraints.json").read_text()
    assert json.loads(constraints)["binary_classification_constraints"]["accuracy"]["threshold"] == accuracy

    # Live traffic: the model is now wrong on every other record; ground truth comes later.
    captures, labels = [], []
    for index in range(60):
        label = index % 2
        guess = label if index % 4 < 2 else 1 - label
        event = f"event-{index}"
        inference = f"inference-{index}" if index % 3 == 0 else None  # matched on inferenceId, else eventId
        captures.append(capture(event, json.dumps({"predicted_label": guess, "score": 0.9 if guess else 0.1}), inference))
        labels.append(ground_truth(inference or event, label))
    labels.append(ground_truth("never-captured", 1))
    code, folder = analyze(
        {
            "capture/ep/AllTraffic/2026/12/06/10/c.jsonl": "\n".join(captures),
            "truth/2026/12/06/10/labels.jsonl": "\n".join(labels),
            "constraints.json": constraints,
        },
        dataset_format=json.dumps({"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}),
        dataset_source="capture",
        ground_truth_source="truth",
        baseline_constraints="constraints.json",
        problem_type="BinaryClassification",
        inference_attribute="predicted_label",
        probability_attribute="score",
        start_time="2026-12-06T10:00:00Z",
        end_time="2026-12-06T11:00:00Z",
        metric_time="2026-12-06T11:00:00Z",
        publish_cloudwatch_metrics="Enabled",
        sagemaker_endpoint_name="ep",
        sagemaker_monitoring_schedule_name="quality",
    )
    assert code == 0, (folder / "ml" / "output" / "failure").read_text()
    statistics = json.loads((folder / "out" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 60
    assert statistics["binary_classification_metrics"]["accuracy"]["value"] == 0.5
    violations = json.loads((folder / "out" / "constraint_violations.json").read_text())["violations"]
    assert {"accuracy", "f1", "recall", "precision"} <= {item["metric_name"] for item in violations}
    message = (folder / "ml" / "output" / "message").read_text()
    assert message == f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
    lines = (folder / "ml" / "output" / "metrics" / "cloudwatch" / "metrics.jsonl").read_text().splitlines()
    metrics = {line["MetricName"]: line for line in map(json.loads, lines)}
    assert metrics["accuracy"]["Value"] == 0.5
    assert metrics["accuracy"]["Namespace"] == "aws/sagemaker/Endpoints/model-metrics"
    assert metrics["accuracy"]["Dimensions"] == [{"Name": "Endpoint", "Value": "ep"}, {"Name": "MonitoringSchedule", "Value": "quality"}]


def test_a_regression_execution_without_violations(analyze):
    rng = np.random.default_rng(4)
    truth = rng.normal(5, 2, N).round(3)
    frame = pd.DataFrame({"y": truth, "yhat": (truth + rng.normal(0, 1.0, N)).round(3)})
    code, folder = analyze(
        {"data/b.csv": frame.to_csv(index=False, header=False)},
        dataset_format=json.dumps({"csv": {"header": False}}),
        dataset_source="data",
        problem_type="Regression",
        inference_attribute="1",
        ground_truth_attribute="0",
    )
    assert code == 0, (folder / "ml" / "output" / "failure").read_text()
    mae = json.loads((folder / "out" / "statistics.json").read_text())["regression_metrics"]["mae"]["value"]
    assert mae == pytest.approx(skm.mean_absolute_error(frame["y"], frame["yhat"]))
    constraints = (folder / "out" / "constraints.json").read_text()
    captures = [capture(f"e{i}", str(value)) for i, value in enumerate([1.0, 2.0, 3.0])]
    labels = [ground_truth(f"e{i}", value) for i, value in enumerate([1, 2, 3])]
    code, folder = analyze(
        {"c/x.jsonl": "\n".join(captures), "t/y.jsonl": "\n".join(labels), "constraints.json": constraints},
        dataset_format=json.dumps({"sagemakerCaptureJson": {}}),
        dataset_source="c",
        ground_truth_source="t",
        baseline_constraints="constraints.json",
        problem_type="Regression",
    )
    assert code == 0, (folder / "ml" / "output" / "failure").read_text()
    statistics = json.loads((folder / "out" / "statistics.json").read_text())
    assert statistics["regression_metrics"]["mae"]["value"] == 0.0
    assert json.loads((folder / "out" / "constraint_violations.json").read_text()) == {"violations": []}
    assert (folder / "ml" / "output" / "message").read_text().startswith("Completed: ")


def test_model_quality_failures(analyze):
    code, folder = analyze(
        {"data/b.csv": "a,b\n1,2\n"},
        dataset_format=json.dumps({"csv": {"header": True}}),
        dataset_source="data",
        problem_type="Ranking",
    )
    assert code == 1 and "problem_type 'Ranking'" in (folder / "ml" / "output" / "failure").read_text()
    code, folder = analyze(
        {"data/b.csv": "a,b\n1,2\n"},
        dataset_format=json.dumps({"csv": {"header": True}}),
        dataset_source="data",
        problem_type="Regression",
        inference_attribute="b",
        ground_truth_attribute="label",
    )
    assert code == 1 and "ground_truth_attribute 'label' is not a column" in (folder / "ml" / "output" / "failure").read_text()
