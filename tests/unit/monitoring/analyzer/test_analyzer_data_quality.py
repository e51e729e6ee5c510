"""Data quality runs of the analyzer (``python -m shipyard.monitoring.analyzer``'s main):
baselines, every kind of violation, users' edits to constraints, metrics and failures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from shipyard.monitoring.analyzer.__main__ import main

N = 300


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the analyzer over ``frame`` (CSV with header) with ``env``; (exit code, ml root, output)."""
    count = iter(range(100))

    def go(frame: pd.DataFrame, **env: str) -> tuple[int, Path, Path]:
        folder = tmp_path / f"run{next(count)}"
        (folder / "data").mkdir(parents=True)
        frame.to_csv(folder / "data" / "data.csv", index=False)
        variables = {
            "dataset_format": json.dumps({"csv": {"header": True}}),
            "dataset_source": str(folder / "data"),
            "output_path": "/opt/ml/processing/output",
            **env,
        }
        for name in ("baseline_statistics", "baseline_constraints", "publish_cloudwatch_metrics", "metric_time", "sagemaker_monitoring_schedule_name"):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        code = main([str(folder / "ml")])
        return code, folder / "ml", folder / "ml" / "processing" / "output"

    return go


def baseline_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.integers(0, 10, N),
            "b": rng.normal(0, 1, N).round(4),
            "c": rng.choice(["x", "y", "z"], N),
            "d": rng.integers(-5, 5, N),
        }
    )


@pytest.fixture
def baseline(run) -> tuple[pd.DataFrame, Path]:
    frame = baseline_frame()
    code, ml, output = run(frame)
    assert code == 0
    assert (ml / "output" / "message").read_text() == "Completed: Job completed successfully with no violations."
    return frame, output


def execution(run, baseline, frame: pd.DataFrame, constraints: dict | None = None, **env: str):
    _, output = baseline
    constraints_file = output / "constraints.json"
    if constraints is not None:
        constraints_file = output.parent / f"edited-{id(constraints)}.json"
        constraints_file.write_text(json.dumps(constraints))
    code, ml, result = run(
        frame, baseline_statistics=str(output / "statistics.json"), baseline_constraints=str(constraints_file), **env
    )
    assert code == 0, (ml / "output" / "failure").read_text()
    violations = json.loads((result / "constraint_violations.json").read_text())["violations"]
    return violations, (ml / "output" / "message").read_text(), ml


def test_a_scheduled_run_without_a_baseline_reports_statistics_and_no_violations(run):
    frame = baseline_frame(seed=2)
    code, ml, output = run(frame, sagemaker_monitoring_schedule_name="no-baseline")
    assert code == 0
    statistics = json.loads((output / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == N
    assert json.loads((output / "constraint_violations.json").read_text()) == {"violations": []}
    assert not (output / "constraints.json").exists()  # it monitors; it does not suggest a baseline
    assert (ml / "output" / "message").read_text() == "Completed: Job completed successfully with no violations."


def checks(violations: list[dict]) -> set[tuple[str, str]]:
    return {(item["feature_name"], item["constraint_check_type"]) for item in violations}


def test_a_baseline_writes_statistics_and_constraints(baseline):
    frame, output = baseline
    statistics = json.loads((output / "statistics.json").read_text())
    constraints = json.loads((output / "constraints.json").read_text())
    assert [feature["inferred_type"] for feature in statistics["features"]] == ["Integral", "Fractional", "String", "Integral"]
    b = statistics["features"][1]["numerical_statistics"]
    assert b["mean"] == pytest.approx(frame["b"].mean()) and b["std_dev"] == pytest.approx(frame["b"].std(ddof=0))
    by_name = {feature["name"]: feature for feature in constraints["features"]}
    assert by_name["a"]["num_constraints"] == {"is_non_negative": True}
    assert by_name["d"]["num_constraints"] == {"is_non_negative": False}
    assert by_name["c"]["string_constraints"] == {"domains": ["x", "y", "z"]}


def test_data_like_the_baseline_has_no_violations(run, baseline):
    violations, message, _ = execution(run, baseline, baseline_frame(seed=1))
    assert violations == []
    assert message == "Completed: Job completed successfully with no violations."


def test_every_kind_of_violation(run, baseline):
    current = baseline_frame(seed=2).drop(columns=["d"]).assign(e=1)
    current["a"] = current["a"].astype(object)
    current.loc[:9, "a"] = "ten"  # 10 of 300 values are not Integral
    current.loc[:29, "b"] = np.nan  # completeness 90%
    current["b"] = current["b"] + 3  # drift
    current.loc[:5, "c"] = "w"  # outside the domain
    violations, message, _ = execution(run, baseline, current)
    assert checks(violations) == {
        ("d", "missing_column_check"),
        ("e", "extra_column_check"),
        ("a", "data_type_check"),
        ("b", "completeness_check"),
        ("b", "baseline_drift_check"),
        ("c", "categorical_values_check"),
    }
    text = {item["constraint_check_type"]: item["description"] for item in violations}
    assert text["data_type_check"] == (
        "Data type match requirement is not met. Expected data type: Integral, Expected match: 100.0%. "
        "Observed: Only 96.67% of data is Integral."
    )
    assert text["completeness_check"].endswith("Observed: Only 90.0% of data is complete.")
    assert "Only 98.0% of data values" in text["categorical_values_check"]
    assert text["missing_column_check"].endswith(
        "Number of columns in current dataset: 4, Number of columns in baseline constraints: 4"
    )
    assert message == "CompletedWithViolations: Job completed successfully with 6 violations."


def test_the_drift_reported_is_the_ks_statistic_with_simple(run, baseline):
    frame, output = baseline
    current = baseline_frame(seed=3)
    current["b"] = current["b"] * 1.5 + 0.2
    constraints = json.loads((output / "constraints.json").read_text())
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Simple"
    violations, _, ml = execution(
        run, baseline, current, constraints, publish_cloudwatch_metrics="Enabled", metric_time="2026-12-06T11:00:00Z"
    )
    lines = [json.loads(line) for line in (ml / "output" / "metrics" / "cloudwatch" / "metrics.jsonl").read_text().splitlines()]
    metrics = {line["MetricName"]: line for line in lines}
    expected = ks_2samp(frame["b"], current["b"]).statistic
    assert metrics["feature_baseline_drift_b"]["Value"] == pytest.approx(expected)
    assert metrics["feature_baseline_drift_b"]["Timestamp"] == 1_796_554_800
    assert metrics["feature_baseline_drift_b"]["Namespace"] == "aws/sagemaker/Endpoints/data-metrics"
    assert metrics["feature_non_null_b"]["Value"] == 1.0
    # feature_data_<f>: a numeric feature's values as a statistic set; c holds strings.
    assert set(metrics) == {f"feature_{kind}_{name}" for kind in ("baseline_drift", "non_null") for name in "abcd"} | {
        f"feature_data_{name}" for name in "abd"
    }
    assert metrics["feature_data_b"]["StatisticValues"] == {
        "SampleCount": len(current),
        "Sum": pytest.approx(current["b"].sum()),
        "Minimum": current["b"].min(),
        "Maximum": current["b"].max(),
    }
    assert "Value" not in metrics["feature_data_b"]
    assert all(line["Unit"] == "None" and line["Dimensions"] == [] for line in lines)  # no endpoint or schedule named
    assert f"Baseline drift distance: {metrics['feature_baseline_drift_b']['Value']} exceeds threshold: 0.1" in [
        item["description"] for item in violations
    ]


def test_edited_constraints_are_honoured(run, baseline):
    _, output = baseline
    current = baseline_frame(seed=4)
    current["b"] = current["b"] + 3
    current["d"] = current["d"].astype("Int64")  # missing values, still written as integers
    current.loc[:29, "d"] = pd.NA
    constraints = json.loads((output / "constraints.json").read_text())
    violations, _, _ = execution(run, baseline, current, constraints)
    assert checks(violations) == {("b", "baseline_drift_check"), ("d", "completeness_check")}

    constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = 0.99
    for feature in constraints["features"]:
        if feature["name"] == "d":
            feature["completeness"] = 0.8
    violations, message, _ = execution(run, baseline, current, constraints)
    assert violations == [] and message.startswith("Completed:")

    constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = 0.1
    for feature in constraints["features"]:
        if feature["name"] == "b":
            feature["monitoringConfigOverrides"] = {"distribution_constraints": {"perform_comparison": "Disabled"}}
    violations, _, _ = execution(run, baseline, current, constraints)
    assert violations == []

    constraints["monitoring_config"]["evaluate_constraints"] = "Disabled"
    violations, _, _ = execution(run, baseline, current.drop(columns=["a"]), constraints)
    assert violations == []


def test_categorical_drift_with_chi_squared(run, baseline):
    _, output = baseline
    current = baseline_frame(seed=5)
    current["c"] = np.where(np.arange(N) % 10 < 7, "x", current["c"])  # 70%+ x instead of a third
    constraints = json.loads((output / "constraints.json").read_text())
    violations, _, _ = execution(run, baseline, current, constraints)
    assert checks(violations) == {("c", "baseline_drift_check")}
    constraints["monitoring_config"]["distribution_constraints"]["categorical_drift_method"] = "ChiSquared"
    constraints["monitoring_config"]["distribution_constraints"]["categorical_comparison_threshold"] = 0.01
    violations, _, _ = execution(run, baseline, current, constraints)
    assert [item["description"].split(":")[0] for item in violations] == ["Baseline drift p-value (ChiSquared)"]


def test_failures_write_the_reason(run, baseline):
    code, ml, _ = run(baseline_frame(), dataset_format='{"parquet": {}}')
    assert code == 1
    assert "dataset_format 'parquet' is not supported" in (ml / "output" / "failure").read_text()
    assert not (ml / "output" / "message").exists()
    code, ml, _ = run(baseline_frame().head(0))
    assert code == 1 and (ml / "output" / "failure").read_text() == "Job inputs had no data"
    code, ml, _ = run(baseline_frame(), baseline_statistics="/no/such/statistics.json")
    assert code == 1 and "does not exist" in (ml / "output" / "failure").read_text()
