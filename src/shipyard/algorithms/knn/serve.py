"""k-NN's inference handler: the predicted label of each record, optionally with its neighbours.

Responses as SageMaker documents them: ``{"predictions": [{"predicted_label": 0.0}]}``
(JSON), one such object per line (JSON lines), or a ``predicted_label`` label tensor per
record (RecordIO-protobuf). With ``verbose=true`` in the Accept header
(``application/json; verbose=true``), each prediction also has ``distances`` (nearest
first) and the neighbours' ``labels``.
"""

from __future__ import annotations

from pathlib import Path

from shipyard.algorithms.content_types import JSON, JSONLINES, RECORDIO
from shipyard.algorithms.data import Features
from shipyard.algorithms.inference import Row, RowPredictor
from shipyard.algorithms.knn import model


class KnnPredictor(RowPredictor):
    """Predicts from the labels of the nearest indexed records."""

    accept_types = (JSON, JSONLINES, RECORDIO)

    def __init__(self, fitted: model.KnnModel, *, verbose: bool = False) -> None:
        self.model = fitted
        self.feature_dim = fitted.feature_dim
        self.verbose = verbose

    def invoke(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        """As :meth:`RowPredictor.invoke`; a ``verbose=true`` Accept adds the neighbours."""
        if not self.verbose and wants_verbose(accept):
            return KnnPredictor(self.model, verbose=True).invoke(body, content_type, accept)
        return super().invoke(body, content_type, accept)

    def predict(self, features: Features) -> list[Row]:
        distances, labels = self.model.neighbours(features)
        predicted = self.model.predict(labels)
        if not self.verbose:
            return [{"predicted_label": float(value)} for value in predicted]
        return [
            {
                "predicted_label": float(value),
                "distances": [float(distance) for distance in row_distances],
                "labels": [float(label) for label in row_labels],
            }
            for value, row_distances, row_labels in zip(predicted, distances, labels, strict=True)
        ]


def wants_verbose(accept: str | None) -> bool:
    """Whether the first Accept item carries ``verbose=true``."""
    first = (accept or "").split(",", 1)[0]
    parameters = [part.strip().lower().replace(" ", "") for part in first.split(";")[1:]]
    return "verbose=true" in parameters


def load(model_dir: Path) -> KnnPredictor:
    """The predictor of a k-NN model directory."""
    return KnnPredictor(model.KnnModel.load(model_dir))
