"""Training channels read as SageMaker's algorithms read them, and refused with clear reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from shipyard.algorithms.content_types import ContentType
from shipyard.algorithms.data import read_channel
from shipyard.algorithms.errors import AlgorithmError
from shipyard.testing.algorithms import csv_bytes, libsvm_bytes, recordio_bytes


def _channel(tmp_path: Path, files: dict[str, bytes]) -> Path:
    directory = tmp_path / "train"
    for name, body in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return directory


@pytest.mark.parametrize(
    ("text", "mime", "label_size"),
    [
        ("text/csv", "text/csv", 1),
        ("text/csv;label_size=0", "text/csv", 0),
        ("CSV", "text/csv", 1),
        ("text/x-libsvm", "text/libsvm", 1),
        ("application/x-recordio-protobuf", "application/x-recordio-protobuf", 1),
    ],
)
def test_content_types_are_canonical(text: str, mime: str, label_size: int) -> None:
    parsed = ContentType.parse(text)
    assert parsed.mime == mime
    assert parsed.label_size() == label_size


def test_bad_label_size_is_refused() -> None:
    with pytest.raises(AlgorithmError, match="label_size must be 0 or 1"):
        ContentType.parse("text/csv;label_size=2").label_size()


def test_csv_label_first_across_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    features, labels = rng.normal(size=(10, 3)).astype(np.float32), np.arange(10, dtype=np.float32)
    directory = _channel(
        tmp_path,
        {"a.csv": csv_bytes(features[:4], labels[:4]), "part/b.csv": csv_bytes(features[4:], labels[4:]), ".hidden": b"x"},
    )
    data = read_channel("train", directory, ContentType.parse("text/csv"))
    np.testing.assert_allclose(data.features, features, rtol=1e-6)
    np.testing.assert_array_equal(data.labels, labels)


def test_unlabelled_csv(tmp_path: Path) -> None:
    features = np.arange(12, dtype=np.float32).reshape(4, 3)
    data = read_channel("train", _channel(tmp_path, {"a.csv": csv_bytes(features)}), ContentType.parse("text/csv;label_size=0"))
    assert data.labels is None
    np.testing.assert_array_equal(data.features, features)


def test_default_label_size_comes_from_the_algorithm(tmp_path: Path) -> None:
    features = np.ones((2, 3), dtype=np.float32)
    data = read_channel("train", _channel(tmp_path, {"a.csv": csv_bytes(features)}), ContentType.parse("text/csv"), default_label_size=0)
    assert data.width == 3 and data.labels is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"1,2,3\n4,five,6\n", "non-numeric value 'five' at line 2, column 2"),
        (b"label,a,b\n1,2,3\n", "non-numeric value 'label' at line 1, column 1"),
        (b"1,2,3\n4,5,6,7\n", "not a valid CSV table"),
        (b"1,2,3\n4,,6\n", "empty or non-numeric value at line 2, column 2"),
        (b"", "is empty"),
    ],
)
def test_bad_csv_is_a_client_error_naming_the_place(tmp_path: Path, body: bytes, reason: str) -> None:
    with pytest.raises(AlgorithmError, match=reason.replace("(", r"\(")):
        read_channel("train", _channel(tmp_path, {"data.csv": body}), ContentType.parse("text/csv"))


def test_missing_values_pass_where_allowed(tmp_path: Path) -> None:
    data = read_channel("train", _channel(tmp_path, {"d.csv": b"1,2,3\n4,,6\n"}), ContentType.parse("text/csv"), allow_missing=True)
    assert np.isnan(data.features[1, 0])


def test_files_of_different_widths_are_refused(tmp_path: Path) -> None:
    directory = _channel(tmp_path, {"a.csv": b"1,2,3\n", "b.csv": b"1,2\n"})
    with pytest.raises(AlgorithmError, match="different column counts"):
        read_channel("train", directory, ContentType.parse("text/csv"))


def test_empty_channel_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "train"
    directory.mkdir()
    with pytest.raises(AlgorithmError, match="holds no data files"):
        read_channel("train", directory, ContentType.parse("text/csv"))


def test_libsvm(tmp_path: Path) -> None:
    features = np.array([[0, 1.5, 0], [2, 0, 3]], dtype=np.float32)
    labels = np.array([1, 0], dtype=np.float32)
    data = read_channel("train", _channel(tmp_path, {"a.libsvm": libsvm_bytes(features, labels)}), ContentType.parse("libsvm"))
    assert sp.issparse(data.features)
    np.testing.assert_array_equal(data.dense()[:, :3], features)
    np.testing.assert_array_equal(data.labels, labels)


def test_recordio_dense_and_sparse(tmp_path: Path) -> None:
    features = np.arange(6, dtype=np.float32).reshape(3, 2)
    labels = np.array([0, 1, 0], dtype=np.float32)
    dense = read_channel("train", _channel(tmp_path, {"d.rec": recordio_bytes(features, labels)}), ContentType.parse("application/x-recordio-protobuf"))
    np.testing.assert_array_equal(dense.features, features)
    np.testing.assert_array_equal(dense.labels, labels)
    matrix = sp.csr_matrix(np.array([[0, 1, 0, 0], [2, 0, 0, 3]], dtype=np.float32))
    sparse = read_channel("test", _channel(tmp_path / "s", {"s.rec": recordio_bytes(matrix)}), ContentType.parse("application/x-recordio-protobuf"))
    np.testing.assert_array_equal(sparse.dense(), matrix.toarray())
    assert sparse.labels is None


def test_garbage_recordio_is_a_client_error(tmp_path: Path) -> None:
    with pytest.raises(AlgorithmError, match="not valid RecordIO-protobuf"):
        read_channel("train", _channel(tmp_path, {"x.rec": b"not recordio at all"}), ContentType.parse("application/x-recordio-protobuf"))


def test_width_and_label_checks(tmp_path: Path) -> None:
    data = read_channel("train", _channel(tmp_path, {"a.csv": b"1,2,3\n"}), ContentType.parse("text/csv;label_size=0"))
    with pytest.raises(AlgorithmError, match="3 feature column.*feature_dim is 4"):
        data.check_width("train", 4)
    with pytest.raises(AlgorithmError, match="has no labels"):
        data.require_labels("train")


def test_finite_check_covers_features_and_labels(tmp_path: Path) -> None:
    good = read_channel("train", _channel(tmp_path / "g", {"a.csv": b"1,2,3\n"}), ContentType.parse("text/csv"))
    good.check_finite("train")
    features = read_channel("train", _channel(tmp_path / "f", {"a.csv": b"1,inf,3\n"}), ContentType.parse("text/csv"))
    with pytest.raises(AlgorithmError, match="NaN or infinite feature values"):
        features.check_finite("train")
    labels = read_channel("train", _channel(tmp_path / "l", {"a.csv": b"nan,2,3\n"}), ContentType.parse("text/csv"), allow_missing=True)
    with pytest.raises(AlgorithmError, match="NaN or infinite labels"):
        labels.check_finite("train")
