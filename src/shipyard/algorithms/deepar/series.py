"""DeepAR's time series records: ``{"start", "target", "cat", "dynamic_feat"}`` per JSON line.

Training channels are directories of JSON lines files (``.json``, optionally gzipped);
inference requests hold the same records. ``"NaN"`` (or ``null``) in ``target`` is a missing
value. :class:`Fields` settles which categorical and dynamic features the model uses
(``cardinality``, ``num_dynamic_feat``) and checks every record against that.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shipyard.algorithms.data import data_files
from shipyard.algorithms.errors import AlgorithmError

_GZIP_MAGIC = b"\x1f\x8b"
_IGNORE = ("ignore", "")


@dataclass(frozen=True)
class Series:
    """One time series: its first time stamp, values (NaN where missing) and features."""

    start: pd.Timestamp
    target: np.ndarray
    cat: tuple[int, ...] = ()
    dynamic_feat: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.target)

    @property
    def num_dynamic_feat(self) -> int:
        return 0 if self.dynamic_feat is None else self.dynamic_feat.shape[0]


def parse_record(record: Any) -> Series:
    """The series of one decoded JSON record; ValueError or TypeError saying what is wrong with it."""
    if not isinstance(record, dict):
        raise TypeError("a record must be a JSON object with start and target")
    for name in ("start", "target"):
        if name not in record:
            raise ValueError(f"the record has no {name!r} field")
    try:
        start = pd.Timestamp(str(record["start"]))
    except ValueError:
        raise ValueError(f"start {record['start']!r} is not a time stamp like 2024-01-01 00:00:00") from None
    if pd.isna(start):
        raise ValueError("start must be a time stamp")
    target = np.array([_target_value(value) for value in _list(record["target"], "target")], dtype=np.float32)
    cat = _categories(record.get("cat"))
    dynamic = record.get("dynamic_feat")
    dynamic_feat = None if dynamic is None else _dynamic_features(dynamic)
    return Series(start=start, target=target, cat=cat, dynamic_feat=dynamic_feat)


def parse_lines(text: str) -> Iterator[tuple[int, Series]]:
    """``(line number, series)`` for each non-blank JSON line; ValueError naming the line and problem."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, parse_record(json.loads(line))
        except (ValueError, TypeError) as error:
            reason = "it is not valid JSON" if isinstance(error, json.JSONDecodeError) else error
            raise ValueError(f"line {number}: {reason}") from None


def read_series(channel: str, directory: Path) -> list[Series]:
    """Every series in a channel's files (JSON lines, gzipped or not), in file order."""
    series = []
    for path in data_files(directory):
        if path.suffix == ".parquet":
            raise AlgorithmError(f"{path.name} in the {channel} channel is Parquet; give DeepAR JSON lines files")
        raw = path.read_bytes()
        try:
            text = (gzip.decompress(raw) if raw.startswith(_GZIP_MAGIC) else raw).decode("utf-8")
            series.extend(item for _, item in parse_lines(text))
        except (ValueError, OSError, EOFError) as error:
            raise AlgorithmError(f"Cannot read {path.name} in the {channel} channel: {error}") from None
    if not series:
        raise AlgorithmError(f"The {channel} channel holds no time series")
    return series


@dataclass(frozen=True)
class Fields:
    """The features a model uses: categories per ``cat`` value and the number of ``dynamic_feat``."""

    cardinality: tuple[int, ...] = ()
    num_dynamic_feat: int = 0

    @classmethod
    def resolve(cls, cardinality: str, num_dynamic_feat: str, series: Sequence[Series]) -> Fields:
        """The fields ``cardinality`` and ``num_dynamic_feat`` select for the training ``series``.

        ``auto`` infers them from the data, ``ignore`` (or an empty string) drops them, explicit
        values are checked against the data. Raises AlgorithmError naming the mismatch.
        """
        return cls(_resolve_cardinality(cardinality, series), _resolve_dynamic(num_dynamic_feat, series))

    def select(self, series: Series, *, extra_length: int = 0) -> Series:
        """``series`` with only the model's fields, checked; ValueError saying what does not fit.

        ``dynamic_feat`` must be ``extra_length`` values longer than ``target`` (the forecast
        horizon at inference, 0 in training).
        """
        cat: tuple[int, ...] = ()
        if self.cardinality:
            if len(series.cat) != len(self.cardinality):
                raise ValueError(f"the model uses {len(self.cardinality)} cat value(s); the record has {len(series.cat)}")
            for index, (value, count) in enumerate(zip(series.cat, self.cardinality, strict=True)):
                if value >= count:
                    raise ValueError(f"cat[{index}] is {value}, but cardinality allows 0 to {count - 1}")
            cat = series.cat
        dynamic = None
        if self.num_dynamic_feat:
            if series.num_dynamic_feat != self.num_dynamic_feat:
                raise ValueError(
                    f"the model uses {self.num_dynamic_feat} dynamic_feat series; the record has {series.num_dynamic_feat}"
                )
            expected = len(series) + extra_length
            if series.dynamic_feat.shape[1] != expected:
                raise ValueError(
                    f"each dynamic_feat must have {expected} values (the target's length"
                    f"{f' + prediction_length {extra_length}' if extra_length else ''}); "
                    f"got {series.dynamic_feat.shape[1]}"
                )
            dynamic = series.dynamic_feat
        return replace(series, cat=cat, dynamic_feat=dynamic)


def _resolve_cardinality(text: str, series: Sequence[Series]) -> tuple[int, ...]:
    value = str(text).strip()
    if value.lower() in _IGNORE:
        return ()
    counts = {len(item.cat) for item in series}
    if len(counts) > 1:
        raise AlgorithmError(f"Every time series must have the same number of cat values; found {sorted(counts)}")
    width = counts.pop()
    if value.lower() == "auto":
        return tuple(int(max(item.cat[index] for item in series)) + 1 for index in range(width))
    try:
        given = tuple(int(part) for part in value.strip("[]").split(",") if part.strip())
    except ValueError:
        given = ()
    if not given or min(given) < 1:
        raise AlgorithmError(
            f"Invalid value {text!r} for hyperparameter cardinality: must be auto, ignore or a list of positive integers"
        )
    if len(given) != width:
        raise AlgorithmError(f"cardinality has {len(given)} value(s), but the time series have {width} cat value(s)")
    for item in series:
        for index, (category, count) in enumerate(zip(item.cat, given, strict=True)):
            if category >= count:
                raise AlgorithmError(f"cat[{index}] value {category} is out of range for cardinality {count}")
    return given


def _resolve_dynamic(text: str, series: Sequence[Series]) -> int:
    value = str(text).strip()
    if value.lower() in _IGNORE:
        return 0
    counts = {item.num_dynamic_feat for item in series}
    if len(counts) > 1:
        raise AlgorithmError(f"Every time series must have the same number of dynamic_feat; found {sorted(counts)}")
    found = counts.pop()
    if value.lower() != "auto":
        try:
            given = int(value)
        except ValueError:
            given = -1
        if given < 0:
            raise AlgorithmError(
                f"Invalid value {text!r} for hyperparameter num_dynamic_feat: must be auto, ignore or an integer"
            )
        if given != found:
            raise AlgorithmError(f"num_dynamic_feat is {given}, but the time series have {found} dynamic_feat")
    for item in series:
        if found and item.dynamic_feat.shape[1] != len(item):
            raise AlgorithmError(
                f"A time series has dynamic_feat of {item.dynamic_feat.shape[1]} values for a target of {len(item)}; "
                "they must be as long as the target"
            )
    return found


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{name} must be a list")
    return value


def _target_value(value: Any) -> float:
    if value is None or (isinstance(value, str) and value.strip().lower() == "nan"):
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"target holds {value!r}; its values must be numbers or \"NaN\"")
    if not math.isfinite(value):
        raise ValueError(f"target holds {value!r}; its values must be finite (\"NaN\" marks a missing one)")
    return float(value)


def _categories(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    values = value if isinstance(value, list) else [value]
    for item in values:
        if isinstance(item, bool) or not isinstance(item, int | float) or item < 0 or not float(item).is_integer():
            raise ValueError(f"cat holds {item!r}; categories must be non-negative integers")
    return tuple(int(item) for item in values)


def _dynamic_features(value: Any) -> np.ndarray:
    rows = _list(value, "dynamic_feat")
    if not all(isinstance(row, list) for row in rows):
        raise ValueError("dynamic_feat must be a list of lists of numbers")
    lengths = {len(row) for row in rows}
    if len(lengths) > 1:
        raise ValueError(f"the dynamic_feat series have different lengths: {sorted(lengths)}")
    try:
        array = np.array(rows, dtype=np.float32).reshape(len(rows), -1)
    except (TypeError, ValueError):
        raise ValueError("dynamic_feat values must be numbers") from None
    if not np.isfinite(array).all():
        raise ValueError("dynamic_feat must not hold missing or infinite values")
    return array
