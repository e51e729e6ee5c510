"""Inference handlers of the built-in algorithms, with SageMaker's content types.

Each algorithm's ``serve.py`` has ``load(model_dir) -> Predictor``. A predictor answers
``invoke(body, content_type, accept)`` with ``(body, content_type)``, or raises an
:class:`~shipyard.algorithms.errors.InferenceError` carrying the HTTP status. Endpoints and
batch transform call :func:`load_predictor`.

:class:`RowPredictor` does the common part for algorithms over feature vectors. Requests
(SageMaker's "common data formats for inference"):

- ``text/csv``: one record per line, features only;
- ``application/json``: ``{"instances": [{"features": [...]}, ...]}``, also with
  ``{"data": {"features": {"values": [...]}}}`` or sparse ``{"keys", "shape", "values"}``;
- ``application/jsonlines``: one such instance per line;
- ``application/x-recordio-protobuf``: records as the SDK writes them.

Responses: ``{"predictions": [row, ...]}`` (JSON), one row per line (JSON lines), the
rows' values per line (CSV), or one record per row with the values in its label map
(RecordIO-protobuf).
"""

from __future__ import annotations

import importlib
import io
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from shipyard.algorithms import recordio
from shipyard.algorithms.content_types import ANY, CSV, JSON, JSONLINES, RECORDIO, mime
from shipyard.algorithms.data import Features
from shipyard.algorithms.errors import (
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)

Row = dict[str, Any]


class Predictor(Protocol):
    """A loaded model that answers inference requests."""

    def invoke(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        """The response body and its content type for one request."""
        ...


def load_predictor(module: str, model_dir: Path) -> Predictor:
    """The predictor of algorithm package ``module`` over an unpacked model directory."""
    serve = importlib.import_module(f"shipyard.algorithms.{module}.serve")
    return serve.load(Path(model_dir))


def negotiate(accept: str | None, supported: Sequence[str], default: str) -> str:
    """The response type: the first of ``accept``'s items that is supported.

    No ``Accept`` (or ``*/*``) gives ``default``.
    """
    if not accept:
        return default
    for item in accept.split(","):
        wanted = mime(item)
        if wanted in (ANY, ""):
            return default
        if wanted in supported:
            return wanted
    raise UnsupportedAccept(accept, tuple(supported))


class RowPredictor(ABC):
    """A predictor over feature vectors: decodes requests, encodes prediction rows.

    Subclasses set ``feature_dim`` (or None to accept any width), ``csv_keys`` (which
    row values a CSV response holds, in order) and implement :meth:`predict`.
    """

    content_types: tuple[str, ...] = (CSV, JSON, JSONLINES, RECORDIO)
    accept_types: tuple[str, ...] = (JSON, JSONLINES, CSV, RECORDIO)
    default_accept: str = JSON
    csv_keys: tuple[str, ...] = ("score",)
    #: The key of the JSON response's list.
    json_key: str = "predictions"
    feature_dim: int | None = None

    @abstractmethod
    def predict(self, features: Features) -> list[Row]:
        """One prediction row per feature row."""

    def invoke(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        """Decode, predict, encode."""
        response_type = negotiate(accept, self.accept_types, self.default_accept)
        features = self.decode(body, content_type)
        if features.shape[0] == 0:
            raise BadRequest("The request holds no records")
        if self.feature_dim is not None and features.shape[1] != self.feature_dim:
            raise BadRequest(f"Each record must have {self.feature_dim} features; got {features.shape[1]}")
        rows = self.predict(features)
        return self.encode(rows, response_type), response_type

    def decode(self, body: bytes, content_type: str) -> Features:
        """The request's feature rows."""
        kind = mime(content_type)
        if kind not in self.content_types:
            raise UnsupportedContentType(content_type, self.content_types)
        try:
            if kind == CSV:
                return decode_csv(body)
            if kind == JSON:
                return _stack(_instances(json.loads(body)), self.feature_dim)
            if kind == JSONLINES:
                return _stack([json.loads(line) for line in body.splitlines() if line.strip()], self.feature_dim)
            features, _ = recordio.read_dataset([io.BytesIO(body)])
            return features
        except (ValueError, KeyError, TypeError, recordio.RecordIOError) as error:
            raise BadRequest(f"Cannot read the {kind} request: {error}") from None

    def encode(self, rows: list[Row], response_type: str) -> bytes:
        """``rows`` in ``response_type``."""
        if response_type == JSON:
            return json.dumps({self.json_key: rows}).encode()
        if response_type == JSONLINES:
            return "".join(json.dumps(row) + "\n" for row in rows).encode()
        if response_type == CSV:
            return "".join(",".join(_csv_values(row, self.csv_keys)) + "\n" for row in rows).encode()
        return recordio.encode_predictions(rows)


def decode_csv(body: bytes) -> np.ndarray:
    """CSV feature rows (no label, no header) as a float32 array."""
    lines = [line for line in body.decode().splitlines() if line.strip()]
    if not lines:
        return np.zeros((0, 0), dtype=np.float32)
    rows = [line.split(",") for line in lines]
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise ValueError(f"the CSV rows have different column counts: {sorted(widths)}")
    try:
        return np.array(rows, dtype=np.float32)
    except ValueError:
        raise ValueError("the CSV rows must hold only numbers") from None


def _instances(document: Any) -> list[Any]:
    if isinstance(document, dict) and "instances" in document:
        return list(document["instances"])
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        return [document]
    raise ValueError('expected {"instances": [...]}')


def _stack(instances: list[Any], width: int | None) -> Features:
    """Instances in any of SageMaker's JSON shapes, as one dense or sparse matrix."""
    vectors = [_vector(instance) for instance in instances]
    if not vectors:
        return np.zeros((0, width or 0), dtype=np.float32)
    if all(isinstance(vector, np.ndarray) for vector in vectors):
        lengths = {len(vector) for vector in vectors}
        if len(lengths) > 1:
            raise ValueError(f"the instances have different feature counts: {sorted(lengths)}")
        return np.vstack(vectors).astype(np.float32)
    columns = width or max(_width(vector) for vector in vectors)
    matrix = sp.lil_matrix((len(vectors), columns), dtype=np.float32)
    for index, vector in enumerate(vectors):
        if isinstance(vector, np.ndarray):
            if len(vector) > columns:
                raise ValueError(f"an instance has {len(vector)} features; at most {columns} are expected")
            matrix[index, : len(vector)] = vector
            continue
        keys, values = vector
        if len(keys) != len(values):
            raise ValueError("a sparse instance needs as many keys as values")
        if any(key < 0 or key >= columns for key in keys):
            raise ValueError(f"a sparse instance has a key outside 0..{columns - 1}")
        matrix[index, keys] = values
    return matrix.tocsr()


def _vector(instance: Any) -> np.ndarray | tuple[list[int], list[float]]:
    if isinstance(instance, list):
        return np.asarray(instance, dtype=np.float32)
    if not isinstance(instance, dict):
        raise TypeError("each instance must be an object or a list of numbers")
    if "data" in instance:
        instance = instance["data"]
    features = instance["features"]
    if isinstance(features, dict):
        if features.get("keys"):
            return [int(key) for key in features["keys"]], [float(value) for value in features["values"]]
        features = features["values"]
    return np.asarray(features, dtype=np.float32)


def _width(vector: np.ndarray | tuple[list[int], list[float]]) -> int:
    if isinstance(vector, np.ndarray):
        return len(vector)
    return max(vector[0], default=-1) + 1


def _csv_values(row: Row, keys: Sequence[str]) -> list[str]:
    values: list[str] = []
    for key in keys:
        value = row[key]
        values.extend(str(item) for item in (value if isinstance(value, list) else [value]))
    return values
