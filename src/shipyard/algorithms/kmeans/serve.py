"""K-Means' inference handler: each record's closest cluster and its distance to it.

Responses as SageMaker documents them: ``{"predictions": [{"closest_cluster": 1.0,
"distance_to_cluster": 3.0}]}`` (JSON), one such object per line (JSON lines),
``closest_cluster,distance_to_cluster`` per line (CSV), or both as label tensors of one
record per row (RecordIO-protobuf). The distance is Euclidean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shipyard.algorithms.data import Features
from shipyard.algorithms.inference import Row, RowPredictor
from shipyard.algorithms.kmeans import model


class KMeansPredictor(RowPredictor):
    """Assigns feature vectors to the nearest of the model's centers."""

    csv_keys = ("closest_cluster", "distance_to_cluster")

    def __init__(self, centers: np.ndarray) -> None:
        self.centers = centers
        self.feature_dim = centers.shape[1]

    def predict(self, features: Features) -> list[Row]:
        found = model.assign(features, self.centers)
        distances = np.sqrt(found.squared_distances)
        return [
            {"closest_cluster": float(cluster), "distance_to_cluster": float(distance)}
            for cluster, distance in zip(found.clusters, distances, strict=True)
        ]


def load(model_dir: Path) -> KMeansPredictor:
    """The predictor of a K-Means model directory."""
    return KMeansPredictor(model.load(model_dir))
