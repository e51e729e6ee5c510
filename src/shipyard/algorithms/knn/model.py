"""The k-NN model: sampled labelled vectors in an index, and the vote over neighbours."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from shipyard.algorithms.data import Features
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.knn import index as indexes

SETTINGS_FILE = "knn-model.json"
ARRAYS_FILE = "knn-model.npz"
#: faiss_index_pq_m values faiss accepts.
PQ_M_VALUES = (1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 96)
#: The shortest sub-vector of a default product quantizer.
PQ_MIN_SUBVECTOR = 4


@dataclass(frozen=True)
class Settings:
    """The hyperparameters that shape the model."""

    k: int
    predictor_type: str
    sample_size: int
    dimension_reduction_type: str | None = None
    dimension_reduction_target: int | None = None
    index_type: str = indexes.FLAT
    index_metric: str = indexes.L2
    faiss_index_ivf_nlists: int | str = "auto"
    faiss_index_pq_m: int | None = None

    @classmethod
    def from_hyperparameters(cls, values: dict[str, Any]) -> Settings:
        """The settings in parsed hyperparameters, checked against each other."""
        settings = cls(**{name: values[name] for name in cls.__dataclass_fields__ if name in values})
        settings.check(values["feature_dim"])
        return settings

    def check(self, feature_dim: int) -> None:
        """AlgorithmErrors for combinations SageMaker refuses."""
        if self.dimension_reduction_type and self.dimension_reduction_target is None:
            raise AlgorithmError("dimension_reduction_target is required when dimension_reduction_type is set")
        if self.dimension_reduction_target is not None and not self.dimension_reduction_type:
            raise AlgorithmError("dimension_reduction_target needs dimension_reduction_type (sign or fjlt)")
        if self.dimension_reduction_target is not None and self.dimension_reduction_target >= feature_dim:
            raise AlgorithmError(
                f"dimension_reduction_target ({self.dimension_reduction_target}) must be less than "
                f"feature_dim ({feature_dim})"
            )
        if self.faiss_index_pq_m is not None and self.faiss_index_pq_m not in PQ_M_VALUES:
            raise AlgorithmError(
                f"Invalid value {self.faiss_index_pq_m!r} for hyperparameter faiss_index_pq_m: "
                f"must be one of {', '.join(map(str, PQ_M_VALUES))}"
            )

    def pq_m(self, width: int) -> int:
        """The PQ sub-vector count: the one given, else the largest faiss value that splits
        ``width`` into sub-vectors of at least :data:`PQ_MIN_SUBVECTOR` values."""
        if self.faiss_index_pq_m is not None:
            return self.faiss_index_pq_m
        fitting = [value for value in PQ_M_VALUES if width % value == 0 and width // value >= PQ_MIN_SUBVECTOR]
        return max(fitting, default=1)


@dataclass
class KnnModel:
    """What inference needs: the settings, the reduction (if any), the index and the labels."""

    k: int
    predictor_type: str
    feature_dim: int
    reduction: np.ndarray | None
    index: indexes.Index
    labels: np.ndarray

    def neighbours(self, features: Features, batch_size: int = 5000) -> tuple[np.ndarray, np.ndarray]:
        """(distances, labels) of each row's ``k`` nearest neighbours, nearest first."""
        distances, labels = [], []
        for start in range(0, features.shape[0], batch_size):
            batch = features[start : start + batch_size]
            vectors = np.asarray(batch.toarray() if sp.issparse(batch) else batch, dtype=np.float64)
            found, ids = self.index.search(self.reduce(vectors), self.k)
            distances.append(found)
            labels.append(self.labels[ids])
        return np.concatenate(distances), np.concatenate(labels)

    def reduce(self, vectors: np.ndarray) -> np.ndarray:
        """``vectors`` in the index's space: reduced, and zero-padded for a PQ index."""
        if self.reduction is not None:
            vectors = vectors @ self.reduction.T
        missing = self.index.centroids.shape[1] - vectors.shape[1]
        return np.pad(vectors, ((0, 0), (0, missing))) if missing else vectors

    def predict(self, neighbour_labels: np.ndarray) -> np.ndarray:
        """Each row's prediction from its neighbours' labels."""
        return vote(neighbour_labels) if self.predictor_type == "classifier" else neighbour_labels.mean(axis=1)

    def save(self, model_dir: Path) -> None:
        """Write the model into ``model_dir``."""
        settings = {
            "k": self.k,
            "predictor_type": self.predictor_type,
            "feature_dim": self.feature_dim,
            "index_metric": self.index.metric,
            "nprobe": self.index.nprobe,
        }
        (model_dir / SETTINGS_FILE).write_text(json.dumps(settings, indent=2))
        arrays = {f"index_{name}": value for name, value in self.index.arrays().items()}
        if self.reduction is not None:
            arrays["reduction"] = self.reduction
        np.savez(model_dir / ARRAYS_FILE, labels=self.labels, **arrays)

    @classmethod
    def load(cls, model_dir: Path) -> KnnModel:
        """The model saved by :meth:`save`."""
        settings = json.loads((model_dir / SETTINGS_FILE).read_text())
        with np.load(model_dir / ARRAYS_FILE) as archive:
            arrays = {name: archive[name] for name in archive.files}
        index_arrays = {name.removeprefix("index_"): value for name, value in arrays.items() if name.startswith("index_")}
        return cls(
            k=settings["k"],
            predictor_type=settings["predictor_type"],
            feature_dim=settings["feature_dim"],
            reduction=arrays.get("reduction"),
            index=indexes.load(settings["index_metric"], settings["nprobe"], index_arrays),
            labels=arrays["labels"],
        )


def fit(features: Features, labels: np.ndarray, settings: Settings, *, seed: int = 0) -> KnnModel:
    """Sample ``sample_size`` labelled rows, reduce them and index them."""
    rng = np.random.default_rng(seed)
    rows, width = features.shape
    if min(rows, settings.sample_size) < settings.k:
        raise AlgorithmError(
            f"k is {settings.k}, but the model would hold only {min(rows, settings.sample_size)} record(s) "
            "(the smaller of sample_size and the train channel's record count)"
        )
    chosen = np.sort(rng.choice(rows, settings.sample_size, replace=False)) if settings.sample_size < rows else np.arange(rows)
    sample = features[chosen]
    vectors = np.asarray(sample.toarray() if sp.issparse(sample) else sample, dtype=np.float64)
    reduction = None
    target = width
    if settings.dimension_reduction_type:
        target = settings.dimension_reduction_target
        if settings.index_type == indexes.IVF_PQ:
            # SageMaker raises the target to the next multiple of faiss_index_pq_m.
            target = -(-target // settings.pq_m(target)) * settings.pq_m(target)
        reduction = indexes.reduction_matrix(settings.dimension_reduction_type, width, target, rng)
        vectors = vectors @ reduction.T
    pq_m = settings.pq_m(target) if settings.index_type == indexes.IVF_PQ else None
    if pq_m and target % pq_m:
        # Without reduction, zero columns pad the data to a multiple of faiss_index_pq_m.
        vectors = np.pad(vectors, ((0, 0), (0, pq_m - target % pq_m)))
    index = indexes.build(
        vectors,
        metric=settings.index_metric,
        index_type=settings.index_type,
        nlists=settings.faiss_index_ivf_nlists,
        pq_m=pq_m,
        rng=rng,
    )
    return KnnModel(settings.k, settings.predictor_type, width, reduction, index, labels[chosen].astype(np.float32))


def vote(neighbour_labels: np.ndarray) -> np.ndarray:
    """The most frequent label of each row; among tied labels, the smallest."""
    counts = (neighbour_labels[:, :, None] == neighbour_labels[:, None, :]).sum(axis=2)
    tied = np.where(counts == counts.max(axis=1, keepdims=True), neighbour_labels, np.inf)
    return tied.min(axis=1)
