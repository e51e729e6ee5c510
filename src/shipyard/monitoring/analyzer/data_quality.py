"""A data quality run: suggest a baseline, or check the data against one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from shipyard.monitoring.analyzer import hooks
from shipyard.monitoring.analyzer.checks import FeatureResult, evaluate
from shipyard.monitoring.analyzer.constraints import suggest
from shipyard.monitoring.analyzer.dataset import (
    CAPTURE,
    INPUT,
    OUTPUT,
    capture_table,
    part_width,
    read_capture,
    read_csv,
    read_json,
)
from shipyard.monitoring.analyzer.environment import AnalyzerError, Settings
from shipyard.monitoring.analyzer.outputs import (
    metric,
    statistic_set_metric,
    write_json,
    write_metrics,
)
from shipyard.monitoring.analyzer.statistics import (
    NUMERIC,
    profiles,
    statistics_document,
)

#: SageMaker's FailureReason when the window holds no data.
NO_DATA = "Job inputs had no data"
_POSITIONAL = re.compile(r"_c\d+")


def run(settings: Settings) -> int:
    """Analyse the dataset; write the reports (and metrics); how many violations were found."""
    baseline_statistics = load_json(settings.baseline_statistics)
    constraints = load_json(settings.baseline_constraints)
    baseline_names = [entry["name"] for entry in (constraints.get("features") or baseline_statistics.get("features") or [])]
    table = align(read_table(settings, len(baseline_names)), baseline_names)
    if table.empty:
        raise AnalyzerError(NO_DATA)
    features = profiles(table)
    write_json(settings.output_path, "statistics.json", statistics_document(table, features))
    if not settings.is_execution:
        write_json(settings.output_path, "constraints.json", suggest(features, settings.categorical_drift_method))
        return 0
    violations, results = evaluate(constraints, baseline_statistics, features, settings.categorical_drift_method)
    write_json(settings.output_path, "constraint_violations.json", {"violations": violations})
    if settings.publish_metrics:
        write_metrics(settings.ml_root, feature_metrics(settings, results))
    return len(violations)


def read_table(settings: Settings, baseline_width: int = 0) -> pd.DataFrame:
    """The dataset ``dataset_format`` names, as a table of text. For captured traffic, the
    ``endpointOutput`` columns are left out when the baseline has only the input's columns."""
    (kind, options), = settings.dataset_format.items()
    options = options or {}
    if settings.record_preprocessor is not None and kind != CAPTURE:
        print(f"The record preprocessor applies to captured traffic only: not used on this {kind} dataset")
    if kind == "csv":
        return read_csv(settings.dataset_source, header=_flag(options.get("header", True)))
    if kind == "json":
        return read_json(settings.dataset_source, lines=_flag(options.get("lines", True)))
    if kind == CAPTURE:
        records = read_capture(settings.dataset_source, settings.start_time, settings.end_time)
        if settings.record_preprocessor is not None:
            return capture_table(records, [INPUT, OUTPUT], hooks.preprocessor(settings.record_preprocessor))
        parts = list(options.get("captureIndexNames") or [INPUT, OUTPUT])
        unknown = set(parts) - {INPUT, OUTPUT}
        if unknown:
            raise AnalyzerError(f"captureIndexNames may name endpointInput and endpointOutput, not {sorted(unknown)}.")
        if baseline_width and OUTPUT in parts and INPUT in parts and part_width(records, INPUT) == baseline_width:
            parts.remove(OUTPUT)
        return capture_table(records, parts)
    raise AnalyzerError(f"dataset_format {kind!r} is not supported (csv, json, sagemakerCaptureJson).")


def align(table: pd.DataFrame, baseline_names: list[str]) -> pd.DataFrame:
    """Data without a header takes the baseline's column names, by position."""
    if not baseline_names or not all(_POSITIONAL.fullmatch(name) for name in table.columns):
        return table
    names = [baseline_names[index] if index < len(baseline_names) else name for index, name in enumerate(table.columns)]
    return table.set_axis(names, axis=1)


def feature_metrics(settings: Settings, results: list[FeatureResult]) -> list[dict | None]:
    """Each feature's CloudWatch metrics: ``feature_baseline_drift_<f>``,
    ``feature_non_null_<f>`` (its completeness) and, for a numeric one, ``feature_data_<f>``
    (its values' count, sum, minimum and maximum, as a statistic set)."""
    at = settings.metrics_at
    endpoint, schedule = settings.endpoint_name, settings.schedule_name
    lines: list[dict | None] = []
    for result in results:
        if not result.config.emit_metrics:
            continue
        name = result.name
        if result.drift is not None:
            lines.append(metric(f"feature_baseline_drift_{name}", result.drift.value, at, endpoint, schedule))
        lines.append(metric(f"feature_non_null_{name}", result.profile.completeness, at, endpoint, schedule))
        if result.profile.inferred_type in NUMERIC:
            lines.append(statistic_set_metric(f"feature_data_{name}", result.profile.numbers, at, endpoint, schedule))
    return lines


def load_json(path: Path | None) -> dict:
    """A baseline file (empty when not given); a folder holding one JSON file names it."""
    if path is None:
        return {}
    if path.is_dir():
        found = sorted(path.rglob("*.json"))
        if len(found) != 1:
            raise AnalyzerError(f"The baseline folder {path} must hold one JSON file, not {len(found)}.")
        path = found[0]
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise AnalyzerError(f"The baseline file {path} does not exist.") from None
    except json.JSONDecodeError as error:
        raise AnalyzerError(f"The baseline file {path.name} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise AnalyzerError(f"The baseline file {path.name} is not a JSON object.")
    return document


def _flag(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"
