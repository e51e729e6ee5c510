"""Pure pieces of the job runner: S3 key placement, toolkit arguments, /opt/ml paths, reasons."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.jobs.context import Command
from shipyard.jobs.errors import ClientError
from shipyard.jobs.inputs import _relative
from shipyard.jobs.mlroot import MlRoot
from shipyard.jobs.outcome import algorithm_error
from shipyard.jobs.process import Ending
from shipyard.jobs.toolkit import command_line_arguments, decode


@pytest.mark.parametrize(
    ("prefix", "key", "expected"),
    [
        ("data/train", "data/train/a.csv", "a.csv"),
        ("data/train/", "data/train/x/b.csv", "x/b.csv"),
        ("data/train.csv", "data/train.csv", "train.csv"),
        ("data/tr", "data/train.csv", "train.csv"),
        ("tr", "train/x.csv", "train/x.csv"),
        ("", "a/b.csv", "a/b.csv"),
    ],
)
def test_objects_land_below_the_prefix(prefix: str, key: str, expected: str) -> None:
    assert _relative(prefix, key) == expected


def test_hyperparameters_become_sorted_toolkit_arguments() -> None:
    decoded = {name: decode(value) for name, value in {"lr": "0.1", "b": '"text"', "raw": "plain", "flag": "true", "map": '{"y": 2, "x": 1}'}.items()}
    assert command_line_arguments(decoded) == ["-b", "text", "--flag", "True", "--lr", "0.1", "--map", "x=1,y=2", "--raw", "plain"]


def test_paths_map_under_the_ml_root_only() -> None:
    root = MlRoot(Path("/jobs/h/opt_ml"), "not root")
    assert root.map("/opt/ml/processing/input", "LocalPath") == Path("/jobs/h/opt_ml/processing/input")
    assert root.map_argument("/opt/ml/code/x.py") == "/jobs/h/opt_ml/code/x.py"
    assert root.map_argument("/opt/mlx") == "/opt/mlx"
    for outside in ("/data", "/opt/ml/../etc", "relative/path"):
        with pytest.raises(ClientError, match="must be an absolute path under /opt/ml"):
            root.map(outside, "LocalPath")
    assert MlRoot(Path("/opt/ml")).map_argument("/opt/ml/x") == "/opt/ml/x"


def test_reasons_stay_within_aws_limit_and_keep_the_hint() -> None:
    reason = MlRoot(Path("/h/opt_ml"), "unshare: Operation not permitted").explain("AlgorithmError: " + "x" * 2000)
    assert len(reason) == 1024 and reason.endswith("job code must use the SM_* variables.)")


def test_algorithm_error_names_the_signal_and_exit_code(tmp_path: Path) -> None:
    ending = Ending(exit_code=137, signal="SIGKILL", stopped=False, stderr_tail=["a", "b", "c", "MemoryError"])
    reason = algorithm_error(ending, Command(["/bin/train"], tmp_path), tmp_path / "failure")
    assert reason == "AlgorithmError: b\nc\nMemoryError, killed by SIGKILL, exit code: 137"


def test_the_runner_pins_itself_to_its_cpus() -> None:
    chosen = max(os.sched_getaffinity(0))
    script = (
        "import os; from shipyard.jobs.isolation import pin_cpus; from shipyard.jobs.spec import Resources; "
        f"note = pin_cpus(Resources('ml.m5.large', 2, [{chosen}], 8192)); print(note or sorted(os.sched_getaffinity(0)))"
    )
    printed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert printed.strip() == f"[{chosen}]"
