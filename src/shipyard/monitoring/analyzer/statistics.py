"""``statistics.json``: per-feature statistics of a dataset, in Model Monitor's schema.

Each value is typed as Model Monitor types it: ``Integral`` (``-12``), ``Fractional``
(``3.5``, ``1e-3``) or ``String``; a feature is ``String`` if any present value is,
``Fractional`` if any is fractional, ``Integral`` if all are integral, and ``Unknown``
when no value is present. Numeric features get count, mean, sum, standard deviation
(population), min, max and a KLL sketch with 10 buckets; string features get their
distinct values and counts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from shipyard.monitoring.analyzer.sketch import KllSketch

INTEGRAL, FRACTIONAL, STRING, UNKNOWN = "Integral", "Fractional", "String", "Unknown"
NUMERIC = (INTEGRAL, FRACTIONAL)

_INTEGRAL = re.compile(r"[+-]?\d+")
_FRACTIONAL = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
#: Most frequent string values listed in ``categorical.buckets``.
MAX_CATEGORIES = 1000
BUCKETS = 10


def value_type(text: str) -> str:
    """The type of one present value."""
    if _INTEGRAL.fullmatch(text):
        return INTEGRAL
    if _FRACTIONAL.fullmatch(text):
        return FRACTIONAL
    return STRING


def combined_type(counts: Counter[str]) -> str:
    """A feature's type from the counts of its values' types."""
    if not counts:
        return UNKNOWN
    if counts[STRING]:
        return STRING
    return FRACTIONAL if counts[FRACTIONAL] else INTEGRAL


def matches(kind: str, inferred: str) -> bool:
    """Whether a value of type ``kind`` conforms to a feature typed ``inferred``."""
    if inferred == FRACTIONAL:
        return kind in NUMERIC
    if inferred in (STRING, UNKNOWN):
        return True
    return kind == inferred


@dataclass
class FeatureProfile:
    """What the analyzer knows of one feature (column) of a dataset."""

    name: str
    present: list[str]
    num_missing: int
    type_counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, name: str, values: pd.Series) -> FeatureProfile:
        present = [value for value in values if value is not None]
        return cls(name, present, len(values) - len(present), Counter(value_type(value) for value in present))

    @property
    def inferred_type(self) -> str:
        return combined_type(self.type_counts)

    @property
    def num_present(self) -> int:
        return len(self.present)

    @property
    def completeness(self) -> float:
        total = self.num_present + self.num_missing
        return self.num_present / total if total else 0.0

    @cached_property
    def numbers(self) -> np.ndarray:
        """The present values that are numbers, as floats (finite ones only)."""
        numeric = [float(value) for value in self.present if value_type(value) in NUMERIC]
        array = np.asarray(numeric, dtype=float)
        return array[np.isfinite(array)]

    def categories(self) -> Counter[str]:
        return Counter(self.present)


def profiles(table: pd.DataFrame) -> list[FeatureProfile]:
    """A profile of each column of ``table``, in column order."""
    return [FeatureProfile.of(name, table[name]) for name in table.columns]


def statistics_document(table: pd.DataFrame, features: list[FeatureProfile]) -> dict:
    """``statistics.json`` for ``table`` (whose columns ``features`` profile)."""
    return {"version": 0.0, "dataset": {"item_count": len(table)}, "features": [feature_statistics(f) for f in features]}


def feature_statistics(feature: FeatureProfile, inferred: str | None = None) -> dict:
    """One entry of ``statistics.json``'s ``features``; ``inferred`` overrides the type
    (an execution reports a feature as its baseline typed it, where the values allow)."""
    kind = inferred or feature.inferred_type
    common = {"num_present": feature.num_present, "num_missing": feature.num_missing}
    entry: dict = {"name": feature.name, "inferred_type": kind}
    if kind in NUMERIC:
        numbers = feature.numbers
        sketch = KllSketch()
        sketch.update(numbers)
        stats: dict = {"common": common}
        if len(numbers):
            low, high = float(numbers.min()), float(numbers.max())
            stats.update(
                mean=float(numbers.mean()),
                sum=float(numbers.sum()),
                std_dev=float(numbers.std()),
                min=low,
                max=high,
            )
            stats["distribution"] = {"kll": {"buckets": sketch.buckets(low, high, BUCKETS), "sketch": sketch.to_json()}}
        entry["numerical_statistics"] = stats
    elif kind == STRING:
        counts = feature.categories()
        entry["string_statistics"] = {
            "common": common,
            "distinct_count": float(len(counts)),
            "distribution": {
                "categorical": {
                    "buckets": [{"value": value, "count": float(n)} for value, n in counts.most_common(MAX_CATEGORIES)]
                }
            },
        }
    else:
        entry["string_statistics"] = {"common": common, "distinct_count": 0.0}
    return entry


def baseline_sketch(entry: dict) -> KllSketch | None:
    """The KLL sketch of a ``statistics.json`` feature entry, if it has one."""
    sketch = (((entry.get("numerical_statistics") or {}).get("distribution") or {}).get("kll") or {}).get("sketch")
    return KllSketch.from_json(sketch) if sketch else None


def baseline_categories(entry: dict) -> Counter[str] | None:
    """The category counts of a ``statistics.json`` feature entry, if it has them."""
    buckets = (((entry.get("string_statistics") or {}).get("distribution") or {}).get("categorical") or {}).get("buckets")
    if buckets is None:
        return None
    return Counter({str(bucket["value"]): float(bucket["count"]) for bucket in buckets})
