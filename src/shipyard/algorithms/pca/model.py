"""Principal components the way SageMaker's PCA computes them.

``regular`` mode sums the (centered) scatter matrix over mini-batches in float64 and takes
its eigendecomposition: exact, and sparse data is only ever densified a mini-batch at a
time. ``randomized`` mode runs scikit-learn's randomized SVD on the centered data with
``extra_components`` oversampling, for many rows and features.

Components come largest first; each one's sign makes its largest-magnitude coefficient
positive (scikit-learn's convention), so the same data gives the same projections.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from shipyard.algorithms.data import Features
from shipyard.algorithms.errors import AlgorithmError

MODEL_FILE = "pca-model.npz"


@dataclass(frozen=True)
class Settings:
    """The hyperparameters that shape training."""

    num_components: int
    algorithm_mode: str = "regular"
    subtract_mean: bool = True
    extra_components: int = -1
    mini_batch_size: int = 5000


@dataclass(frozen=True)
class PCAModel:
    """Principal axes (rows of ``components``), their singular values, the training mean."""

    components: np.ndarray
    singular_values: np.ndarray
    mean: np.ndarray
    rows: int
    total_variance: float

    @property
    def explained_variance(self) -> np.ndarray:
        """The variance along each component (singular value squared over rows - 1)."""
        return self.singular_values**2 / max(self.rows - 1, 1)

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        """Each component's share of the data's total variance."""
        return self.explained_variance / self.total_variance if self.total_variance else np.zeros_like(self.singular_values)

    def project(self, features: Features, batch_size: int = 5000) -> np.ndarray:
        """Each row's coordinates along the components (float64, rows x num_components)."""
        parts = [(batch - self.mean) @ self.components.T for batch in _batches(features, batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.components)))

    def reconstruction_error(self, features: Features, batch_size: int = 5000) -> float:
        """Mean squared distance between the rows and their projections mapped back."""
        total, rows = 0.0, 0
        for batch in _batches(features, batch_size):
            centered = batch - self.mean
            residual = centered - (centered @ self.components.T) @ self.components
            total += float(np.einsum("ij,ij->", residual, residual))
            rows += len(batch)
        return total / max(rows, 1)

    def save(self, model_dir: Path) -> Path:
        """Write the model into ``model_dir``; the file written."""
        path = model_dir / MODEL_FILE
        np.savez(
            path,
            components=self.components,
            singular_values=self.singular_values,
            mean=self.mean,
            rows=np.int64(self.rows),
            total_variance=np.float64(self.total_variance),
        )
        return path

    @classmethod
    def load(cls, model_dir: Path) -> PCAModel:
        """The model saved by :meth:`save`."""
        with np.load(model_dir / MODEL_FILE) as archive:
            return cls(
                components=archive["components"],
                singular_values=archive["singular_values"],
                mean=archive["mean"],
                rows=int(archive["rows"]),
                total_variance=float(archive["total_variance"]),
            )


def fit(features: Features, settings: Settings, *, seed: int = 0) -> PCAModel:
    """The top ``num_components`` principal components of ``features``."""
    rows, width = features.shape
    if settings.num_components > width:
        raise AlgorithmError(
            f"num_components is {settings.num_components}, but the data has only {width} feature(s)"
        )
    if rows < 2:
        raise AlgorithmError("PCA needs at least 2 training records")
    mean = _mean(features, settings.mini_batch_size) if settings.subtract_mean else np.zeros(width)
    if settings.algorithm_mode == "randomized":
        components, singular_values, total = _randomized(features, mean, settings, seed)
    else:
        components, singular_values, total = _regular(features, mean, settings)
    return PCAModel(_flip_signs(components), singular_values, mean, rows, total / (rows - 1))


def _regular(features: Features, mean: np.ndarray, settings: Settings) -> tuple[np.ndarray, np.ndarray, float]:
    width = features.shape[1]
    scatter = np.zeros((width, width))
    for batch in _batches(features, settings.mini_batch_size):
        centered = batch - mean
        scatter += centered.T @ centered
    eigenvalues, eigenvectors = np.linalg.eigh(scatter)
    top = np.argsort(eigenvalues)[::-1][: settings.num_components]
    singular_values = np.sqrt(np.maximum(eigenvalues[top], 0.0))
    return eigenvectors[:, top].T, singular_values, float(np.trace(scatter))


def _randomized(
    features: Features, mean: np.ndarray, settings: Settings, seed: int
) -> tuple[np.ndarray, np.ndarray, float]:
    from sklearn.utils.extmath import randomized_svd

    centered = np.concatenate(list(_batches(features, settings.mini_batch_size))) - mean
    extra = settings.extra_components if settings.extra_components >= 0 else max(10, settings.num_components)
    _, singular_values, components = randomized_svd(
        centered, settings.num_components, n_oversamples=extra, random_state=seed
    )
    return components, singular_values, float(np.einsum("ij,ij->", centered, centered))


def _mean(features: Features, batch_size: int) -> np.ndarray:
    total = np.zeros(features.shape[1])
    for batch in _batches(features, batch_size):
        total += batch.sum(axis=0)
    return total / features.shape[0]


def _flip_signs(components: np.ndarray) -> np.ndarray:
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), largest])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


def _batches(features: Features, size: int) -> Iterator[np.ndarray]:
    """Dense float64 mini-batches of ``features`` (sparse rows densified per batch)."""
    for start in range(0, features.shape[0], size):
        batch = features[start : start + size]
        yield np.asarray(batch.toarray() if sp.issparse(batch) else batch, dtype=np.float64)
