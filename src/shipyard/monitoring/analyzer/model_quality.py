"""A model quality run: the model's metrics against ground truth, their constraints and violations.

A baseline reads a dataset holding the prediction (``inference_attribute``), optionally the
probability (``probability_attribute``) and the label (``ground_truth_attribute``), as
columns named by header or by index. An execution reads the captured traffic of its window
(the prediction from ``endpointOutput``) and the ground truth the user uploaded
(``ground_truth_source``), merged on the capture's ``inferenceId`` (else its ``eventId``).

Metrics follow Model Monitor's model quality schema, each ``{"value", "standard_deviation"}``
(the deviation from 10 seeded bootstrap resamples): ``regression_metrics`` (mae, mse, rmse,
r2), ``binary_classification_metrics`` (confusion matrix, accuracy, precision, recall,
rates, f0_5/f1/f2, auc from probabilities, and the best constant classifier's scores) and
``multiclass_classification_metrics`` (accuracy, weighted precision/recall/f-scores).
A baseline suggests each metric's baseline value as its threshold, with the comparison
that means "worse" (``GreaterThanThreshold`` for errors, ``LessThanThreshold`` for scores).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics as skm

from shipyard.monitoring.analyzer.data_quality import NO_DATA, load_json, read_table
from shipyard.monitoring.analyzer.dataset import (
    OUTPUT,
    CapturePart,
    data_files,
    read_capture,
)
from shipyard.monitoring.analyzer.environment import AnalyzerError, Settings
from shipyard.monitoring.analyzer.outputs import (
    MODEL_NAMESPACE,
    metric,
    write_json,
    write_metrics,
)

REGRESSION, BINARY, MULTICLASS = "Regression", "BinaryClassification", "MulticlassClassification"
SECTIONS = {
    REGRESSION: ("regression_metrics", "regression_constraints"),
    BINARY: ("binary_classification_metrics", "binary_classification_constraints"),
    MULTICLASS: ("multiclass_classification_metrics", "multiclass_classification_constraints"),
}
GREATER, LESS = "GreaterThanThreshold", "LessThanThreshold"
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    GREATER: operator.gt,
    LESS: operator.lt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanOrEqualToThreshold": operator.le,
}
#: The metrics a baseline suggests constraints for, and which direction is a violation.
SUGGESTED = {
    REGRESSION: {"mae": GREATER, "mse": GREATER, "rmse": GREATER, "r2": LESS},
    BINARY: {
        **dict.fromkeys(("recall", "precision", "accuracy", "true_positive_rate", "true_negative_rate"), LESS),
        **dict.fromkeys(("false_positive_rate", "false_negative_rate"), GREATER),
        **dict.fromkeys(("auc", "f0_5", "f1", "f2"), LESS),
    },
    MULTICLASS: dict.fromkeys(
        ("accuracy", "weighted_recall", "weighted_precision", "weighted_f0_5", "weighted_f1", "weighted_f2"), LESS
    ),
}
BOOTSTRAPS = 10
#: Points kept of the ROC and precision-recall curves.
CURVE_POINTS = 100


@dataclass(frozen=True)
class Labelled:
    """Predictions next to the truth."""

    truth: np.ndarray
    predicted: np.ndarray
    probability: np.ndarray | None = None


def run(settings: Settings) -> int:
    """Compute the metrics; write the reports (and metrics); how many violations were found."""
    problem = _problem(settings.problem_type)
    data = _execution_data(settings, problem) if settings.is_execution else _baseline_data(settings, problem)
    if len(data.truth) == 0:
        raise AnalyzerError(NO_DATA)
    section, constraint_section = SECTIONS[problem]
    values = problem_metrics(problem, data)
    dataset: dict[str, Any] = {"item_count": len(data.truth)}
    for name, when in (("start_time", settings.start_time), ("end_time", settings.end_time)):
        if when is not None:
            dataset[name] = when.isoformat().replace("+00:00", "Z")
    write_json(settings.output_path, "statistics.json", {"version": 0.0, "dataset": dataset, section: values})
    if not settings.is_execution:
        write_json(settings.output_path, "constraints.json", {"version": 0.0, constraint_section: suggest(problem, values)})
        return 0
    constraints = load_json(settings.baseline_constraints).get(constraint_section) or {}
    violations = check(values, constraints)
    write_json(settings.output_path, "constraint_violations.json", {"violations": violations})
    if settings.publish_metrics:
        at = settings.metrics_at
        write_metrics(
            settings.ml_root,
            [
                metric(name, entry["value"], at, settings.endpoint_name, settings.schedule_name, MODEL_NAMESPACE)
                for name, entry in values.items()
                if isinstance(entry, dict) and "value" in entry
            ],
        )
    return len(violations)


def problem_metrics(problem: str, data: Labelled) -> dict[str, Any]:
    """The metrics section of ``statistics.json`` for ``problem``."""
    if problem == REGRESSION:
        return _regression(data)
    if problem == BINARY:
        return _binary(data)
    return _multiclass(data)


def suggest(problem: str, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Constraints at the baseline's values, for the metrics the baseline has."""
    return {
        name: {"threshold": values[name]["value"], "comparison_operator": comparison}
        for name, comparison in SUGGESTED[problem].items()
        if name in values and values[name].get("value") is not None
    }


def check(values: dict[str, Any], constraints: dict[str, Any]) -> list[dict[str, str]]:
    """A violation for each constraint the metrics break."""
    violations = []
    for name, constraint in constraints.items():
        entry = values.get(name)
        if not isinstance(entry, dict) or entry.get("value") is None or not isinstance(constraint, dict):
            continue
        comparison = constraint.get("comparison_operator", "")
        if comparison not in OPERATORS:
            raise AnalyzerError(f"The constraint on {name} has an unknown comparison_operator {comparison!r}.")
        threshold = float(constraint["threshold"])
        if OPERATORS[comparison](entry["value"], threshold):
            violations.append(
                {
                    "constraint_check_type": comparison,
                    "description": f"Metric {name} with {entry['value']} was {comparison} '{threshold}'",
                    "metric_name": name,
                }
            )
    return violations


# --- the metrics --------------------------------------------------------------------------


def _regression(data: Labelled) -> dict[str, Any]:
    truth, predicted = _floats(data.truth, "ground truth"), _floats(data.predicted, "prediction")
    scores = {
        "mae": skm.mean_absolute_error,
        "mse": skm.mean_squared_error,
        "rmse": lambda t, p: float(np.sqrt(skm.mean_squared_error(t, p))),
        "r2": skm.r2_score,
    }
    return {name: _measured(score, truth, predicted) for name, score in scores.items()}


def _binary(data: Labelled) -> dict[str, Any]:
    truth, predicted = data.truth, data.predicted
    labels = sorted(set(truth) | set(predicted), key=_label_order)
    if len(labels) > 2:
        raise AnalyzerError(f"BinaryClassification needs two labels; the data has {len(labels)}: {labels[:10]}")
    positive = _positive(labels)
    truth_bits, predicted_bits = truth == positive, predicted == positive
    majority = truth_bits.mean() >= 0.5
    constant = np.full(truth_bits.shape, majority)

    scores: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
        "recall": lambda t, p: skm.recall_score(t, p, zero_division=0),
        "precision": lambda t, p: skm.precision_score(t, p, zero_division=0),
        "accuracy": skm.accuracy_score,
        "true_positive_rate": lambda t, p: skm.recall_score(t, p, zero_division=0),
        "true_negative_rate": lambda t, p: skm.recall_score(~t, ~p, zero_division=0),
        "false_positive_rate": lambda t, p: 1 - skm.recall_score(~t, ~p, zero_division=0) if (~t).any() else 0.0,
        "false_negative_rate": lambda t, p: 1 - skm.recall_score(t, p, zero_division=0) if t.any() else 0.0,
        "f0_5": lambda t, p: skm.fbeta_score(t, p, beta=0.5, zero_division=0),
        "f1": lambda t, p: skm.f1_score(t, p, zero_division=0),
        "f2": lambda t, p: skm.fbeta_score(t, p, beta=2, zero_division=0),
    }
    result: dict[str, Any] = {"confusion_matrix": _confusion(truth, predicted, labels)}
    for name, score in scores.items():
        result[name] = _measured(score, truth_bits, predicted_bits)
    for name in ("recall", "precision", "accuracy", "f0_5", "f1", "f2"):
        result[f"{name}_best_constant_classifier"] = _measured(scores[name], truth_bits, constant)
    if data.probability is not None and len(set(truth_bits)) == 2:
        probability = _floats(data.probability, "probability")
        result["auc"] = _measured(skm.roc_auc_score, truth_bits, probability)
        false_rates, true_rates, _ = skm.roc_curve(truth_bits, probability)
        precisions, recalls, _ = skm.precision_recall_curve(truth_bits, probability)
        result["receiver_operating_characteristic_curve"] = {
            "false_positive_rates": _thin(false_rates),
            "true_positive_rates": _thin(true_rates),
        }
        result["precision_recall_curve"] = {"precisions": _thin(precisions), "recalls": _thin(recalls)}
    return result


def _multiclass(data: Labelled) -> dict[str, Any]:
    truth, predicted = data.truth, data.predicted
    labels = sorted(set(truth) | set(predicted), key=_label_order)
    values, counts = np.unique(truth, return_counts=True)
    constant = np.full(truth.shape, values[np.argmax(counts)], dtype=object)

    def weighted(score: Callable[..., float], **options: Any) -> Callable[[np.ndarray, np.ndarray], float]:
        return lambda t, p: score(t, p, average="weighted", zero_division=0, **options)

    scores: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
        "accuracy": skm.accuracy_score,
        "weighted_recall": weighted(skm.recall_score),
        "weighted_precision": weighted(skm.precision_score),
        "weighted_f0_5": weighted(skm.fbeta_score, beta=0.5),
        "weighted_f1": weighted(skm.f1_score),
        "weighted_f2": weighted(skm.fbeta_score, beta=2),
    }
    result: dict[str, Any] = {"confusion_matrix": _confusion(truth, predicted, labels)}
    for name, score in scores.items():
        result[name] = _measured(score, truth, predicted)
        result[f"{name}_best_constant_classifier"] = _measured(score, truth, constant)
    return result


def _measured(score: Callable[[np.ndarray, np.ndarray], float], truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """``score`` on the data, and its standard deviation over seeded bootstrap resamples."""
    value = float(score(truth, predicted))
    generator = np.random.default_rng(0)
    resampled = []
    for _ in range(BOOTSTRAPS):
        picks = generator.integers(0, len(truth), len(truth))
        try:
            resampled.append(float(score(truth[picks], predicted[picks])))
        except ValueError:  # a resample with one class (auc)
            continue
    deviation = float(np.std(resampled)) if resampled else 0.0
    return {"value": value, "standard_deviation": deviation}


def _confusion(truth: np.ndarray, predicted: np.ndarray, labels: list[str]) -> dict[str, dict[str, float]]:
    """``{actual: {predicted: count}}``."""
    matrix = skm.confusion_matrix(truth, predicted, labels=labels)
    return {
        actual: {guess: float(matrix[row, column]) for column, guess in enumerate(labels)}
        for row, actual in enumerate(labels)
    }


def _thin(values: np.ndarray) -> list[float]:
    if len(values) > CURVE_POINTS:
        values = values[np.linspace(0, len(values) - 1, CURVE_POINTS).round().astype(int)]
    return [float(value) for value in values]


def _positive(labels: list[str]) -> str:
    """The positive class: ``1`` or ``true`` if present, else the last label in order."""
    for candidate in ("1", "true", "True"):
        if candidate in labels:
            return candidate
    return labels[-1]


def _label_order(label: str) -> tuple[int, float | str]:
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


# --- reading the data ---------------------------------------------------------------------


def _baseline_data(settings: Settings, problem: str) -> Labelled:
    table = read_table(settings)
    if table.empty:
        raise AnalyzerError(NO_DATA)
    truth = _column(table, settings.ground_truth_attribute, "ground_truth_attribute")
    probability = (
        _column(table, settings.probability_attribute, "probability_attribute") if settings.probability_attribute else None
    )
    predicted = (
        _column(table, settings.inference_attribute, "inference_attribute") if settings.inference_attribute else None
    )
    keep = [
        index
        for index in range(len(table))
        if truth[index] is not None and (predicted is None or predicted[index] is not None)
    ]
    return _labelled(problem, settings, truth, predicted, probability, keep)


def _execution_data(settings: Settings, problem: str) -> Labelled:
    if settings.ground_truth_source is None:
        raise AnalyzerError("A model quality execution needs ground_truth_source (the merged ground truth labels).")
    labels = _ground_truth(settings)
    records = read_capture(settings.dataset_source, settings.start_time, settings.end_time)
    truth, predicted, probability = [], [], []
    for record in records:
        if record.key not in labels or OUTPUT not in record.parts:
            continue
        rows = record.parts[OUTPUT].rows()
        if not rows:
            continue
        truth.append(labels[record.key])
        # Without inference_attribute, a probability alone makes the label (binary), else
        # the output's first value is the prediction.
        labelled = settings.inference_attribute or not settings.probability_attribute
        predicted.append(_value(rows[0], settings.inference_attribute, 0) if labelled else None)
        probability.append(_value(rows[0], settings.probability_attribute, 0) if settings.probability_attribute else None)
    if not truth:
        raise AnalyzerError(
            f"{NO_DATA}: no captured record of the window has ground truth (matched on inferenceId, else eventId)."
        )
    has_prediction = any(value is not None for value in predicted)
    return _labelled(
        problem,
        settings,
        truth,
        predicted if has_prediction else None,
        probability if settings.probability_attribute else None,
        list(range(len(truth))),
    )


def _labelled(
    problem: str,
    settings: Settings,
    truth: list[Any],
    predicted: list[Any] | None,
    probability: list[Any] | None,
    keep: list[int],
) -> Labelled:
    """The kept rows as arrays; a classifier's missing label comes from its probability
    and ``probability_threshold_attribute`` (default 0.5)."""
    if predicted is None:
        if probability is None or problem == MULTICLASS:
            raise AnalyzerError("inference_attribute is required (or, for binary classification, probability_attribute).")
        threshold = 0.5 if settings.probability_threshold is None else settings.probability_threshold
        predicted = ["1" if value is not None and float(value) >= threshold else "0" for value in probability]
    if problem == REGRESSION:
        return Labelled(np.asarray([truth[i] for i in keep]), np.asarray([predicted[i] for i in keep]))
    truth_labels = np.asarray([_label(truth[i]) for i in keep], dtype=object)
    predicted_labels = np.asarray([_label(predicted[i]) for i in keep], dtype=object)
    chances = np.asarray([probability[i] for i in keep], dtype=object) if probability is not None else None
    return Labelled(truth_labels, predicted_labels, chances)


def _ground_truth(settings: Settings) -> dict[str, Any]:
    """Ground truth labels by event id."""
    labels = {}
    for path in data_files(settings.ground_truth_source):  # type: ignore[arg-type]
        for line in path.read_text(errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                document = json.loads(line)
                event = str(document["eventMetadata"]["eventId"])
                data = document["groundTruthData"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise AnalyzerError(f"{path.name}: a ground truth line is not a groundTruthData record.") from None
            part = CapturePart(data=str(data.get("data", "")), encoding=str(data.get("encoding", "CSV")))
            rows = part.rows()
            if rows:
                labels[event] = _value(rows[0], settings.ground_truth_attribute, 0)
    return labels


def _column(table: Any, attribute: str, what: str) -> list[Any]:
    """A column by name, ``_c<i>`` or index."""
    if attribute in table.columns:
        return list(table[attribute])
    name = f"_c{attribute}" if attribute.isdigit() else attribute
    if name in table.columns:
        return list(table[name])
    if attribute.isdigit() and int(attribute) < table.shape[1]:
        return list(table.iloc[:, int(attribute)])
    raise AnalyzerError(f"{what} {attribute!r} is not a column of the dataset (columns: {list(table.columns)[:20]}).")


def _value(row: list[Any] | dict[str, Any], attribute: str, default_index: int) -> Any:
    """A value of a prediction or label row, by index or (JSON) key; ``$.a.b`` paths too."""
    if isinstance(row, dict):
        key = attribute.removeprefix("$.").removeprefix("$") if attribute else ""
        if key in row:
            return row[key]
        if not key and len(row) == 1:
            return next(iter(row.values()))
        raise AnalyzerError(f"The attribute {attribute!r} is not in the record {json.dumps(row)[:200]}.")
    index = int(attribute) if attribute.lstrip("-").isdigit() else default_index
    if not -len(row) <= index < len(row):
        raise AnalyzerError(f"The index {index} is not in the record {row[:10]}.")
    return row[index]


def _label(value: Any) -> str:
    """A class label as text: ``1``, ``1.0`` and ``1`` are the same class."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def _floats(values: np.ndarray, what: str) -> np.ndarray:
    try:
        return np.asarray([float(value) for value in values], dtype=float)
    except (TypeError, ValueError):
        raise AnalyzerError(f"Every {what} must be a number for these metrics.") from None


def _problem(name: str) -> str:
    for problem in SECTIONS:
        if name.lower() == problem.lower():
            return problem
    raise AnalyzerError(f"problem_type {name!r} must be one of {', '.join(SECTIONS)}.")
