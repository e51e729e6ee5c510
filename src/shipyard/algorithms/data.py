"""Training data as SageMaker's built-in algorithms read it.

A channel is a directory of files in one content type (``inputdataconfig.json`` names it):

- ``text/csv``: no header, the label in the first column; ``text/csv;label_size=0`` for
  unlabelled data (K-Means, PCA, Random Cut Forest).
- ``text/libsvm`` (also ``text/x-libsvm``, ``libsvm``): ``label index:value ...`` lines.
- ``application/x-recordio-protobuf``: what the SageMaker SDK's ``record_set()`` writes.

Every file under the channel directory is read, in name order, except hidden files and
``.amazon.manifest`` files (the runner has already fetched what a manifest names).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shipyard.algorithms import recordio
from shipyard.algorithms.content_types import CSV, LIBSVM, RECORDIO, ContentType
from shipyard.algorithms.errors import AlgorithmError

Features = np.ndarray | sp.csr_matrix


@dataclass(frozen=True)
class Dataset:
    """Features (dense float32 rows, or CSR for sparse data) and their labels, if any."""

    features: Features
    labels: np.ndarray | None

    @property
    def rows(self) -> int:
        return self.features.shape[0]

    @property
    def width(self) -> int:
        return self.features.shape[1]

    def dense(self) -> np.ndarray:
        """The features as a dense array."""
        return self.features.toarray() if sp.issparse(self.features) else self.features

    def require_labels(self, channel: str) -> np.ndarray:
        """The labels; an AlgorithmError when the channel has none."""
        if self.labels is None:
            raise AlgorithmError(f"The {channel} channel has no labels; this algorithm needs a label per record")
        return self.labels

    def check_finite(self, channel: str) -> None:
        """An AlgorithmError when a feature value or a label is NaN or infinite."""
        values = self.features.data if sp.issparse(self.features) else self.features
        if not np.isfinite(values).all():
            raise AlgorithmError(f"The {channel} channel holds NaN or infinite feature values")
        if self.labels is not None and not np.isfinite(self.labels).all():
            raise AlgorithmError(f"The {channel} channel holds NaN or infinite labels")

    def check_width(self, channel: str, expected: int, name: str = "feature_dim") -> None:
        """An AlgorithmError unless every record has ``expected`` features."""
        if self.width != expected:
            raise AlgorithmError(
                f"The {channel} channel has {self.width} feature column(s) per record, but {name} is {expected}"
            )


def data_files(directory: Path) -> list[Path]:
    """The data files under a channel directory, in name order."""
    files = [
        path
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(".amazon.manifest")
    ]
    if not files:
        raise AlgorithmError(f"The channel directory {directory.name} holds no data files")
    return files


def read_channel(
    channel: str,
    directory: Path,
    content_type: ContentType,
    *,
    default_label_size: int = 1,
    allow_missing: bool = False,
) -> Dataset:
    """Read every file of a channel in ``content_type``.

    CSV and libsvm carry a label per row (CSV only where ``label_size`` is 1); RecordIO
    carries what each record has. Non-numeric values, rows of different widths and (unless
    ``allow_missing``) empty cells are AlgorithmErrors naming the file and line.
    """
    files = data_files(directory)
    if content_type.mime == CSV:
        return _read_csv(channel, files, content_type.label_size(default_label_size), allow_missing)
    if content_type.mime == LIBSVM:
        return _read_libsvm(channel, files)
    if content_type.mime == RECORDIO:
        return _read_recordio(channel, files)
    raise AlgorithmError(f"Content type {content_type.mime!r} cannot be read as a table of features")


def _read_csv(channel: str, files: list[Path], label_size: int, allow_missing: bool) -> Dataset:
    tables = [_read_csv_file(channel, path, allow_missing) for path in files]
    widths = {table.shape[1] for table in tables}
    if len(widths) > 1:
        raise AlgorithmError(f"The files of the {channel} channel have different column counts: {sorted(widths)}")
    table = tables[0] if len(tables) == 1 else np.concatenate(tables)
    if label_size and table.shape[1] < 2:
        raise AlgorithmError(f"The {channel} channel's CSV rows need a label column and at least one feature")
    if not label_size:
        return Dataset(table, None)
    return Dataset(np.ascontiguousarray(table[:, 1:]), np.ascontiguousarray(table[:, 0]))


def _read_csv_file(channel: str, path: Path, allow_missing: bool) -> np.ndarray:
    try:
        frame = pd.read_csv(path, header=None, dtype=np.float32, engine="c", skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise AlgorithmError(f"The {channel} file {path.name} is empty") from None
    except pd.errors.ParserError as error:
        raise AlgorithmError(f"The {channel} file {path.name} is not a valid CSV table: {error}") from None
    except ValueError:
        raise AlgorithmError(_first_non_numeric(channel, path)) from None
    table = frame.to_numpy(dtype=np.float32, copy=False)
    if not allow_missing and np.isnan(table).any():
        row, column = (int(index) for index in np.argwhere(np.isnan(table))[0])
        raise AlgorithmError(
            f"The {channel} file {path.name} has an empty or non-numeric value at line {row + 1}, column {column + 1}"
        )
    return table


def _first_non_numeric(channel: str, path: Path) -> str:
    with path.open(newline="") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            for column, cell in enumerate(row, start=1):
                try:
                    float(cell)
                except ValueError:
                    if cell.strip():
                        return (
                            f"The {channel} file {path.name} has a non-numeric value {cell[:40]!r} at line {line}, "
                            f"column {column} (CSV data has no header and only numbers)"
                        )
    return f"The {channel} file {path.name} is not a numeric CSV table"


def _read_libsvm(channel: str, files: list[Path]) -> Dataset:
    from sklearn.datasets import load_svmlight_files

    try:
        loaded = load_svmlight_files([str(path) for path in files], dtype=np.float32, zero_based=True)
    except ValueError as error:
        raise AlgorithmError(f"The {channel} channel is not valid libsvm data: {error}") from None
    matrices, labels = loaded[0::2], loaded[1::2]
    features = sp.vstack(matrices, format="csr") if len(matrices) > 1 else matrices[0].tocsr()
    return Dataset(features, np.concatenate(labels).astype(np.float32))


def _read_recordio(channel: str, files: list[Path]) -> Dataset:
    try:
        features, labels = recordio.read_dataset(io.BytesIO(path.read_bytes()) for path in files)
    except (recordio.RecordIOError, ValueError) as error:
        raise AlgorithmError(f"The {channel} channel is not valid RecordIO-protobuf data: {error}") from None
    return Dataset(features, labels)
