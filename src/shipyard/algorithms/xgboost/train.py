"""The XGBoost algorithm's training container: ``xgboost.train`` on the job's channels."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import scipy.sparse as sp
import xgboost

from shipyard.algorithms.container import TrainingContext
from shipyard.algorithms.content_types import CSV
from shipyard.algorithms.data import Dataset
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.xgboost import ALGORITHM
from shipyard.algorithms.xgboost.metrics import (
    RoundLog,
    custom_metric,
    is_maximized,
    split_metrics,
)

MODEL_FILE = "xgboost-model"

#: SageMaker's hyperparameters that are not XGBoost parameters.
_CONTAINER_ONLY = frozenset({"num_round", "early_stopping_rounds", "csv_weights", "eval_metric", "nthread"})

#: Old spellings SageMaker still accepts, in XGBoost's current terms.
_RENAMED_OBJECTIVES = {"reg:linear": "reg:squarederror"}


def fit(ctx: TrainingContext) -> None:
    """Train a booster on ``train`` (evaluating on ``validation`` too) and save ``xgboost-model``."""
    hp = ctx.hyperparameters
    params = booster_params(hp, ctx.num_cpus)
    objective = params["objective"]
    native, custom = split_metrics(hp["eval_metric"] or [], objective)
    if native:
        params["eval_metric"] = native
    train = _dmatrix(ctx, "train", params)
    evals = [(train, "train")]
    if ctx.channel("validation") is not None:
        evals.append((_dmatrix(ctx, "validation", params, width=train.num_col()), "validation"))
    callbacks: list[xgboost.callback.TrainingCallback] = [RoundLog(ctx.log)]
    if hp["early_stopping_rounds"]:
        metrics = native + custom
        callbacks.append(_early_stopping(hp["early_stopping_rounds"], metrics[-1] if metrics else None, evals[-1][1]))
    try:
        booster = xgboost.train(
            params,
            train,
            num_boost_round=hp["num_round"],
            evals=evals,
            custom_metric=custom_metric(custom, objective) if custom else None,
            verbose_eval=False,
            callbacks=callbacks,
        )
    except xgboost.core.XGBoostError as error:
        raise AlgorithmError(f"XGBoost rejected the job: {_first_line(error)}") from None
    if ctx.is_leader:
        ctx.model_dir.mkdir(parents=True, exist_ok=True)
        (ctx.model_dir / MODEL_FILE).write_bytes(booster.save_raw("ubj"))


def booster_params(hyperparameters: dict[str, Any], num_cpus: int) -> dict[str, Any]:
    """XGBoost's parameters for the job's hyperparameters.

    Declared hyperparameters left at their defaults (XGBoost's own) are not passed, so that
    XGBoost warns about none it does not use; undeclared ones pass through as given.
    """
    objective = _RENAMED_OBJECTIVES.get(hyperparameters["objective"], hyperparameters["objective"])
    params: dict[str, Any] = {"objective": objective, "nthread": hyperparameters["nthread"] or num_cpus}
    for name, value in hyperparameters.items():
        if name in _CONTAINER_ONLY or name in params or value is None:
            continue
        try:
            declared = ALGORITHM.hyperparameter(name)
        except KeyError:
            params[name] = value
            continue
        if value != declared.default:
            params[name] = value
    if params.get("tree_method") == "gpu_hist":
        params.update(tree_method="hist", device="cuda")
    multiclass = objective.startswith("multi:")
    if multiclass and "num_class" not in params:
        raise AlgorithmError(f"Hyperparameter num_class is required for objective {objective}")
    if not multiclass and "num_class" in params:
        raise AlgorithmError(f"Hyperparameter num_class only applies to multi: objectives, not {objective}")
    return params


def _early_stopping(rounds: int, metric: str | None, data_name: str) -> xgboost.callback.EarlyStopping:
    """Stopping on the last metric of the last evaluation set, as ``xgboost.train`` does, in the
    metric's direction (which XGBoost cannot tell for the container's own metrics)."""
    maximize = is_maximized(metric) if metric else None
    return xgboost.callback.EarlyStopping(rounds=rounds, metric_name=metric, data_name=data_name, maximize=maximize)


def _dmatrix(ctx: TrainingContext, channel: str, params: dict[str, Any], width: int | None = None) -> xgboost.DMatrix:
    data = ctx.read(channel, allow_missing=True)
    labels = data.require_labels(channel)
    weights = None
    if ctx.hyperparameters["csv_weights"]:
        data, weights = _split_weights(ctx, channel, data)
    _check_labels(channel, labels, params)
    features = data.features
    if width is not None:
        features = _fit_width(channel, features, width)
    return xgboost.DMatrix(features, label=labels, weight=weights, nthread=params["nthread"])


def _split_weights(ctx: TrainingContext, channel: str, data: Dataset) -> tuple[Dataset, np.ndarray]:
    """The CSV column after the label holds instance weights when ``csv_weights`` is 1."""
    if ctx.channels[channel].content_type.mime != CSV:
        raise AlgorithmError("csv_weights applies to text/csv channels only")
    if data.width < 2:
        raise AlgorithmError(f"With csv_weights=1 the {channel} rows need a label, a weight and features")
    features = data.dense()
    weights = np.ascontiguousarray(features[:, 0])
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise AlgorithmError(f"The weights (second column) of the {channel} channel must be non-negative numbers")
    return Dataset(np.ascontiguousarray(features[:, 1:]), data.labels), weights


def _check_labels(channel: str, labels: np.ndarray, params: dict[str, Any]) -> None:
    objective = params["objective"]
    if not np.isfinite(labels).all():
        raise AlgorithmError(f"The {channel} channel has a missing or non-finite label")
    if objective.startswith("multi:"):
        num_class = params["num_class"]
        bad = labels[(labels < 0) | (labels >= num_class) | (labels != np.floor(labels))]
        if bad.size:
            raise AlgorithmError(
                f"The {channel} channel has label {bad[0]:g}; labels must be integers in [0, num_class) "
                f"with num_class={num_class}"
            )
    elif objective in ("binary:logistic", "reg:logistic"):
        bad = labels[(labels < 0) | (labels > 1)]
        if bad.size:
            raise AlgorithmError(f"The {channel} channel has label {bad[0]:g}; {objective} needs labels in [0, 1]")


def _fit_width(channel: str, features: Any, width: int) -> Any:
    """Validation features with the training data's column count.

    libsvm files only say how many columns they have by their highest index, so sparse
    data is padded (or cut where the extra columns are empty); dense data must match.
    """
    if features.shape[1] == width:
        return features
    if sp.issparse(features) and (features.shape[1] < width or features[:, width:].nnz == 0):
        features = features.tocsr(copy=True)
        features.resize(features.shape[0], width)
        return features
    raise AlgorithmError(
        f"The {channel} channel has {features.shape[1]} feature column(s) but the train channel has {width}"
    )


def _first_line(error: Exception) -> str:
    """XGBoost's message without its time stamp, source location and stack trace."""
    line = next((line for line in str(error).splitlines() if line.strip()), str(error))
    return re.sub(r"^\[[\d:]+\] \S+:\d+: ", "", line.strip())
