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

        prediction = re.search(r"^7\. prediction: P\(label=1\) = ([0-9.]+) \(the row's label: ([01])\)$", finished.stdout, re.MULTILINE)
        assert prediction, finished.stdout
        probability, label = float(prediction.group(1)), int(prediction.group(2))
        assert 0.0 <= probability <= 1.0
        assert (probability >= 0.5) == bool(label), finished.stdout  # a confident model, on a well-separated row
        assert server.client("sagemaker").list_endpoints()["Endpoints"] == []
