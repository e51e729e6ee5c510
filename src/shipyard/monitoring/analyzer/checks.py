"""``constraint_violations.json``: the current data checked against the baseline's constraints.

The checks are Model Monitor's: ``missing_column_check`` / ``extra_column_check`` (columns
the baseline has that the data lacks, and the reverse), ``data_type_check`` (the share of a
feature's values of its baseline type is below ``datatype_check_threshold``),
``completeness_check`` (fewer present values than the baseline's ``completeness``),
``categorical_values_check`` (the share of values in the baseline's domain is below
``domain_content_threshold``) and ``baseline_drift_check`` (the distance to the baseline's
distribution is over its threshold, see :mod:`drift`).
"""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.monitoring.analyzer.constraints import FeatureConfig, feature_config
from shipyard.monitoring.analyzer.drift import Drift, categorical_drift, numeric_drift
from shipyard.monitoring.analyzer.sketch import KllSketch
from shipyard.monitoring.analyzer.statistics import (
    NUMERIC,
    STRING,
    FeatureProfile,
    baseline_categories,
    baseline_sketch,
    matches,
)

#: Room for rounding in ratios compared with thresholds read from JSON.
_EPSILON = 1e-9


@dataclass(frozen=True)
class FeatureResult:
    """What an execution found for one feature (its CloudWatch metrics come from this)."""

    name: str
    config: FeatureConfig
    profile: FeatureProfile
    drift: Drift | None


def evaluate(
    constraints: dict, baseline_statistics: dict, current: list[FeatureProfile], categorical_drift_method: str = ""
) -> tuple[list[dict], list[FeatureResult]]:
    """The violations of ``current`` against the baseline files, and each feature's result."""
    wanted = {entry["name"]: entry for entry in constraints.get("features") or []}
    stats = {entry["name"]: entry for entry in baseline_statistics.get("features") or []}
    baseline_names = list(wanted) or list(stats)
    found = {profile.name: profile for profile in current}
    overall = feature_config(constraints, None, categorical_drift_method)
    violations = []
    if overall.evaluate_constraints and baseline_names:  # without a baseline there is nothing to compare with
        violations.extend(_columns(baseline_names, [profile.name for profile in current]))
    results = []
    for name in baseline_names:
        profile = found.get(name)
        if profile is None:
            continue
        entry = wanted.get(name, {})
        config = feature_config(constraints, entry, categorical_drift_method)
        kind = entry.get("inferred_type") or (stats.get(name) or {}).get("inferred_type") or profile.inferred_type
        drift = _drift(stats.get(name), profile, kind, config) if config.perform_comparison else None
        results.append(FeatureResult(name, config, profile, drift))
        if config.evaluate_constraints:
            violations.extend(_feature_violations(entry, kind, profile, config, drift))
    return violations, results


def _columns(baseline: list[str], current: list[str]) -> list[dict]:
    violations = []
    known, seen = set(baseline), set(current)
    missing = [name for name in baseline if name not in seen]
    extra = [name for name in current if name not in known]
    counts = f"Number of columns in current dataset: {len(current)}, Number of columns in baseline constraints: {len(baseline)}"
    for name in missing:
        violations.append(_violation(name, "missing_column_check", f"There are missing columns in current dataset. {counts}"))
    for name in extra:
        violations.append(_violation(name, "extra_column_check", f"There are extra columns in current dataset. {counts}"))
    return violations


def _feature_violations(entry: dict, kind: str, profile: FeatureProfile, config: FeatureConfig, drift: Drift | None) -> list[dict]:
    name, violations = profile.name, []
    if kind in NUMERIC and profile.num_present:
        share = sum(count for value, count in profile.type_counts.items() if matches(value, kind)) / profile.num_present
        if share + _EPSILON < config.datatype_check_threshold:
            violations.append(
                _violation(
                    name,
                    "data_type_check",
                    f"Data type match requirement is not met. Expected data type: {kind}, "
                    f"Expected match: {_percent(config.datatype_check_threshold)}%. "
                    f"Observed: Only {_percent(share)}% of data is {kind}.",
                )
            )
    expected = entry.get("completeness")
    if expected is not None and profile.completeness + _EPSILON < float(expected):
        violations.append(
            _violation(
                name,
                "completeness_check",
                f"Data completeness requirement is not met. Expected completeness: {_percent(float(expected))}%. "
                f"Observed: Only {_percent(profile.completeness)}% of data is complete.",
            )
        )
    domain = (entry.get("string_constraints") or {}).get("domains")
    if domain is not None and kind == STRING and profile.num_present:
        allowed = set(map(str, domain))
        share = sum(1 for value in profile.present if value in allowed) / profile.num_present
        if share + _EPSILON < config.domain_content_threshold:
            violations.append(
                _violation(
                    name,
                    "categorical_values_check",
                    f"Data values match requirement is not met. Expected match: {_percent(config.domain_content_threshold)}%. "
                    f"Observed: Only {_percent(share)}% of data values are in the baseline domain.",
                )
            )
    if drift is not None and drift.violated:
        if drift.method.lower() == "chisquared":
            text = f"Baseline drift p-value (ChiSquared): {drift.value} is below threshold: {drift.threshold}"
        else:
            text = f"Baseline drift distance: {drift.value} exceeds threshold: {drift.threshold}"
        violations.append(_violation(name, "baseline_drift_check", text))
    return violations


def _drift(entry: dict | None, profile: FeatureProfile, kind: str, config: FeatureConfig) -> Drift | None:
    """The feature's drift from its baseline statistics (None without a baseline distribution)."""
    if entry is None:
        return None
    if kind in NUMERIC:
        baseline = baseline_sketch(entry)
        if baseline is None:
            return None
        current = KllSketch(k=baseline.k, c=baseline.c)
        current.update(profile.numbers)
        if current.count == 0:
            return None
        return numeric_drift(baseline, current, config.comparison_method, config.comparison_threshold)
    if kind == STRING:
        categories = baseline_categories(entry)
        if categories is None or not profile.num_present:
            return None
        return categorical_drift(
            categories,
            profile.categories(),
            config.categorical_drift_method,
            config.comparison_method,
            config.categorical_comparison_threshold,
        )
    return None


def _violation(feature: str, check: str, description: str) -> dict:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}


def _percent(ratio: float) -> float:
    return round(ratio * 100, 2)
