"""A random cut forest (Guha et al., 2016) in vectorized NumPy.

Each tree is built on a uniform sample (without replacement: what a reservoir sample of
the training stream holds) of ``num_samples_per_tree`` points. A node's cut picks a
dimension with probability proportional to its range in the node's bounding box, then a
value uniformly within that range; points ``<=`` the cut go left. Identical points share
a leaf whose mass is their count.

The score of a point is the anomaly score of Amazon's open-source random cut forest library,
on the scale SageMaker's algorithm reports (about inverse to the depth at which a tree would
isolate the point, scaled by the sample size, averaged over the trees): walking the point's
path, each node contributes the chance that a random cut of its box, grown to include the
point, would isolate the point there, weighted by ``1 / (depth + 1)``; the leaf contributes
``1 / (depth + 1)`` too, or, for a point the sample holds, a damped
``1 / (depth + log2(mass + 1))``. Each tree's result is scaled by ``log2(sample size + 1)``.
Inliers score around 1, anomalies well above.

All trees live in one set of flat node arrays (node ``t`` is tree ``t``'s root), so both
building (one pass per tree level, all trees at once) and scoring (one pass per level for
every query and tree) are array operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

#: Bound on the elements (walkers times their values) one scoring pass holds in memory.
_CHUNK_ELEMENTS = 1 << 22
#: Per walker, besides its features: its id, node, running total, chance and result.
_WALKER_VALUES = 8


@dataclass(frozen=True)
class Forest:
    """A trained forest.

    ``left``/``right`` are child node ids (-1 at leaves); ``dim``/``cut`` the node's cut;
    ``low``/``high`` its bounding box; ``span`` the sum of the box's ranges; ``mass`` the
    sample points under it; ``depth`` its depth (roots 0). ``sample_size`` is the points per
    tree and ``num_trees`` the number of roots.
    """

    left: np.ndarray
    right: np.ndarray
    dim: np.ndarray
    cut: np.ndarray
    low: np.ndarray
    high: np.ndarray
    span: np.ndarray
    mass: np.ndarray
    depth: np.ndarray
    num_trees: int
    sample_size: int

    @property
    def feature_dim(self) -> int:
        return self.low.shape[1]

    def score(self, points: np.ndarray) -> np.ndarray:
        """The anomaly score of each row of ``points`` (float64, one per row)."""
        points = np.ascontiguousarray(points, dtype=np.float32)
        chunk = max(1, _CHUNK_ELEMENTS // (self.num_trees * (2 * self.feature_dim + _WALKER_VALUES)))
        parts = [self._score_chunk(points[start : start + chunk]) for start in range(0, len(points), chunk)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _score_chunk(self, points: np.ndarray) -> np.ndarray:
        count = len(points)
        # One walker per (point, tree); every walker moves down one level per pass, so all
        # of a pass's walkers are at the same depth. The arrays hold the walkers still going.
        walker = np.arange(count * self.num_trees)
        node = np.tile(np.arange(self.num_trees), count)
        # The query beside its negation, to meet ``_bounds`` (see there).
        query = np.repeat(np.hstack([points, -points]), self.num_trees, axis=0)
        total = np.zeros(walker.size)
        # The chance that no node of the path so far has isolated the point.
        unseparated = np.ones(walker.size)
        result = np.empty(walker.size)
        depth = 0
        while walker.size:
            outside = self._outside(query, node)
            leaf = self.left[node] < 0
            if leaf.any():
                seen = outside[leaf] == 0
                leaf_term = self._leaf_score(seen, depth, self.mass[node[leaf]])
                result[walker[leaf]] = total[leaf] + unseparated[leaf] * leaf_term
                going = ~leaf
                walker, node, query, outside = walker[going], node[going], query[going], outside[going]
                total, unseparated = total[going], unseparated[going]
            separation = outside / (self.span[node] + outside)
            total += unseparated * separation / (depth + 1)
            unseparated *= 1 - separation
            goes_left = query[np.arange(node.size), self.dim[node]] <= self.cut[node]
            node = np.where(goes_left, self.left[node], self.right[node])
            depth += 1
        scale = np.log2(self.sample_size + 1)
        return result.reshape(count, self.num_trees).mean(axis=1) * scale

    def _outside(self, query: np.ndarray, node: np.ndarray) -> np.ndarray:
        """How far each query lies outside its node's box: the box's growth, summed over dimensions."""
        excess = self._bounds[node]
        np.subtract(query, excess, out=excess)
        np.maximum(excess, 0, out=excess)
        return np.einsum("ij->i", excess)

    @cached_property
    def _bounds(self) -> np.ndarray:
        """``[high, -low]`` per node: ``[q, -q] - [high, -low]`` is how far ``q`` lies above the
        box, then below it, in one gather and one subtraction."""
        return np.hstack([self.high, -self.low])

    def _leaf_score(self, seen: np.ndarray, depth: int, mass: np.ndarray) -> np.ndarray:
        """A leaf's term: a point already in the sample is damped by how common it is there."""
        unseen = 1 / (depth + 1)
        damp = 1 - mass / (2 * self.sample_size)
        return np.where(seen, damp / (depth + np.log2(mass + 1)), unseen)

    def save(self, path: Path) -> None:
        """Write the forest as one ``.npz`` file."""
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        np.savez_compressed(path, num_trees=self.num_trees, sample_size=self.sample_size, **arrays)

    @classmethod
    def load(cls, path: Path) -> Forest:
        """Read a forest written by :meth:`save`."""
        with np.load(path) as stored:
            arrays = {name: stored[name] for name in _ARRAYS}
            return cls(num_trees=int(stored["num_trees"]), sample_size=int(stored["sample_size"]), **arrays)


_ARRAYS = ("left", "right", "dim", "cut", "low", "high", "span", "mass", "depth")


def build(data: np.ndarray, num_trees: int, num_samples_per_tree: int, seed: int = 0) -> Forest:
    """A forest of ``num_trees`` trees over samples of the rows of ``data``."""
    data = np.ascontiguousarray(data, dtype=np.float32)
    rows, width = data.shape
    if rows == 0:
        raise ValueError("no training points")
    rng = np.random.default_rng(seed)
    size = min(num_samples_per_tree, rows)
    sample = np.concatenate([rng.choice(rows, size=size, replace=False) for _ in range(num_trees)])
    points = data[sample]
    builder = _Builder(num_trees, size, width)
    builder.grow(points, rng)
    return builder.forest()


class _Builder:
    """Grows all trees a level at a time; node arrays are sized for the worst case."""

    def __init__(self, num_trees: int, sample_size: int, width: int) -> None:
        capacity = num_trees * (2 * sample_size - 1)
        self.num_trees = num_trees
        self.sample_size = sample_size
        self.left = np.full(capacity, -1, dtype=np.int32)
        self.right = np.full(capacity, -1, dtype=np.int32)
        self.dim = np.zeros(capacity, dtype=np.int32)
        self.cut = np.zeros(capacity, dtype=np.float64)
        self.low = np.zeros((capacity, width), dtype=np.float32)
        self.high = np.zeros((capacity, width), dtype=np.float32)
        self.mass = np.zeros(capacity, dtype=np.int32)
        self.depth = np.zeros(capacity, dtype=np.int32)
        self.count = num_trees

    def grow(self, points: np.ndarray, rng: np.random.Generator) -> None:
        """Split every node holding distinct points until each leaf holds one distinct point."""
        owner = np.repeat(np.arange(self.num_trees, dtype=np.int64), self.sample_size)
        active = np.arange(len(points))
        while active.size:
            order = active[np.argsort(owner[active], kind="stable")]
            nodes, starts, mass = np.unique(owner[order], return_index=True, return_counts=True)
            members = points[order]
            low, high = np.minimum.reduceat(members, starts), np.maximum.reduceat(members, starts)
            self.low[nodes], self.high[nodes], self.mass[nodes] = low, high, mass
            ranges = high.astype(np.float64) - low
            span = ranges.sum(axis=1)
            splitting = span > 0
            nodes, low, ranges, span = nodes[splitting], low[splitting], ranges[splitting], span[splitting]
            dim = _pick_dimension(ranges, span, rng)
            at = np.arange(len(nodes))
            cut = low[at, dim] + rng.random(len(nodes)) * ranges[at, dim]
            self.dim[nodes], self.cut[nodes] = dim, cut
            active = order[np.repeat(splitting, mass)]
            self._split(points, owner, active, nodes)

    def _split(self, points: np.ndarray, owner: np.ndarray, active: np.ndarray, nodes: np.ndarray) -> None:
        """Send the active points to their nodes' children, creating the children.

        A cut can land on the range's top by rounding and separate nothing; such a node
        keeps its points and draws another cut on the next pass.
        """
        position = np.searchsorted(nodes, owner[active])
        goes_left = points[active, self.dim[owner[active]]] <= self.cut[owner[active]]
        left_count = np.bincount(position, weights=goes_left, minlength=len(nodes))
        total = np.bincount(position, minlength=len(nodes))
        separates = (left_count > 0) & (left_count < total)
        parents = nodes[separates]
        first = self.count + 2 * np.arange(len(parents), dtype=np.int32)
        self.left[parents], self.right[parents] = first, first + 1
        self.depth[first] = self.depth[first + 1] = self.depth[parents] + 1
        self.count += 2 * len(parents)
        moving = separates[position]
        child = np.where(goes_left, self.left[owner[active]], self.right[owner[active]])
        owner[active[moving]] = child[moving]

    def forest(self) -> Forest:
        used = slice(0, self.count)
        low, high = self.low[used], self.high[used]
        return Forest(
            left=self.left[used],
            right=self.right[used],
            dim=self.dim[used],
            cut=self.cut[used],
            low=low,
            high=high,
            span=(high - low).sum(axis=1, dtype=np.float64),
            mass=self.mass[used],
            depth=self.depth[used],
            num_trees=self.num_trees,
            sample_size=self.sample_size,
        )


def _pick_dimension(ranges: np.ndarray, span: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per node, a dimension drawn with probability proportional to its range."""
    target = rng.random(len(span)) * span
    dim = (np.cumsum(ranges, axis=1) <= target[:, None]).sum(axis=1)
    # Rounding can put the target at the very top; take the widest dimension then.
    overflow = dim >= ranges.shape[1]
    dim[overflow] = ranges[overflow].argmax(axis=1)
    return dim
