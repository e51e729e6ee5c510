"""k-NN's search structures on NumPy: dimension reduction and faiss-style indexes.

- Reduction: ``sign`` is a random projection with entries ``±1/sqrt(target)``; ``fjlt`` a
  subsampled randomized Hadamard transform (random signs, then ``target`` random rows of the
  Hadamard matrix), the fast Johnson-Lindenstrauss transform.
- ``faiss.Flat`` compares a query with every stored vector. ``faiss.IVFFlat`` splits the
  vectors into ``nlists`` k-means cells and searches the cells nearest the query;
  ``faiss.IVFPQ`` also replaces each vector's offset from its cell's centroid by a product
  quantization code (``m`` sub-vectors, 256 centroids each), as faiss does.
- Distances follow faiss: squared Euclidean for ``L2`` (nearest first), the inner product
  for ``INNER_PRODUCT`` and the cosine similarity for ``COSINE`` (largest first).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from shipyard.algorithms.errors import AlgorithmError

L2, INNER_PRODUCT, COSINE = "L2", "INNER_PRODUCT", "COSINE"
FLAT, IVF_FLAT, IVF_PQ = "faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ"
#: Centroids per product-quantizer sub-space (faiss's 8 bits per code).
PQ_CENTROIDS = 256
#: faiss trains each quantizer on at most this many points per centroid.
TRAINING_POINTS_PER_CENTROID = 256
#: faiss's k-means iterations when training a quantizer.
TRAINING_ITERATIONS = 25
#: Query x vector scores a flat search holds at once (float64: 128 MiB).
SCORES_PER_CHUNK = 1 << 24


def reduction_matrix(kind: str, width: int, target: int, rng: np.random.Generator) -> np.ndarray:
    """The ``target x width`` matrix of a ``sign`` or ``fjlt`` reduction."""
    if kind == "sign":
        return rng.choice((-1.0, 1.0), size=(target, width)) / math.sqrt(target)
    size = 1 << max(width - 1, 0).bit_length()
    rows = rng.choice(size, target, replace=False)
    signs = rng.choice((-1.0, 1.0), size=width)
    return math.sqrt(size / target) * _hadamard_rows(rows, width, size) * signs


def _hadamard_rows(rows: np.ndarray, width: int, size: int) -> np.ndarray:
    """Rows ``rows`` (first ``width`` columns) of the normalized ``size x size`` Hadamard matrix:
    entry (i, j) is ``(-1) ** popcount(i & j) / sqrt(size)``."""
    bits = rows[:, None] & np.arange(width)[None, :]
    parity = np.zeros(bits.shape, dtype=np.int64)
    while bits.any():
        parity ^= bits & 1
        bits >>= 1
    return (1.0 - 2.0 * parity) / math.sqrt(size)


@dataclass
class Index:
    """Stored vectors (or their PQ codes) in IVF cells, searchable for the ``k`` nearest.

    A flat index is one cell holding every vector. ``order`` lists the stored rows cell by
    cell, ``offsets[c]:offsets[c + 1]`` being cell ``c``'s slice of it.
    """

    metric: str
    centroids: np.ndarray
    offsets: np.ndarray
    order: np.ndarray
    vectors: np.ndarray | None = None
    codebooks: np.ndarray | None = None
    codes: np.ndarray | None = None
    nprobe: int = 1

    @property
    def size(self) -> int:
        return len(self.order)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, row ids) of the ``k`` nearest stored rows of each query, nearest first.

        Fewer than ``k`` stored rows leave the tail of a result as id -1.
        """
        queries = self._prepare(queries)
        distances = np.full((len(queries), k), np.inf if self.metric == L2 else -np.inf)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if len(self.centroids) == 1:
            everything = np.arange(self.size)
            step = max(1, SCORES_PER_CHUNK // max(self.size, 1))
            for start in range(0, len(queries), step):
                found, found_ids = self._nearest(queries[start : start + step], everything, self.vectors, k)
                distances[start : start + step, : found.shape[1]], ids[start : start + step, : found.shape[1]] = (
                    found,
                    found_ids,
                )
            return distances, ids
        cells = np.argsort(scores(self.metric, queries, self.centroids), axis=1)
        for row, query in enumerate(queries):
            candidates = self._candidates(cells[row], k)
            near_distances, near_ids = self._nearest(query[None, :], candidates, self._stored(candidates), k)
            distances[row, : near_ids.shape[1]], ids[row, : near_ids.shape[1]] = near_distances[0], near_ids[0]
        return distances, ids

    def _candidates(self, cells: np.ndarray, k: int) -> np.ndarray:
        """The positions (in ``order``) of the rows in the ``nprobe`` nearest cells, and in
        further ones until there are ``k``."""
        chosen, count = [], 0
        for probed, cell in enumerate(cells):
            if probed >= self.nprobe and count >= k:
                break
            chosen.append(np.arange(self.offsets[cell], self.offsets[cell + 1]))
            count += len(chosen[-1])
        return np.concatenate(chosen)

    def _nearest(
        self, queries: np.ndarray, positions: np.ndarray, stored: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best of the rows at ``positions`` (whose vectors are ``stored``) per query."""
        found = scores(self.metric, queries, stored)
        keep = min(k, found.shape[1])
        best = np.argpartition(found, keep - 1, axis=1)[:, :keep] if keep < found.shape[1] else np.argsort(found, axis=1)
        best = np.take_along_axis(best, np.argsort(np.take_along_axis(found, best, axis=1), axis=1), axis=1)
        ranked = np.take_along_axis(found, best, axis=1)
        return (ranked if self.metric == L2 else -ranked), self.order[positions[best]]

    def _stored(self, positions: np.ndarray) -> np.ndarray:
        if self.vectors is not None:
            return self.vectors[positions]
        cells = np.searchsorted(self.offsets, positions, side="right") - 1
        return self.centroids[cells] + decode(self.codebooks, self.codes[positions])

    def _prepare(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float64)
        return normalize(vectors) if self.metric == COSINE else vectors

    def arrays(self) -> dict[str, np.ndarray]:
        """The index as named arrays, for :func:`numpy.savez`."""
        arrays = {"centroids": self.centroids, "offsets": self.offsets, "order": self.order}
        for name in ("vectors", "codebooks", "codes"):
            value = getattr(self, name)
            if value is not None:
                arrays[name] = value
        return arrays


def build(
    vectors: np.ndarray,
    *,
    metric: str,
    index_type: str,
    nlists: int | str,
    pq_m: int | None,
    rng: np.random.Generator,
) -> Index:
    """An index of ``vectors`` (rows of float64)."""
    if index_type == IVF_PQ and metric != L2:
        raise AlgorithmError(f"index_metric {metric} is not supported with index_type {IVF_PQ}; use L2")
    if metric == COSINE:
        vectors = normalize(vectors)
    rows = len(vectors)
    if index_type == FLAT:
        return Index(metric, np.zeros((1, vectors.shape[1])), np.array([0, rows]), np.arange(rows), vectors=vectors)
    count = max(1, round(math.sqrt(rows))) if nlists == "auto" else min(int(nlists), rows)
    centroids = _kmeans(vectors, count, rng)
    cells = np.argmin(scores(metric, vectors, centroids), axis=1)
    order = np.argsort(cells, kind="stable")
    offsets = np.concatenate(([0], np.cumsum(np.bincount(cells, minlength=count))))
    nprobe = max(1, math.ceil(math.sqrt(count)))
    if index_type == IVF_FLAT:
        return Index(metric, centroids, offsets, order, vectors=vectors[order], nprobe=nprobe)
    residuals = vectors[order] - centroids[cells[order]]
    codebooks = train_pq(residuals, pq_m or 1, rng)
    return Index(metric, centroids, offsets, order, codebooks=codebooks, codes=encode(codebooks, residuals), nprobe=nprobe)


def load(metric: str, nprobe: int, arrays: dict[str, np.ndarray]) -> Index:
    """The index saved as :meth:`Index.arrays`."""
    return Index(
        metric,
        arrays["centroids"],
        arrays["offsets"],
        arrays["order"],
        vectors=arrays.get("vectors"),
        codebooks=arrays.get("codebooks"),
        codes=arrays.get("codes"),
        nprobe=nprobe,
    )


def train_pq(vectors: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """Product-quantizer codebooks (m x centroids x width/m) of ``vectors``; width divides by m."""
    parts = np.split(vectors, m, axis=1)
    count = min(PQ_CENTROIDS, len(vectors))
    return np.stack([_kmeans(part, count, rng) for part in parts])


def encode(codebooks: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The PQ code (one centroid number per sub-vector) of each row."""
    parts = np.split(vectors, len(codebooks), axis=1)
    return np.stack(
        [np.argmin(scores(L2, part, book), axis=1) for part, book in zip(parts, codebooks, strict=True)], axis=1
    ).astype(np.uint8)


def decode(codebooks: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The vectors that PQ codes stand for."""
    return np.concatenate([codebooks[part][codes[:, part]] for part in range(len(codebooks))], axis=1)


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def _kmeans(vectors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` k-means centroids, trained as faiss trains its quantizers."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    limit = count * TRAINING_POINTS_PER_CENTROID
    sample = vectors[rng.choice(len(vectors), limit, replace=False)] if len(vectors) > limit else vectors
    model = KMeans(n_clusters=count, n_init=1, max_iter=TRAINING_ITERATIONS, random_state=int(rng.integers(2**31)))
    with warnings.catch_warnings():
        # Fewer distinct points than centroids leaves duplicate centroids, which cost nothing.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(sample).cluster_centers_


def scores(metric: str, queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Query x vector scores, smaller being nearer: squared distances for L2, negated inner
    products otherwise (the vectors of a COSINE index are already unit length)."""
    if metric == L2:
        return np.maximum(
            np.einsum("ij,ij->i", queries, queries)[:, None]
            - 2.0 * queries @ vectors.T
            + np.einsum("ij,ij->i", vectors, vectors)[None, :],
            0.0,
        )
    return -(queries @ vectors.T)
