"""PCA's inference handler: each record's projection onto the principal components.

Responses as SageMaker documents them: ``{"projections": [{"projection": [...]}]}`` (JSON),
``{"projection": [...]}`` per line (JSON lines), or one record per row with a
``projection`` label tensor (RecordIO-protobuf).
"""

from __future__ import annotations

from pathlib import Path

from shipyard.algorithms.content_types import JSON, JSONLINES, RECORDIO
from shipyard.algorithms.data import Features
from shipyard.algorithms.inference import Row, RowPredictor
from shipyard.algorithms.pca import model


class PCAPredictor(RowPredictor):
    """Projects feature vectors onto the model's principal components."""

    accept_types = (JSON, JSONLINES, RECORDIO)
    json_key = "projections"

    def __init__(self, fitted: model.PCAModel) -> None:
        self.model = fitted
        self.feature_dim = fitted.components.shape[1]

    def predict(self, features: Features) -> list[Row]:
        return [{"projection": [float(value) for value in row]} for row in self.model.project(features)]


def load(model_dir: Path) -> PCAPredictor:
    """The predictor of a PCA model directory."""
    return PCAPredictor(model.PCAModel.load(model_dir))
