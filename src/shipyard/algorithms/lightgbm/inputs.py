"""The LightGBM job's data: the ``train`` and ``validation`` channels, or JumpStart's layout.

JumpStart's ``training`` channel, given as the ``train`` channel, holds::

    train/data.csv             label first, no header
    validation/data.csv        optional
    categorical_index.json     optional: {"cat_index_list": [CSV column indices]}

Without validation data, a seeded 20% of the training rows is held out for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shipyard.algorithms.container import TrainingContext
from shipyard.algorithms.data import Dataset, read_channel
from shipyard.algorithms.errors import AlgorithmError

CATEGORICAL_INDEX = "categorical_index.json"
HELD_OUT = 0.2


@dataclass(frozen=True)
class Inputs:
    """Training and validation rows, and which feature columns are categorical."""

    train: Dataset
    validation: Dataset
    categorical: list[int]


def read_inputs(ctx: TrainingContext) -> Inputs:
    """The job's data, checked: labelled rows of one width, valid categorical columns."""
    root = ctx.channels["train"].path
    jumpstart = (root / "train").is_dir()
    if jumpstart:
        train = _read(root / "train", ctx)
        categorical = _categorical(root / CATEGORICAL_INDEX, train.width)
    else:
        train = ctx.read("train", allow_missing=True)
        categorical = []
    validation = None
    if jumpstart and (root / "validation").is_dir():
        validation = _read(root / "validation", ctx)
    elif ctx.channel("validation") is not None:
        validation = ctx.read("validation", allow_missing=True)
    train = _labelled("train", train)
    if validation is None:
        train, validation = _hold_out(train, int(ctx.hyperparameters["seed"]))
    else:
        validation = _labelled("validation", validation)
        validation.check_width("validation", train.width, name="the training data's feature count")
    return Inputs(train, validation, categorical)


def _read(directory: Path, ctx: TrainingContext) -> Dataset:
    return read_channel(directory.name, directory, ctx.channels["train"].content_type, allow_missing=True)


def _labelled(name: str, data: Dataset) -> Dataset:
    labels = data.require_labels(name)
    if not np.isfinite(labels).all():
        raise AlgorithmError(f"The {name} data has a missing or non-finite label")
    return Dataset(data.dense(), labels)


def _hold_out(data: Dataset, seed: int) -> tuple[Dataset, Dataset]:
    if data.rows < 5:
        raise AlgorithmError("The training data needs at least 5 rows to hold 20% out for validation")
    order = np.random.default_rng(seed).permutation(data.rows)
    cut = round(data.rows * HELD_OUT)
    held, kept = np.sort(order[:cut]), np.sort(order[cut:])
    labels = data.require_labels("train")
    return Dataset(data.features[kept], labels[kept]), Dataset(data.features[held], labels[held])


def _categorical(path: Path, width: int) -> list[int]:
    """Feature indices of the categorical CSV columns (column 0 is the label)."""
    if not path.is_file():
        return []
    try:
        columns = json.loads(path.read_text())["cat_index_list"]
    except (ValueError, KeyError, TypeError):
        raise AlgorithmError(f'{CATEGORICAL_INDEX} must be {{"cat_index_list": [column indices]}}') from None
    if not isinstance(columns, list) or not all(isinstance(column, int) and 0 < column <= width for column in columns):
        raise AlgorithmError(
            f"{CATEGORICAL_INDEX} lists column indices from 1 to {width} (column 0 is the label): {columns!r}"
        )
    return sorted({column - 1 for column in columns})
