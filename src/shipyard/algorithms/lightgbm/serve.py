"""The LightGBM algorithm's inference handler, answering as JumpStart's tabular models do.

Requests are ``text/csv`` rows of features (JSON and JSON lines instances are read too).
``application/json`` (the default) answers ``{"probabilities": [[p0, p1, ...], ...]}`` for
classification and ``{"prediction": [...]}`` for regression; ``application/json;verbose``
adds ``"labels"`` and ``"predicted_label"`` to a classifier's answer.
``application/jsonlines`` holds one such object per record and ``text/csv`` the values of
one record per line.
"""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm
import numpy as np

from shipyard.algorithms.content_types import CSV, JSON, JSONLINES, mime
from shipyard.algorithms.errors import BadRequest
from shipyard.algorithms.inference import Row, RowPredictor, negotiate
from shipyard.algorithms.lightgbm.train import MODEL_FILE

CLASSIFIERS = ("binary", "multiclass", "multiclassova", "cross_entropy")


def load(model_dir: Path) -> LightGBMPredictor:
    """The predictor of ``model.txt`` in ``model_dir``."""
    return LightGBMPredictor(lightgbm.Booster(model_file=str(Path(model_dir) / MODEL_FILE)))


class LightGBMPredictor(RowPredictor):
    """A booster's class probabilities (classification) or values (regression)."""

    content_types = (CSV, JSON, JSONLINES)
    accept_types = (JSON, JSONLINES, CSV)
    default_accept = JSON

    def __init__(self, booster: lightgbm.Booster) -> None:
        self.booster = booster
        self.feature_dim = booster.num_feature()
        self.classifier = str(booster.params.get("objective", "")).split()[0] in CLASSIFIERS

    def invoke(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        """Decode, predict, encode; ``;verbose`` on a JSON accept type adds the labels."""
        response_type = negotiate(accept, self.accept_types, self.default_accept)
        features = self.decode(body, content_type)
        if features.shape[0] == 0:
            raise BadRequest("The request holds no records")
        if features.shape[1] != self.feature_dim:
            raise BadRequest(f"Each record must have {self.feature_dim} features; got {features.shape[1]}")
        rows = self.predict(features)
        return self._encode(rows, response_type, verbose=_verbose(accept, response_type)), response_type

    def predict(self, features: np.ndarray) -> list[Row]:
        """``{"probabilities": [...], "predicted_label": k}`` or ``{"prediction": value}`` per record."""
        predictions = self.booster.predict(features)
        if not self.classifier:
            return [{"prediction": value} for value in predictions.tolist()]
        if predictions.ndim == 1:
            predictions = np.column_stack([1.0 - predictions, predictions])
        labels = predictions.argmax(axis=1).tolist()
        return [
            {"probabilities": scores, "predicted_label": label}
            for scores, label in zip(predictions.tolist(), labels, strict=True)
        ]

    def _encode(self, rows: list[Row], response_type: str, *, verbose: bool) -> bytes:
        key = "probabilities" if self.classifier else "prediction"
        labels = list(range(len(rows[0]["probabilities"]))) if self.classifier else []
        if response_type == JSON:
            answer = {key: [row[key] for row in rows]}
            if self.classifier and verbose:
                answer.update(labels=labels, predicted_label=[row["predicted_label"] for row in rows])
            return json.dumps(answer).encode()
        if response_type == JSONLINES:
            return "".join(json.dumps(_record(row, key, labels, verbose)) + "\n" for row in rows).encode()
        return "".join(",".join(map(str, np.atleast_1d(row[key]).tolist())) + "\n" for row in rows).encode()


def _record(row: Row, key: str, labels: list[int], verbose: bool) -> Row:
    if key == "probabilities" and verbose:
        return {key: row[key], "labels": labels, "predicted_label": row["predicted_label"]}
    return {key: row[key]}


def _verbose(accept: str | None, response_type: str) -> bool:
    for item in (accept or "").split(","):
        head, *parameters = (part.strip().lower() for part in item.split(";"))
        if mime(head) == response_type:
            return "verbose" in parameters
    return False
