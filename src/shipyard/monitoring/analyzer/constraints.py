"""``constraints.json``: the constraints a baseline suggests, and reading them back.

A baseline suggests, per feature, its inferred type, its completeness (the fraction of
present values), ``is_non_negative`` for numeric features whose minimum is not negative,
and the domain (observed values) of string features of small cardinality; then the
``monitoring_config`` defaults. Users may edit any of it before an execution uses it:
thresholds, methods, a feature's completeness or domain, and per-feature
``monitoringConfigOverrides``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shipyard.monitoring.analyzer.statistics import NUMERIC, STRING, FeatureProfile

#: A string feature gets a domain when it has at most this many distinct values ...
MAX_DOMAIN = 100

DEFAULT_MONITORING_CONFIG: dict[str, Any] = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


def suggest(features: list[FeatureProfile], categorical_drift_method: str = "") -> dict:
    """The ``constraints.json`` a baseline of ``features`` suggests."""
    config = {**DEFAULT_MONITORING_CONFIG, "distribution_constraints": dict(DEFAULT_MONITORING_CONFIG["distribution_constraints"])}
    if categorical_drift_method:
        config["distribution_constraints"]["categorical_drift_method"] = categorical_drift_method
    return {"version": 0.0, "features": [_feature(feature) for feature in features], "monitoring_config": config}


def _feature(feature: FeatureProfile) -> dict:
    kind = feature.inferred_type
    entry: dict[str, Any] = {"name": feature.name, "inferred_type": kind, "completeness": feature.completeness}
    if kind in NUMERIC:
        numbers = feature.numbers
        entry["num_constraints"] = {"is_non_negative": bool(len(numbers) and numbers.min() >= 0)}
    elif kind == STRING:
        counts = feature.categories()
        # ... and repeats values (an id column, every value new, has no domain).
        if len(counts) <= MAX_DOMAIN and len(counts) < feature.num_present:
            entry["string_constraints"] = {"domains": sorted(counts)}
    return entry


@dataclass(frozen=True)
class FeatureConfig:
    """The monitoring settings in force for one feature (global ones, then its overrides)."""

    evaluate_constraints: bool
    emit_metrics: bool
    datatype_check_threshold: float
    domain_content_threshold: float
    perform_comparison: bool
    comparison_threshold: float
    comparison_method: str
    categorical_comparison_threshold: float
    categorical_drift_method: str


def feature_config(constraints: dict, feature: dict | None, categorical_drift_method: str = "") -> FeatureConfig:
    """The settings for ``feature`` (a constraints entry, or None for the dataset as a
    whole): ``monitoring_config`` with the feature's ``monitoringConfigOverrides`` on top
    (flat keys, or nested under ``distribution_constraints`` as in the global config)."""
    merged = _flat(DEFAULT_MONITORING_CONFIG)
    merged.update(_flat(constraints.get("monitoring_config") or {}))
    if categorical_drift_method:
        merged["categorical_drift_method"] = categorical_drift_method
    merged.update(_flat((feature or {}).get("monitoringConfigOverrides") or {}))
    return FeatureConfig(
        evaluate_constraints=_enabled(merged["evaluate_constraints"]),
        emit_metrics=_enabled(merged["emit_metrics"]),
        datatype_check_threshold=float(merged["datatype_check_threshold"]),
        domain_content_threshold=float(merged["domain_content_threshold"]),
        perform_comparison=_enabled(merged["perform_comparison"]),
        comparison_threshold=float(merged["comparison_threshold"]),
        comparison_method=str(merged["comparison_method"]),
        categorical_comparison_threshold=float(merged["categorical_comparison_threshold"]),
        categorical_drift_method=str(merged["categorical_drift_method"]),
    )


def _flat(config: dict) -> dict:
    flat = {key: value for key, value in config.items() if key != "distribution_constraints"}
    flat.update(config.get("distribution_constraints") or {})
    return flat


def _enabled(value: Any) -> bool:
    return str(value).strip().lower() in ("enabled", "true")
