"""SageMaker's two-stage k-means, on NumPy and scikit-learn.

Stage one streams the records, in the order they are stored, in mini-batches through a
k-means with ``k * extra_center_factor`` centers (started from a random sample of the data):
each center moves to the weighted mean of the points assigned to it so far, older points'
weights halving every ``half_life_time_size`` points. Stage two reduces those centers to
``k`` with Lloyd's algorithm (scikit-learn's ``KMeans``) on the centers weighted by how many
points they drew: the "local Lloyd" of SageMaker's hyperparameters.

As the training data is in memory here, a few Lloyd's passes over all of it from those ``k``
centers (at most :data:`REFINE_PASSES`, and the local Lloyd's tolerance) settle them near
the local optimum. They are skipped when ``half_life_time_size`` is set: that asks for the
recent records to count more, which passes weighting every record alike would undo.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from shipyard.algorithms.data import Features
from shipyard.algorithms.errors import AlgorithmError

MODEL_FILE = "kmeans-model.npz"

#: Local Lloyd runs when ``local_lloyd_num_trials`` is ``auto``.
AUTO_TRIALS = 10
#: Full-data Lloyd's passes after the reduction. On iris, wine and blobs, 5 reach the
#: inertia of 300 to four digits; on unclustered data more only cost time (a pass over
#: 1M x 20 rows with k=10 takes about 50 ms on 2 cores, and such data never converges).
REFINE_PASSES = 5


@dataclass(frozen=True)
class Settings:
    """The hyperparameters that shape training."""

    k: int
    epochs: int = 1
    mini_batch_size: int = 5000
    init_method: str = "random"
    extra_center_factor: int | str = "auto"
    half_life_time_size: int = 0
    local_lloyd_init_method: str = "kmeans++"
    local_lloyd_max_iter: int = 300
    local_lloyd_num_trials: int | str = "auto"
    local_lloyd_tol: float = 1e-4

    @classmethod
    def from_hyperparameters(cls, values: Mapping[str, Any]) -> Settings:
        """The settings in parsed hyperparameters (extra names are ignored)."""
        return cls(**{name: values[name] for name in cls.__dataclass_fields__ if name in values})

    def streaming_centers(self, rows: int) -> int:
        """How many centers stage one keeps: ``k * extra_center_factor``, at most one per row.

        ``auto`` takes ``ceil(ln(rows))`` extra centers per cluster, the order that streaming
        k-means needs to keep its cost within a constant of the best clustering.
        """
        factor = self.extra_center_factor
        if factor == "auto":
            factor = max(1, math.ceil(math.log(max(rows, 2))))
        return min(rows, self.k * int(factor))


@dataclass(frozen=True)
class Assignment:
    """Each row's closest center and its squared Euclidean distance to it."""

    clusters: np.ndarray
    squared_distances: np.ndarray


def fit(
    features: Features,
    settings: Settings,
    *,
    seed: int = 0,
    on_epoch: Callable[[int, float], None] | None = None,
) -> np.ndarray:
    """The ``k`` cluster centers (float32, k x feature_dim) of ``features``.

    ``on_epoch(epoch, msd)`` is told, after each pass of stage one, the mean squared distance
    of that pass's points to the center they were assigned to.
    """
    rows = features.shape[0]
    if rows < settings.k:
        raise AlgorithmError(f"k is {settings.k}, but the train channel has only {rows} record(s)")
    rng = np.random.default_rng(seed)
    centers, weights = _stream(features, settings, rng, on_epoch)
    live = weights > 0
    if int(live.sum()) < settings.k:
        raise AlgorithmError(
            f"The training data has fewer than k={settings.k} distinct points; lower k"
        )
    reduced = _reduce(centers[live], weights[live], settings, seed)
    if settings.half_life_time_size:
        return reduced.astype(np.float32)
    return _refine(features, reduced, settings)


def assign(features: Features, centers: np.ndarray, batch_size: int = 5000) -> Assignment:
    """The closest of ``centers`` for every row of ``features``, a mini-batch at a time."""
    clusters, distances = [], []
    for batch in _batches(features, batch_size):
        found = _closest(batch, centers)
        clusters.append(found.clusters)
        distances.append(found.squared_distances)
    return Assignment(np.concatenate(clusters), np.concatenate(distances))


def save(model_dir: Path, centers: np.ndarray) -> Path:
    """Write the centers into ``model_dir``; the file written."""
    path = model_dir / MODEL_FILE
    np.savez(path, centers=centers.astype(np.float32))
    return path


def load(model_dir: Path) -> np.ndarray:
    """The centers saved by :func:`save`."""
    with np.load(model_dir / MODEL_FILE) as archive:
        return archive["centers"]


def _stream(
    features: Features,
    settings: Settings,
    rng: np.random.Generator,
    on_epoch: Callable[[int, float], None] | None,
) -> tuple[np.ndarray, np.ndarray]:
    rows = features.shape[0]
    count = settings.streaming_centers(rows)
    centers = _initial_centers(features, count, settings, rng)
    weights = np.zeros(count)
    decay = 0.5 ** (1.0 / settings.half_life_time_size) if settings.half_life_time_size else 1.0
    for epoch in range(1, settings.epochs + 1):
        loss = 0.0
        # Assignments in float32 (the stream's bulk of the work); the centers stay float64.
        for batch in _batches(features, settings.mini_batch_size, np.float32):
            found = _closest(batch, centers)
            loss += float(found.squared_distances.sum())
            counts = np.bincount(found.clusters, minlength=count).astype(np.float64)
            membership = sp.csr_matrix(
                (np.ones(len(batch)), (found.clusters, np.arange(len(batch)))), shape=(count, len(batch))
            )
            sums = membership @ batch
            weights *= decay ** len(batch)
            total = weights + counts
            moved = counts > 0
            centers[moved] = (centers[moved] * weights[moved, None] + sums[moved]) / total[moved, None]
            weights = total
        if on_epoch is not None:
            on_epoch(epoch, loss / rows)
    return centers, weights


def _initial_centers(features: Features, count: int, settings: Settings, rng: np.random.Generator) -> np.ndarray:
    """``count`` starting centers drawn from a random sample of at least a mini-batch."""
    from sklearn.cluster import kmeans_plusplus

    size = min(features.shape[0], max(count, settings.mini_batch_size))
    sample = _dense(features[rng.choice(features.shape[0], size, replace=False)])
    if settings.init_method == "kmeans++":
        centers, _ = kmeans_plusplus(sample, count, random_state=int(rng.integers(2**31)))
        return centers
    return sample[:count].copy()


def _reduce(centers: np.ndarray, weights: np.ndarray, settings: Settings, seed: int) -> np.ndarray:
    """Local Lloyd's: ``k`` centers from the weighted stage-one centers, best of several runs."""
    from sklearn.cluster import KMeans

    trials = settings.local_lloyd_num_trials
    model = KMeans(
        n_clusters=settings.k,
        init="k-means++" if settings.local_lloyd_init_method == "kmeans++" else "random",
        n_init=AUTO_TRIALS if trials == "auto" else int(trials),
        max_iter=settings.local_lloyd_max_iter,
        tol=settings.local_lloyd_tol,
        random_state=seed,
    )
    model.fit(centers, sample_weight=weights)
    return model.cluster_centers_


def _refine(features: Features, centers: np.ndarray, settings: Settings) -> np.ndarray:
    from sklearn.cluster import KMeans

    model = KMeans(
        n_clusters=settings.k,
        init=centers,
        n_init=1,
        max_iter=min(REFINE_PASSES, settings.local_lloyd_max_iter),
        tol=settings.local_lloyd_tol,
    )
    model.fit(features)
    return model.cluster_centers_.astype(np.float32)


def _batches(features: Features, size: int, dtype: type = np.float64) -> Iterator[np.ndarray]:
    """Dense mini-batches of ``features``, in order (sparse rows densified per batch)."""
    for start in range(0, features.shape[0], size):
        yield _dense(features[start : start + size], dtype)


def _dense(rows: Features, dtype: type = np.float64) -> np.ndarray:
    return np.asarray(rows.toarray() if sp.issparse(rows) else rows, dtype=dtype)


def _closest(batch: np.ndarray, centers: np.ndarray) -> Assignment:
    """Each row's nearest center, computed in the batch's float type."""
    centers = centers.astype(batch.dtype, copy=False)
    squared = (
        np.einsum("ij,ij->i", batch, batch)[:, None] - 2.0 * (batch @ centers.T) + np.einsum("ij,ij->i", centers, centers)
    )
    clusters = squared.argmin(axis=1)
    nearest = np.maximum(squared[np.arange(len(batch)), clusters], 0.0).astype(np.float64)
    return Assignment(clusters, nearest)
