"""Linear Learner's training: many linear models at once by mini-batch gradient descent.

As SageMaker describes its algorithm: the features (and, for regressors, the label) are
standardised from a sample of rows; ``num_models`` models train side by side, the first with
the given settings and the others with nearby ones wherever a setting is ``auto``
(learning rate, L2, L1, positive-example weight); after each epoch every model is scored on
the validation rows (else the training rows) and the best model and epoch so far is kept;
training stops early when that score stops improving. The kept model is returned in the
data's own units, with its decision threshold calibrated for binary classifiers.

The weights of all models form one matrix whose columns are ``(model, output)`` pairs, so a
mini-batch is a single product for every model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from shipyard.algorithms.data import Features
from shipyard.algorithms.linear_learner.losses import (
    LOSSES_BY_PREDICTOR,
    Loss,
    make_loss,
)
from shipyard.algorithms.linear_learner.metrics import Criterion, best_threshold
from shipyard.algorithms.linear_learner.model import LinearModel
from shipyard.algorithms.linear_learner.optim import make_optimizer, proximal_l1

AUTO_NUM_MODELS = 16
AUTO_LEARNING_RATE = {"adam": 0.05, "rmsprop": 0.05, "sgd": 0.1}
#: Rows of the validation (or training) data used to score and calibrate the models.
AUTO_CALIBRATION_ROWS = 100_000
#: The automatic schedule decays the rate this much over all planned epochs.
AUTO_TOTAL_DECAY = 0.01
AUTO_LR_FACTOR = 0.99
AUTO_MINIMUM_LR = 1e-5

#: Called after each epoch with (epoch, the best model's mean training loss that epoch).
EpochReport = Callable[[int, float], None]


@dataclass(frozen=True)
class Candidate:
    """The settings of one of the parallel models."""

    learning_rate: float
    wd: float
    l1: float
    positive_weight: float = 1.0


@dataclass(frozen=True)
class Standardizer:
    """Affine maps to and from the units training works in."""

    feature_mean: np.ndarray
    feature_scale: np.ndarray
    label_mean: float = 0.0
    label_scale: float = 1.0

    def features(self, features: Features) -> Features:
        """Features divided by their scale (the mean is subtracted inside the model, see :class:`_Models`)."""
        inverse = 1.0 / self.feature_scale
        if sp.issparse(features):
            return sp.csr_matrix(features @ sp.diags(inverse))
        return np.asarray(features, dtype=np.float64) * inverse

    @property
    def centre(self) -> np.ndarray:
        """The feature mean in scaled units."""
        return self.feature_mean / self.feature_scale


@dataclass(frozen=True)
class Result:
    """The trained model and how training went."""

    model: LinearModel
    epochs: int
    best_epoch: int
    best_candidate: Candidate
    #: The kept model's selection criterion (or minus its loss) on the evaluation rows.
    selection_score: float


def resolve_loss(hyperparameters: dict[str, Any]) -> Loss:
    """The loss to train with; ValueError when it does not fit the predictor type."""
    predictor_type, name = hyperparameters["predictor_type"], hyperparameters["loss"]
    allowed = LOSSES_BY_PREDICTOR[predictor_type]
    if name == "auto":
        name = allowed[0]
    if name not in allowed:
        raise ValueError(f"loss {name!r} does not apply to predictor_type {predictor_type}; use one of: {', '.join(allowed)}")
    return make_loss(name, hyperparameters)


def train(
    features: Features,
    labels: np.ndarray,
    hyperparameters: dict[str, Any],
    *,
    validation: tuple[Features, np.ndarray] | None = None,
    report: EpochReport | None = None,
    seed: int = 0,
) -> Result:
    """Train Linear Learner on checked data (labels valid for the predictor type)."""
    hp = hyperparameters
    rng = np.random.default_rng(seed)
    loss = resolve_loss(hp)
    width = hp["num_classes"] if hp["predictor_type"] == "multiclass_classifier" else 1
    standardizer = _standardizer(features, labels, hp, rng)
    candidates = _candidates(hp, labels, rng, validated=validation is not None)
    models = _Models(standardizer, candidates, width, features.shape[1], hp, rng)
    scaled = standardizer.features(features)
    targets = (labels - standardizer.label_mean) / standardizer.label_scale
    training_loss = loss.rescaled(standardizer.label_scale)
    row_weights = _row_weights(hp, labels, candidates)
    selector = _Selector(hp, loss, standardizer, *_evaluation_rows(features, labels, validation, hp))

    rows = scaled.shape[0]
    batch = min(hp["mini_batch_size"], rows)
    steps_per_epoch = -(-rows // batch)
    schedule = _schedule(hp, steps_per_epoch * hp["epochs"])
    patience = _Patience(hp["early_stopping_patience"], hp["early_stopping_tolerance"])
    epochs_run = 0
    for epoch in range(hp["epochs"]):
        order = rng.permutation(rows)
        totals = np.zeros(len(candidates))
        for start in range(0, rows, batch):
            index = order[start : start + batch]
            weights = row_weights(labels[index]) if row_weights else None
            totals += models.step(scaled[index], targets[index], training_loss, weights, schedule(models.steps))
        epochs_run = epoch + 1
        epoch_losses = totals / rows * standardizer.label_scale**loss.power
        if report:
            report(epoch + 1, float(epoch_losses.min()))
        score = selector.observe(models, epoch + 1)
        if patience.stop(score if validation is not None else -float(epoch_losses.min())):
            break
    best = selector.best
    assert best is not None, "at least one epoch ran"
    return Result(best, epochs_run, selector.best_epoch, candidates[selector.best_index], selector.best_key[0])


class _Models:
    """The parallel models' parameters, in standardised units, and their updates."""

    def __init__(
        self,
        standardizer: Standardizer,
        candidates: list[Candidate],
        width: int,
        feature_dim: int,
        hp: dict[str, Any],
        rng: np.random.Generator,
    ) -> None:
        self.width = width
        self.count = len(candidates)
        columns = self.count * width
        if hp["init_method"] == "normal":
            self.weights = rng.normal(0.0, hp["init_sigma"], (feature_dim, columns))
        else:
            self.weights = rng.uniform(-hp["init_scale"], hp["init_scale"], (feature_dim, columns))
        self.use_bias = hp["use_bias"]
        self.bias = np.full(columns, float(hp["init_bias"]) if self.use_bias else 0.0)
        self.centre = standardizer.centre
        self.rates = np.repeat([candidate.learning_rate for candidate in candidates], width)
        self.wd = np.repeat([candidate.wd for candidate in candidates], width)
        self.l1 = np.repeat([candidate.l1 for candidate in candidates], width)
        self.minimum_rate = _auto(hp["lr_scheduler_minimum_lr"], AUTO_MINIMUM_LR)
        self.bias_lr_mult = _auto(hp["bias_lr_mult"], 1.0)
        self.bias_wd_mult = _auto(hp["bias_wd_mult"], 0.0)
        optimizer = "adam" if hp["optimizer"] == "auto" else hp["optimizer"]
        settings = (_auto(hp["momentum"], 0.9), _auto(hp["beta_1"], 0.9), _auto(hp["beta_2"], 0.999))
        self.weight_optimizer = make_optimizer(optimizer, *settings)
        self.bias_optimizer = make_optimizer(optimizer, *settings)
        self.steps = 0

    def outputs(self, scaled: Features) -> np.ndarray:
        """Every model's outputs, ``(rows, models, width)``, in standardised label units."""
        flat = np.asarray(scaled @ self.weights) - self.centre @ self.weights + self.bias
        return flat.reshape(scaled.shape[0], self.count, self.width)

    def step(
        self, scaled: Features, targets: np.ndarray, loss: Loss, weights: np.ndarray | None, rate_multiplier: float
    ) -> np.ndarray:
        """One mini-batch update of every model; the models' summed losses on the batch."""
        values, gradient = loss(self.outputs(scaled), targets)
        if weights is not None:
            values = values * weights
            gradient = gradient * weights[..., None]
        rows = scaled.shape[0]
        flat = gradient.reshape(rows, -1) / rows
        column_sums = flat.sum(axis=0)
        weight_gradient = np.asarray(scaled.T @ flat) - np.outer(self.centre, column_sums) + self.wd * self.weights
        rates = np.maximum(self.rates * rate_multiplier, np.minimum(self.rates, self.minimum_rate))
        self.weight_optimizer.step(self.weights, weight_gradient, rates)
        if self.l1.any():
            proximal_l1(self.weights, self.l1 * rates)
        if self.use_bias:
            bias_gradient = column_sums + self.bias_wd_mult * self.wd * self.bias
            self.bias_optimizer.step(self.bias, bias_gradient, rates * self.bias_lr_mult)
        self.steps += 1
        return values.sum(axis=0)

    def export(self, index: int, standardizer: Standardizer, predictor_type: str, loss: Loss, threshold: float) -> LinearModel:
        """Model ``index`` in the data's own units."""
        columns = slice(index * self.width, (index + 1) * self.width)
        weights, bias = self.weights[:, columns], self.bias[columns]
        scale = standardizer.label_scale
        return LinearModel(
            predictor_type=predictor_type,
            loss=loss,
            weights=scale * weights / standardizer.feature_scale[:, None],
            bias=scale * (bias - self.centre @ weights) + standardizer.label_mean,
            threshold=threshold,
        )


class _Selector:
    """Scores the models after each epoch and keeps the best model and epoch so far."""

    def __init__(
        self, hp: dict[str, Any], loss: Loss, standardizer: Standardizer, features: Features, labels: np.ndarray
    ) -> None:
        self.predictor_type = hp["predictor_type"]
        self.loss = loss
        self.standardizer = standardizer
        self.scaled = standardizer.features(features)
        self.labels = labels
        self.criterion = Criterion(
            hp["binary_classifier_model_selection_criteria"], hp["f_beta"], hp["target_recall"], hp["target_precision"]
        )
        self.calibrates = self.predictor_type == "binary_classifier" and self.criterion.name != "loss_function"
        self.best: LinearModel | None = None
        self.best_key = (-np.inf, -np.inf)
        self.best_epoch = 0
        self.best_index = 0

    def observe(self, models: _Models, epoch: int) -> float:
        """Score every model; keep the best if it beats the best so far. The best score this epoch."""
        outputs = models.outputs(self.scaled) * self.standardizer.label_scale + self.standardizer.label_mean
        losses = self.loss(outputs, self.labels)[0].mean(axis=0)
        default = 0.5 if self.loss.name == "logistic" else 0.0
        thresholds = np.full(models.count, default)
        values = -losses
        if self.calibrates:
            scores = self.loss.scores(outputs)[..., 0]
            found = [
                best_threshold(scores[:, index], self.labels, self.criterion, default) for index in range(models.count)
            ]
            thresholds = np.array([threshold for threshold, _ in found])
            values = np.array([value for _, value in found])
        # Ties on the criterion (frequent for accuracy on few rows) go to the lower loss.
        index = int(np.lexsort((losses, -values))[0])
        if (values[index], -losses[index]) > self.best_key:
            self.best_key = (float(values[index]), float(-losses[index]))
            self.best_epoch, self.best_index = epoch, index
            self.best = models.export(index, self.standardizer, self.predictor_type, self.loss, float(thresholds[index]))
        return float(values[index])


class _Patience:
    """Early stopping: no relative improvement above ``tolerance`` for ``patience`` epochs."""

    def __init__(self, patience: int, tolerance: float) -> None:
        self.patience, self.tolerance = patience, tolerance
        self.best = -np.inf
        self.waited = 0

    def stop(self, score: float) -> bool:
        """Record this epoch's score (higher is better); whether to stop."""
        if self.best == -np.inf or score - self.best > self.tolerance * max(abs(self.best), 1e-12):
            self.best, self.waited = score, 0
            return False
        self.waited += 1
        return self.waited >= self.patience


def _auto(value: Any, default: float) -> float:
    return default if value == "auto" else float(value)


def _standardizer(features: Features, labels: np.ndarray, hp: dict[str, Any], rng: np.random.Generator) -> Standardizer:
    rows, columns = features.shape
    chosen = np.sort(rng.choice(rows, size=min(rows, hp["num_point_for_scaler"]), replace=False))
    sample = features[chosen]
    mean, scale = np.zeros(columns), np.ones(columns)
    unbias = hp["use_bias"] if hp["unbias_data"] == "auto" else hp["unbias_data"]
    normalize = hp["normalize_data"] is not False
    if unbias or normalize:
        if sp.issparse(sample):
            sample_mean = np.asarray(sample.mean(axis=0)).ravel()
            spread = np.sqrt(np.maximum(np.asarray(sample.multiply(sample).mean(axis=0)).ravel() - sample_mean**2, 0.0))
        else:
            sample_mean, spread = sample.mean(axis=0, dtype=np.float64), sample.std(axis=0, dtype=np.float64)
        if unbias:
            mean = sample_mean
        if normalize:
            scale = np.where(spread > 0, spread, 1.0)
    if hp["predictor_type"] != "regressor":
        return Standardizer(mean, scale)
    label_sample = labels[chosen]
    unbias_label = hp["use_bias"] if hp["unbias_label"] == "auto" else hp["unbias_label"]
    normalize_label = hp["normalize_label"] is not False
    label_spread = float(label_sample.std())
    return Standardizer(
        mean,
        scale,
        float(label_sample.mean()) if unbias_label else 0.0,
        label_spread if normalize_label and label_spread > 0 else 1.0,
    )


def _candidates(
    hp: dict[str, Any], labels: np.ndarray, rng: np.random.Generator, *, validated: bool
) -> list[Candidate]:
    """The first model's settings are the given (or default) ones; ``auto`` ones vary for the rest.

    Regularisation (``wd``, ``l1``) only varies when there are validation rows to choose it
    on: on the training rows the least regularised model would always win. Its default, an
    L2 weight of ``1 / rows``, is what scikit-learn's ``C=1`` amounts to.
    """
    count = AUTO_NUM_MODELS if hp["num_models"] == "auto" else hp["num_models"]
    optimizer = "adam" if hp["optimizer"] == "auto" else hp["optimizer"]
    base_rate = AUTO_LEARNING_RATE[optimizer]
    base_wd = 1.0 / len(labels)
    weights = _positive_weights(hp, labels)
    candidates = []
    for index in range(count):
        vary = index > 0
        rate = base_rate * 10 ** rng.uniform(-1.0, 1.0) if vary else base_rate
        wd = base_wd * 10 ** rng.uniform(-2.0, 2.0) if vary and validated else base_wd
        l1 = 10 ** rng.uniform(-6.0, -3.0) if vary and validated and index % 2 else 0.0
        candidates.append(
            Candidate(
                learning_rate=rate if hp["learning_rate"] == "auto" else hp["learning_rate"],
                wd=wd if hp["wd"] == "auto" else hp["wd"],
                l1=l1 if hp["l1"] == "auto" else hp["l1"],
                positive_weight=weights[index % len(weights)],
            )
        )
    return candidates


def _positive_weights(hp: dict[str, Any], labels: np.ndarray) -> list[float]:
    """The positive-example weights to try: the given one, the balancing one, or both (auto)."""
    setting = hp["positive_example_weight_mult"]
    if hp["predictor_type"] != "binary_classifier":
        return [1.0]
    positives = float(np.count_nonzero(labels == 1))
    balanced = (len(labels) - positives) / positives if positives else 1.0
    if setting == "balanced":
        return [balanced]
    if setting == "auto":
        return [1.0, balanced]
    return [float(setting)]


def _row_weights(
    hp: dict[str, Any], labels: np.ndarray, candidates: list[Candidate]
) -> Callable[[np.ndarray], np.ndarray] | None:
    """Labels -> each row's loss weight per model, ``(rows, models)`` or ``(rows, 1)``; None if all are 1.

    Binary classifiers weigh positives by each model's ``positive_weight``; multiclass ones,
    with ``balance_multiclass_weights``, weigh each class inversely to its frequency.
    """
    if hp["predictor_type"] == "binary_classifier":
        positive = np.array([candidate.positive_weight for candidate in candidates])
        if np.all(positive == 1.0):
            return None
        return lambda batch: np.where(batch[:, None] == 1, positive, 1.0)
    if hp["predictor_type"] == "multiclass_classifier" and hp["balance_multiclass_weights"]:
        classes = hp["num_classes"]
        counts = np.bincount(labels.astype(np.int64), minlength=classes).astype(np.float64)
        by_class = np.where(counts > 0, len(labels) / (classes * np.maximum(counts, 1.0)), 0.0)
        return lambda batch: by_class[batch.astype(np.int64), None]
    return None


def _evaluation_rows(
    features: Features, labels: np.ndarray, validation: tuple[Features, np.ndarray] | None, hp: dict[str, Any]
) -> tuple[Features, np.ndarray]:
    rows_features, rows_labels = validation if validation is not None else (features, labels)
    limit = AUTO_CALIBRATION_ROWS if hp["num_calibration_samples"] == "auto" else hp["num_calibration_samples"]
    return rows_features[:limit], rows_labels[:limit]


def _schedule(hp: dict[str, Any], total_steps: int) -> Callable[[int], float]:
    """Step number -> learning-rate multiplier (``lr_scheduler_minimum_lr`` is applied by :class:`_Models`)."""
    if not hp["use_lr_scheduler"]:
        return lambda step: 1.0
    factor = _auto(hp["lr_scheduler_factor"], AUTO_LR_FACTOR)
    if hp["lr_scheduler_step"] != "auto":
        every = hp["lr_scheduler_step"]
    elif 0.0 < factor < 1.0:
        decays = np.log(AUTO_TOTAL_DECAY) / np.log(factor)
        every = max(1, int(total_steps / decays))
    else:
        every = total_steps
    return lambda step: factor ** (step // every)
