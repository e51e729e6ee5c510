"""Linear Learner's inference handler, with SageMaker's response formats.

``{"predictions": [{"score": 0.4, "predicted_label": 0}]}`` for binary classifiers (the
score is the probability of label 1), ``{"score": [0.1, 0.2, 0.7], "predicted_label": 2}``
rows for multiclass classifiers, ``{"score": 0.4}`` rows for regressors; one row per line
for JSON lines, label tensors per record for RecordIO-protobuf. A CSV response holds one
value per line: the predicted label (classifiers) or the score (regressors).
"""

from __future__ import annotations

from pathlib import Path

from shipyard.algorithms.data import Features
from shipyard.algorithms.inference import Row, RowPredictor
from shipyard.algorithms.linear_learner.model import LinearModel


class LinearLearnerPredictor(RowPredictor):
    """Scores feature vectors with a trained linear model."""

    def __init__(self, model: LinearModel) -> None:
        self.model = model
        self.feature_dim = model.feature_dim
        self.csv_keys = ("score",) if model.predictor_type == "regressor" else ("predicted_label",)

    def predict(self, features: Features) -> list[Row]:
        return self.model.predict(features)


def load(model_dir: Path) -> LinearLearnerPredictor:
    """The predictor of a Linear Learner model directory."""
    return LinearLearnerPredictor(LinearModel.load(model_dir))
