"""SageMaker's common inference formats, decoded and encoded by the shared predictor base."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from shipyard.algorithms import recordio
from shipyard.algorithms.errors import (
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)
from shipyard.algorithms.inference import RowPredictor, negotiate
from shipyard.testing.algorithms import recordio_bytes


class SumPredictor(RowPredictor):
    """Scores each record with the sum of its features."""

    feature_dim = 3
    csv_keys = ("score", "predicted_label")

    def predict(self, features) -> list[dict]:
        dense = features.toarray() if sp.issparse(features) else features
        return [{"score": float(row.sum()), "predicted_label": int(row.sum() > 5)} for row in dense]


ROWS = np.array([[1, 2, 3], [0, 0.5, 0]], dtype=np.float32)
EXPECTED = [{"score": 6.0, "predicted_label": 1}, {"score": 0.5, "predicted_label": 0}]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"1,2,3\n0,0.5,0\n", "text/csv"),
        (b"1,2,3\n0,0.5,0", "text/csv; charset=utf-8"),
        (json.dumps({"instances": [{"features": [1, 2, 3]}, {"features": [0, 0.5, 0]}]}).encode(), "application/json"),
        (json.dumps({"instances": [{"data": {"features": {"values": [1, 2, 3]}}}, {"data": {"features": {"values": [0, 0.5, 0]}}}]}).encode(), "application/json"),
        (json.dumps({"instances": [{"features": {"keys": [0, 1, 2], "shape": [3], "values": [1, 2, 3]}}, {"features": {"keys": [1], "shape": [3], "values": [0.5]}}]}).encode(), "application/json"),
        (b'{"features": [1, 2, 3]}\n{"features": [0, 0.5, 0]}\n', "application/jsonlines"),
        (recordio_bytes(ROWS), "application/x-recordio-protobuf"),
    ],
    ids=["csv", "csv-charset", "json", "json-data", "json-sparse", "jsonlines", "recordio"],
)
def test_every_request_format_reads_the_same_records(body: bytes, content_type: str) -> None:
    response, response_type = SumPredictor().invoke(body, content_type, "application/json")
    assert response_type == "application/json"
    assert json.loads(response) == {"predictions": EXPECTED}


def test_response_formats() -> None:
    predictor = SumPredictor()
    body = b"1,2,3\n0,0.5,0\n"
    lines, kind = predictor.invoke(body, "text/csv", "application/jsonlines")
    assert kind == "application/jsonlines"
    assert [json.loads(line) for line in lines.decode().splitlines()] == EXPECTED
    csv, kind = predictor.invoke(body, "text/csv", "text/csv")
    assert (csv, kind) == (b"6.0,1\n0.5,0\n", "text/csv")
    records, kind = predictor.invoke(body, "text/csv", "application/x-recordio-protobuf")
    assert kind == "application/x-recordio-protobuf"
    decoded = recordio.decode_predictions(records)
    assert [row["score"] for row in decoded] == [[6.0], [0.5]]
    assert [row["predicted_label"] for row in decoded] == [[1.0], [0.0]]


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [(None, "application/json"), ("*/*", "application/json"), ("text/html, text/csv", "text/csv"), ("application/jsonlines;q=1", "application/jsonlines")],
)
def test_accept_negotiation(accept: str | None, chosen: str) -> None:
    assert negotiate(accept, ("application/json", "text/csv", "application/jsonlines"), "application/json") == chosen


def test_errors_carry_http_statuses() -> None:
    predictor = SumPredictor()
    with pytest.raises(UnsupportedContentType) as raised:
        predictor.invoke(b"x", "image/png", None)
    assert raised.value.status == 415
    with pytest.raises(UnsupportedAccept) as refused:
        predictor.invoke(b"1,2,3", "text/csv", "text/html")
    assert refused.value.status == 406
    for body, content_type, message in [
        (b"1,2\n", "text/csv", "must have 3 features"),
        (b"1,x,3\n", "text/csv", "only numbers"),
        (b"1,2,3\n1,2\n", "text/csv", "different column counts"),
        (b"{not json", "application/json", "Cannot read the application/json request"),
        (b"", "text/csv", "no records"),
    ]:
        with pytest.raises(BadRequest, match=message) as bad:
            predictor.invoke(body, content_type, None)
        assert bad.value.status == 400


@pytest.mark.parametrize(
    ("instance", "message"),
    [
        ({"features": {"keys": [3], "shape": [3], "values": [1.0]}}, "key outside 0..2"),
        ({"features": {"keys": [-1], "shape": [3], "values": [1.0]}}, "key outside 0..2"),
        ({"features": {"keys": [0, 1], "shape": [3], "values": [1.0]}}, "as many keys as values"),
    ],
)
def test_bad_sparse_instances_are_bad_requests(instance: dict, message: str) -> None:
    body = json.dumps({"instances": [instance]}).encode()
    with pytest.raises(BadRequest, match=message):
        SumPredictor().invoke(body, "application/json", None)
