"""The XGBoost algorithm's inference handler, answering as SageMaker's XGBoost 1.7 container.

Requests: ``text/csv`` (features only), ``text/libsvm``, ``application/x-recordio-protobuf``,
and JSON / JSON lines instances as the other built-in algorithms take them.

Responses by default: ``text/csv`` (the default) holds the predictions joined by commas for
an endpoint, one per line in batch transform (``SAGEMAKER_BATCH`` set), as SageMaker writes
them; ``application/json`` is the JSON list of predictions, ``application/jsonlines`` one per
line; a ``multi:softprob`` prediction is its list of class probabilities. With
``SAGEMAKER_INFERENCE_OUTPUT`` (e.g. ``predicted_label,probabilities``) each record holds the
selected keys: ``{"predictions": [{"predicted_label": 1, "probabilities": [0.2, 0.8]}]}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import xgboost

from shipyard.algorithms import recordio
from shipyard.algorithms.content_types import (
    CSV,
    JSON,
    JSONLINES,
    LIBSVM,
    RECORDIO,
    mime,
)
from shipyard.algorithms.data import Features
from shipyard.algorithms.errors import BadRequest
from shipyard.algorithms.inference import Row, RowPredictor
from shipyard.algorithms.xgboost.metrics import CLASSIFIERS, predicted_classes
from shipyard.algorithms.xgboost.train import MODEL_FILE

#: The keys ``SAGEMAKER_INFERENCE_OUTPUT`` may select, and the objectives that have them
#: (other objectives answer null for them).
SELECTABLE = {
    "predicted_label": CLASSIFIERS,
    "labels": CLASSIFIERS,
    "probability": ("binary:logistic", "multi:softprob"),
    "probabilities": ("binary:logistic", "multi:softprob"),
    "raw_score": CLASSIFIERS,
    "raw_scores": CLASSIFIERS,
    "predicted_score": ("reg:",),
}


def load(model_dir: Path, environment: Mapping[str, str] | None = None) -> XGBoostPredictor:
    """The predictor of ``xgboost-model`` in ``model_dir``.

    ``environment`` (the process's by default) holds the container's settings,
    ``SAGEMAKER_BATCH`` and ``SAGEMAKER_INFERENCE_OUTPUT``.
    """
    environment = os.environ if environment is None else environment
    booster = xgboost.Booster()
    booster.load_model(bytearray((Path(model_dir) / MODEL_FILE).read_bytes()))
    selected = environment.get("SAGEMAKER_INFERENCE_OUTPUT", "").replace(" ", "").lower()
    return XGBoostPredictor(
        booster,
        batch=bool(environment.get("SAGEMAKER_BATCH")),
        selected_keys=tuple(key for key in selected.split(",") if key),
    )


class XGBoostPredictor(RowPredictor):
    """A booster's predictions (up to its best iteration when training stopped early).

    Rows are ``{"score": prediction}``, or the selected keys when ``selected_keys`` is set.
    """

    content_types = (CSV, LIBSVM, RECORDIO, JSON, JSONLINES)
    accept_types = (CSV, JSON, JSONLINES, RECORDIO)
    default_accept = CSV

    def __init__(self, booster: xgboost.Booster, *, batch: bool = False, selected_keys: tuple[str, ...] = ()) -> None:
        unknown = [key for key in selected_keys if key not in SELECTABLE]
        if unknown:
            raise ValueError(f"SAGEMAKER_INFERENCE_OUTPUT has unknown key(s): {', '.join(unknown)}")
        learner = json.loads(booster.save_config())["learner"]
        self.booster = booster
        self.objective: str = learner["objective"]["name"]
        self.num_class = int(learner["learner_model_param"].get("num_class", "0"))
        self.width = booster.num_features()
        self.batch = batch
        self.selected_keys = selected_keys
        best = booster.attr("best_iteration")
        self._iterations = (0, int(best) + 1) if best is not None else (0, 0)

    def decode(self, body: bytes, content_type: str) -> Features:
        """The request's rows, with the model's feature count."""
        features = _decode_libsvm(body) if mime(content_type) == LIBSVM else super().decode(body, content_type)
        if sp.issparse(features) and 0 < features.shape[1] <= self.width:
            features = features.tocsr(copy=True)
            features.resize(features.shape[0], self.width)
        elif features.shape[0] and features.shape[1] != self.width:
            raise BadRequest(f"Each record must have {self.width} features; got {features.shape[1]}")
        return features

    def predict(self, features: Features) -> list[Row]:
        """One row per record."""
        predictions = self.booster.predict(
            xgboost.DMatrix(features), iteration_range=self._iterations, validate_features=False
        )
        if not self.selected_keys:
            return [{"score": value} for value in predictions.tolist()]
        classes = predicted_classes(self.objective, predictions).tolist() if self.objective.startswith(CLASSIFIERS) else None
        labels = list(range(self.num_class)) if self.objective.startswith("multi:") else [0, 1]
        return [self._select(value, classes[index] if classes else None, labels) for index, value in enumerate(predictions.tolist())]

    def _select(self, value: float | list[float], predicted: int | None, labels: list[int]) -> Row:
        scores = value if isinstance(value, list) else [1.0 - value, value]
        top = max(value) if isinstance(value, list) else value
        available = {
            "predicted_label": predicted,
            "labels": labels,
            "probability": top,
            "probabilities": scores,
            "raw_score": top,
            "raw_scores": scores,
            "predicted_score": value,
        }
        return {key: available[key] if self.objective.startswith(SELECTABLE[key]) else None for key in self.selected_keys}

    def encode(self, rows: list[Row], response_type: str) -> bytes:
        """``rows`` as SageMaker's container writes them in ``response_type``."""
        if self.selected_keys:
            return self._encode_selected(rows, response_type)
        values = [row["score"] for row in rows]
        if response_type == CSV:
            text = "".join(f"{value}\n" for value in values) if self.batch else ",".join(map(str, values))
            return text.encode()
        if response_type == JSON:
            return json.dumps(values).encode()
        if response_type == JSONLINES:
            return "".join(json.dumps(value) + "\n" for value in values).encode()
        return recordio.encode_predictions(rows)

    def _encode_selected(self, rows: list[Row], response_type: str) -> bytes:
        if response_type == CSV:
            lines = [",".join(_csv_cell(row[key]) for key in self.selected_keys) for row in rows]
            return ("\n".join(lines) + ("\n" if self.batch else "")).encode()
        if response_type == RECORDIO:
            return recordio.encode_predictions([{k: v for k, v in row.items() if v is not None} for row in rows])
        return super().encode(rows, response_type)


def _decode_libsvm(body: bytes) -> sp.csr_matrix:
    """``[label] index:value ...`` lines (the label, if any, is ignored) as CSR rows."""
    rows, columns, values = [], [], []
    try:
        lines = [line.split() for line in body.decode().splitlines() if line.strip()]
        for row, items in enumerate(lines):
            for position, item in enumerate(items):
                index, colon, value = item.partition(":")
                if not colon and position == 0:
                    continue
                if not colon or int(index) < 0:
                    raise ValueError(f"{item!r} is not index:value")
                rows.append(row)
                columns.append(int(index))
                values.append(float(value))
    except ValueError as error:
        raise BadRequest(f"Cannot read the text/libsvm request: {error}") from None
    shape = (len(lines), max(columns, default=-1) + 1)
    return sp.csr_matrix((np.asarray(values, dtype=np.float32), (rows, columns)), shape=shape)


def _csv_cell(value: Any) -> str:
    return f'"{value}"' if isinstance(value, list) else str(value)
