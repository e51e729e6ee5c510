"""Random Cut Forest's inference handler.

Responses, as SageMaker's RCF writes them: ``{"scores": [{"score": 0.02}, ...]}`` (JSON),
``{"score": 0.02}`` per line (JSON lines), one score per line (CSV), or one record per row
with ``score`` in its label map (RecordIO-protobuf).
"""

from __future__ import annotations

from pathlib import Path

import scipy.sparse as sp

from shipyard.algorithms.data import Features
from shipyard.algorithms.inference import Row, RowPredictor
from shipyard.algorithms.random_cut_forest.forest import Forest
from shipyard.algorithms.random_cut_forest.train import MODEL_FILE


class ForestPredictor(RowPredictor):
    """Anomaly scores of a trained forest."""

    json_key = "scores"
    csv_keys = ("score",)

    def __init__(self, forest: Forest) -> None:
        self.forest = forest
        self.feature_dim = forest.feature_dim

    def predict(self, features: Features) -> list[Row]:
        dense = features.toarray() if sp.issparse(features) else features
        return [{"score": float(score)} for score in self.forest.score(dense)]


def load(model_dir: Path) -> ForestPredictor:
    """The predictor of the forest in ``model_dir``."""
    return ForestPredictor(Forest.load(Path(model_dir) / MODEL_FILE))
