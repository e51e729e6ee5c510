"""What the analyzer leaves besides its reports: the ExitMessage, failures, CloudWatch metrics.

- ``/opt/ml/output/message``: ``Completed: ...`` or ``CompletedWithViolations: ...``,
  which becomes the processing job's ``ExitMessage`` (Model Monitor reads the execution's
  status from it).
- ``/opt/ml/output/failure``: why the run failed.
- ``/opt/ml/output/metrics/cloudwatch/metrics.jsonl``: one metric a line, as the
  "CloudWatch Metrics for Bring Your Own Containers" contract gives them (the server
  publishes them after the job).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

DATA_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
MODEL_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
_LARGEST = 1.7976931348623157e308


def exit_message(violations: int) -> str:
    """The ExitMessage of a run that found ``violations`` violations."""
    if violations:
        return f"CompletedWithViolations: Job completed successfully with {violations} violations."
    return "Completed: Job completed successfully with no violations."


def write_message(ml_root: Path, message: str) -> None:
    _write(ml_root / "output" / "message", message)


def write_failure(ml_root: Path, reason: str) -> None:
    _write(ml_root / "output" / "failure", reason)


def write_json(folder: Path, name: str, document: Any) -> None:
    """``document`` as ``folder/name``, indented as Model Monitor writes its files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(document, indent=2, allow_nan=False, default=_plain) + "\n")


def metric(
    name: str, value: float, at: datetime, endpoint: str, schedule: str, namespace: str = DATA_NAMESPACE
) -> dict[str, Any] | None:
    """One metric line with a ``Value``; None for NaN (CloudWatch takes no NaN), and
    infinities capped at the largest double."""
    if math.isnan(value):
        return None
    return _line(name, at, endpoint, schedule, namespace, {"Value": _capped(value)})


def statistic_set_metric(
    name: str, values: np.ndarray, at: datetime, endpoint: str, schedule: str
) -> dict[str, Any] | None:
    """One metric line with the ``StatisticValues`` of ``values`` (finite numbers); None
    when there are none."""
    if not len(values):
        return None
    statistics = {
        "SampleCount": float(len(values)),
        "Sum": _capped(values.sum()),
        "Minimum": float(values.min()),
        "Maximum": float(values.max()),
    }
    return _line(name, at, endpoint, schedule, DATA_NAMESPACE, {"StatisticValues": statistics})


def _line(name: str, at: datetime, endpoint: str, schedule: str, namespace: str, measured: dict) -> dict[str, Any]:
    return {
        "Namespace": namespace,
        "MetricName": name,
        "Timestamp": at.timestamp(),
        "Dimensions": _dimensions(endpoint, schedule),
        **measured,
        "Unit": "None",
    }


def _capped(value: float) -> float:
    """``value`` within the doubles (an infinite sum or value is written as the largest)."""
    return max(-_LARGEST, min(_LARGEST, float(value)))


def write_metrics(ml_root: Path, metrics: list[dict[str, Any] | None]) -> None:
    """The metric lines into ``/opt/ml/output/metrics/cloudwatch/metrics.jsonl``."""
    lines = [line for line in metrics if line is not None]
    if not lines:
        return
    folder = ml_root / "output" / "metrics" / "cloudwatch"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.jsonl").write_text("".join(json.dumps(line, allow_nan=False) + "\n" for line in lines))


def _dimensions(endpoint: str, schedule: str) -> list[dict[str, str]]:
    dimensions = [("Endpoint", endpoint), ("MonitoringSchedule", schedule)]
    return [{"Name": name, "Value": value} for name, value in dimensions if value]


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (json's fallback)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
