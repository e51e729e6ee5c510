"""The analyzer's settings: the environment Model Monitor gives its container."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

OPT_ML = PurePosixPath("/opt/ml")


class AnalyzerError(Exception):
    """A problem with the job's settings or data; the job fails with this message."""


@dataclass(frozen=True)
class Settings:
    """What one analyzer run is asked to do."""

    #: ``dataset_format`` decoded: ``{"csv": {...}}``, ``{"json": {...}}`` or
    #: ``{"sagemakerCaptureJson": {...}}``.
    dataset_format: dict
    dataset_source: Path
    output_path: Path
    #: Where the job's ``/opt/ml`` is (the message and metrics files go under it).
    ml_root: Path
    baseline_statistics: Path | None = None
    baseline_constraints: Path | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    metric_time: datetime | None = None
    endpoint_name: str = ""
    schedule_name: str = ""
    publish_metrics: bool = False
    #: ``DATA_QUALITY`` or ``MODEL_QUALITY``.
    analysis_type: str = "DATA_QUALITY"
    problem_type: str = ""
    inference_attribute: str = ""
    probability_attribute: str = ""
    probability_threshold: float | None = None
    ground_truth_attribute: str = ""
    ground_truth_source: Path | None = None
    record_preprocessor: Path | None = None
    post_processor: Path | None = None
    categorical_drift_method: str = ""

    @property
    def metrics_at(self) -> datetime:
        """When the run's CloudWatch metrics are stamped: ``metric_time``, else ``end_time``."""
        at = self.metric_time or self.end_time
        if at is None:
            raise AnalyzerError("metric_time (or end_time) is required to publish CloudWatch metrics.")
        return at

    @property
    def has_baseline(self) -> bool:
        """Whether baseline statistics or constraints were given to check against."""
        return self.baseline_statistics is not None or self.baseline_constraints is not None

    @property
    def is_execution(self) -> bool:
        """Whether this run monitors data (captured traffic, or any dataset checked against a
        baseline) rather than suggesting a baseline from it. An execution without a baseline
        reports statistics and metrics, and no violations."""
        captured = "sagemakerCaptureJson" in self.dataset_format
        return self.has_baseline or captured or bool(self.schedule_name) or self.ground_truth_source is not None


def read_settings(env: Mapping[str, str], ml_root: Path) -> Settings:
    """The settings in ``env``; container paths under ``/opt/ml`` are mapped to ``ml_root``."""

    def path(name: str, required: bool = False) -> Path | None:
        value = env.get(name, "").strip()
        if not value:
            if required:
                raise AnalyzerError(f"The environment variable {name} is required.")
            return None
        return map_path(value, ml_root)

    try:
        dataset_format = json.loads(env.get("dataset_format") or '{"csv": {"header": true}}')
    except json.JSONDecodeError as error:
        raise AnalyzerError(f"dataset_format is not JSON: {error}") from None
    if not isinstance(dataset_format, dict) or len(dataset_format) != 1:
        raise AnalyzerError(f"dataset_format must name one format (csv, json, sagemakerCaptureJson): {dataset_format!r}")
    analysis = (env.get("analysis_type") or "DATA_QUALITY").strip().upper()
    if analysis not in ("DATA_QUALITY", "MODEL_QUALITY"):
        raise AnalyzerError(f"analysis_type {analysis!r} is not supported (DATA_QUALITY, MODEL_QUALITY).")
    threshold = env.get("probability_threshold_attribute", "").strip()
    try:
        probability_threshold = float(threshold) if threshold else None
    except ValueError:
        raise AnalyzerError(f"probability_threshold_attribute {threshold!r} is not a number.") from None
    return Settings(
        dataset_format=dataset_format,
        dataset_source=path("dataset_source", required=True),  # type: ignore[arg-type]
        output_path=path("output_path", required=True),  # type: ignore[arg-type]
        ml_root=ml_root,
        baseline_statistics=path("baseline_statistics"),
        baseline_constraints=path("baseline_constraints"),
        start_time=_time(env, "start_time"),
        end_time=_time(env, "end_time"),
        metric_time=_time(env, "metric_time"),
        endpoint_name=env.get("sagemaker_endpoint_name", ""),
        schedule_name=env.get("sagemaker_monitoring_schedule_name", ""),
        publish_metrics=env.get("publish_cloudwatch_metrics", "Disabled").strip().lower() == "enabled",
        analysis_type=analysis,
        problem_type=env.get("problem_type", "").strip(),
        inference_attribute=env.get("inference_attribute", "").strip(),
        probability_attribute=env.get("probability_attribute", "").strip(),
        probability_threshold=probability_threshold,
        ground_truth_attribute=env.get("ground_truth_attribute", "").strip(),
        ground_truth_source=path("ground_truth_source"),
        record_preprocessor=path("record_preprocessor_script"),
        post_processor=path("post_analytics_processor_script"),
        categorical_drift_method=env.get("categorical_drift_method", "").strip(),
    )


def map_path(value: str, ml_root: Path) -> Path:
    """``value`` with a leading ``/opt/ml`` replaced by ``ml_root``."""
    pure = PurePosixPath(value)
    if pure == OPT_ML or OPT_ML in pure.parents:
        return ml_root.joinpath(*pure.relative_to(OPT_ML).parts)
    return Path(value)


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``2026-12-06T10:00:00Z``, with or without fractions), as UTC."""
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _time(env: Mapping[str, str], name: str) -> datetime | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise AnalyzerError(f"{name} {text!r} is not an ISO 8601 time.") from None
