"""The LightGBM algorithm's training container: ``lightgbm.train`` on the job's data."""

from __future__ import annotations

from typing import Any

import lightgbm
import numpy as np

from shipyard.algorithms.container import TrainingContext
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.lightgbm.inputs import Inputs, read_inputs

MODEL_FILE = "model.txt"

#: At most this many classes are taken for classification when ``objective`` is auto.
MAX_AUTO_CLASSES = 100

_DEFAULT_METRIC = {"regression": "rmse", "binary": "binary_logloss", "multiclass": "multi_logloss"}
_TASK_METRICS = {
    "regression": ("rmse", "l1", "l2", "huber", "fair"),
    "binary": ("binary_logloss", "binary_error", "auc", "average_precision", "cross_entropy"),
    "multiclass": ("multi_logloss", "multi_error", "auc_mu"),
}

#: Hyperparameters passed to LightGBM as they are.
_PASSED = (
    "learning_rate",
    "num_leaves",
    "feature_fraction",
    "bagging_fraction",
    "bagging_freq",
    "max_depth",
    "min_data_in_leaf",
    "max_delta_step",
    "lambda_l1",
    "lambda_l2",
    "boosting",
    "min_gain_to_split",
    "tree_learner",
    "feature_fraction_bynode",
    "max_bin",
    "verbosity",
    "seed",
)


def fit(ctx: TrainingContext) -> None:
    """Train on the job's data, evaluating train and validation every round; save ``model.txt``."""
    hp = ctx.hyperparameters
    inputs = read_inputs(ctx)
    params = booster_params(hp, inputs, ctx.num_cpus)
    train = lightgbm.Dataset(
        inputs.train.features, inputs.train.labels, categorical_feature=inputs.categorical or "auto"
    )
    validation = lightgbm.Dataset(inputs.validation.features, inputs.validation.labels, reference=train)
    callbacks = [RoundLog(ctx)]
    if hp["early_stopping_rounds"] > 0:
        callbacks.append(lightgbm.early_stopping(hp["early_stopping_rounds"], verbose=False))
    try:
        booster = lightgbm.train(
            params,
            train,
            num_boost_round=hp["num_boost_round"],
            valid_sets=[train, validation],
            valid_names=["train", "validation"],
            callbacks=callbacks,
        )
    except lightgbm.basic.LightGBMError as error:
        raise AlgorithmError(f"LightGBM rejected the job: {error}") from None
    if ctx.is_leader:
        ctx.model_dir.mkdir(parents=True, exist_ok=True)
        booster.save_model(ctx.model_dir / MODEL_FILE)


def task_of(labels: np.ndarray, objective: str) -> tuple[str, int]:
    """(``regression``, ``binary`` or ``multiclass``, the class count) for the training labels.

    With ``objective`` auto, labels that are the integers 0..K-1 (all present, 2 <= K <= 100)
    make a classification task; anything else is regression.
    """
    classes = _class_count(labels)
    if objective == "auto":
        if 2 <= classes <= MAX_AUTO_CLASSES and np.unique(labels).size == classes:
            return ("binary" if classes == 2 else "multiclass"), classes
        return "regression", 0
    if objective == "binary" and classes not in (1, 2):
        raise AlgorithmError("Objective binary needs labels 0 or 1")
    if objective == "cross_entropy" and ((labels < 0) | (labels > 1)).any():
        raise AlgorithmError("Objective cross_entropy needs labels in [0, 1]")
    if objective in ("binary", "cross_entropy"):
        return "binary", 2
    if objective in ("multiclass", "multiclassova"):
        if classes < 2:
            raise AlgorithmError(f"Objective {objective} needs integer class labels 0..K-1 with K >= 2")
        return "multiclass", classes
    return "regression", 0


def _class_count(labels: np.ndarray) -> int:
    """K where the labels are integers in 0..K-1, else 0."""
    if labels.min() < 0 or not np.all(labels == np.floor(labels)):
        return 0
    return int(labels.max()) + 1


def booster_params(hp: dict[str, Any], inputs: Inputs, num_cpus: int) -> dict[str, Any]:
    """LightGBM's parameters for the job's hyperparameters and data."""
    task, classes = task_of(inputs.train.require_labels("train"), hp["objective"])
    objective = task if hp["objective"] == "auto" else hp["objective"]
    metric = _DEFAULT_METRIC[task] if hp["metric"] == "auto" else hp["metric"]
    if metric not in _TASK_METRICS[task]:
        raise AlgorithmError(f"Metric {metric} does not apply to {task}; use one of {', '.join(_TASK_METRICS[task])}")
    params: dict[str, Any] = {name: hp[name] for name in _PASSED}
    params.update(objective=objective, metric=metric, num_threads=hp["num_threads"] or num_cpus)
    if task == "multiclass":
        params["num_class"] = classes
    if task != "regression" and objective != "cross_entropy":
        _check_classes(inputs.validation.require_labels("validation"), classes)
    is_unbalance = hp["is_unbalance"] == "True"
    if task == "binary":
        if is_unbalance and hp["scale_pos_weight"] != 1.0:
            raise AlgorithmError("is_unbalance cannot be used with scale_pos_weight")
        params.update(is_unbalance=is_unbalance, scale_pos_weight=hp["scale_pos_weight"])
    if hp["boosting"] == "goss":
        # GOSS samples rows itself: LightGBM refuses it together with bagging (on by default here).
        params.update(boosting="gbdt", data_sample_strategy="goss", bagging_freq=0)
    if objective == "tweedie":
        params["tweedie_variance_power"] = hp["tweedie_variance_power"]
    return params


def _check_classes(labels: np.ndarray, classes: int) -> None:
    bad = labels[(labels < 0) | (labels >= classes) | (labels != np.floor(labels))]
    if bad.size:
        raise AlgorithmError(
            f"The validation data has label {bad[0]:g}, which is not one of the {classes} training classes"
        )


class RoundLog:
    """Logs ``[N]<tab>train's rmse: 0.5<tab>validation's rmse: 0.6`` after every round, as
    LightGBM's ``log_evaluation`` does."""

    #: LightGBM runs callbacks by ``order``: log before early stopping ends the last round.
    order = 10

    def __init__(self, ctx: TrainingContext) -> None:
        self._log = ctx.log

    def __call__(self, env: lightgbm.callback.CallbackEnv) -> None:
        values = "".join(f"\t{data}'s {metric}: {value:g}" for data, metric, value, _ in env.evaluation_result_list)
        self._log(f"[{env.iteration + 1}]{values}")
