"""Factorization Machines' inference handler, with SageMaker's request and response formats.

Requests are JSON (``{"instances": [{"data": {"features": {"keys": [...], "shape": [N],
"values": [...]}}}]}``, or dense ``{"features": [...]}`` instances), JSON lines of such
instances, or RecordIO-protobuf records. Responses: ``{"predictions": [{"score": 0.4,
"predicted_label": 0}]}`` for binary classifiers (label 1 from a score of 0.5),
``{"score": 3.9}`` rows for regressors; one row per line (JSON lines); label tensors per
record (RecordIO-protobuf).
"""

from __future__ import annotations

from pathlib import Path

from shipyard.algorithms.data import Features
from shipyard.algorithms.factorization_machines import ALGORITHM
from shipyard.algorithms.factorization_machines.model import FactorizationMachine
from shipyard.algorithms.inference import Row, RowPredictor


class FactorizationMachinePredictor(RowPredictor):
    """Scores sparse feature vectors with a trained factorization machine."""

    content_types = ALGORITHM.inference_content_types
    accept_types = ALGORITHM.accept_types

    def __init__(self, model: FactorizationMachine) -> None:
        self.model = model
        self.feature_dim = model.feature_dim

    def predict(self, features: Features) -> list[Row]:
        return self.model.predict(features)


def load(model_dir: Path) -> FactorizationMachinePredictor:
    """The predictor of a Factorization Machines model directory."""
    return FactorizationMachinePredictor(FactorizationMachine.load(model_dir))
