"""The quickstart example runs end to end against a fresh server, as a new user would run it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from shipyard.testing import start_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


def test_quickstart_trains_deploys_and_predicts(tmp_path):
    with start_server(tmp_path) as server:
        finished = subprocess.run(
            [sys.executable, str(EXAMPLE)],
            env=server.client_env(),
            check=False,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert finished.returncode == 0, f"stdout:\n{finished.stdout}\nstderr:\n{finished.stderr}"

        accuracy = re.search(r"^\s*validation:accuracy = ([0-9.]+)$", finished.stdout, re.MULTILINE)
        assert accuracy, finished.stdout
        assert float(accuracy.group(1)) >= 0.8, finished.stdout
        model = re.search(r"model: (s3://\S+)$", finished.stdout, re.MULTILINE)
        assert model, finished.stdout
        bucket, key = model.group(1).removeprefix("s3://").split("/", 1)
        assert key.endswith("/output/model.tar.gz")
        head = server.client("s3").head_object(Bucket=bucket, Key=key)
        assert head["ContentLength"] > 0

        best = re.search(r"^  best trial: (\S+) \(validation:accuracy = ([0-9.]+)\)$", finished.stdout, re.MULTILINE)
        assert best, finished.stdout
        best_trial, best_accuracy = best.group(1), float(best.group(2))
        assert best_accuracy >= 0.8, finished.stdout
        sagemaker = server.client("sagemaker")
        tuning = best_trial.rsplit("-", 2)[0]
        ranked = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=tuning, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
        )["TrainingJobSummaries"]
        assert len(ranked) == 6
        values = {item["TrainingJobName"]: item["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for item in ranked}
        top = ranked[0]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        assert values[best_trial] == top  # the best trial has the highest accuracy (others may tie with it)
        assert abs(top - best_accuracy) < 1e-4
        trial_model = sagemaker.describe_training_job(TrainingJobName=best_trial)["ModelArtifacts"]["S3ModelArtifacts"]
        assert re.search(rf"^  best model: {re.escape(trial_model)}$", finished.stdout, re.MULTILINE), finished.stdout
        assert trial_model != model.group(1)
        endpoint = re.search(r"^7\. endpoint (\S+)$", finished.stdout, re.MULTILINE)
        assert endpoint, finished.stdout
        deployed = sagemaker.describe_model(ModelName=endpoint.group(1))["PrimaryContainer"]["ModelDataUrl"]
        assert deployed == trial_model

        prediction = re.search(r"^8\. prediction: P\(label=1\) = ([0-9.]+) \(the row's label: ([01])\)$", finished.stdout, re.MULTILINE)
        assert prediction, finished.stdout
        probability, label = float(prediction.group(1)), int(prediction.group(2))
        assert 0.0 <= probability <= 1.0
        assert (probability >= 0.5) == bool(label), finished.stdout  # a confident model, on a well-separated row
        assert server.client("sagemaker").list_endpoints()["Endpoints"] == []
