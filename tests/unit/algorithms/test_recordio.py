"""RecordIO-protobuf: byte-exact against the SageMaker SDK's writers, read by its reader, and the
framing and protobuf corner cases (multi-part records, unknown fields, malformed streams)."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sagemaker.amazon import common as sdk
from sagemaker.amazon.record_pb2 import Record as PbRecord

from shipyard.algorithms.recordio import (
    Record,
    RecordIOError,
    Tensor,
    decode_predictions,
    decode_record,
    encode_predictions,
    encode_record,
    read_dataset,
    read_records,
    write_dense,
    write_record,
    write_sparse,
)
from shipyard.algorithms.recordio import _uniform_block as uniform_block

MAGIC = struct.pack("<I", 0xCED7230A)
RNG = np.random.default_rng(7)
FEATURES = RNG.normal(size=(25, 6)).astype(np.float32)
CLASSES = RNG.integers(0, 3, size=25)
SPARSE = sp.random(25, 40, density=0.15, random_state=3, format="csr", dtype=np.float32)


def written(writer: Callable[..., None], *args: Any) -> bytes:
    out = io.BytesIO()
    writer(out, *args)
    return out.getvalue()


def sdk_parse(data: bytes) -> list[Any]:
    return sdk.read_records(io.BytesIO(data))


def frame(payload: bytes, cflag: int = 0, length: int | None = None) -> bytes:
    """One RecordIO part written by hand (padding included)."""
    size = len(payload) if length is None else length
    return MAGIC + struct.pack("<I", cflag << 29 | size) + payload + bytes(-len(payload) % 4)


def mxnet_parts(payload: bytes) -> bytes:
    """``payload`` framed as MXNet's RecordIOWriter does: split where the magic word sits at a
    4-byte-aligned offset (the word dropped), the parts flagged first / middle / last."""
    out, start = b"", 0
    for offset in range(0, len(payload) // 4 * 4, 4):
        if payload[offset : offset + 4] == MAGIC:
            out += frame(payload[start:offset], 1 if start == 0 else 2)
            start = offset + 4
    return out + frame(payload[start:], 3 if start else 0)


def part_count(data: bytes) -> int:
    """How many RecordIO parts ``data`` holds, walking their headers."""
    count = position = 0
    while position < len(data):
        length = struct.unpack_from("<I", data, position + 4)[0] & (2**29 - 1)
        position += 8 + (length + 3) // 4 * 4
        count += 1
    return count


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def field(number: int, wire: int, content: bytes) -> bytes:
    """A protobuf field; a length-delimited one gets its length prefix here."""
    prefix = varint(len(content)) if wire == 2 else b""
    return varint(number << 3 | wire) + prefix + content


# Unknown fields of every wire type, with numbers no message here uses.
UNKNOWN = (
    field(10, 0, varint(300))
    + field(11, 1, struct.pack("<d", 1.5))
    + field(12, 2, b"\x0a\x03abc")
    + field(13, 5, struct.pack("<f", 2.5))
)


# --- byte-exact against the SDK's writers -------------------------------------------------------


@pytest.mark.parametrize(
    ("features", "labels"),
    [
        (FEATURES, None),
        (FEATURES, CLASSES.astype(np.float32)),
        (FEATURES.astype(np.float64), CLASSES.astype(np.float64)),
        (RNG.integers(-1000, 1000, size=(25, 6)), CLASSES),  # int64 -> Int32Tensor, negatives 10 bytes
        (FEATURES, CLASSES),  # float32 features, int32-tensor labels
        (np.zeros((4, 0), np.float32), None),
        (np.zeros((0, 6), np.float32), None),
    ],
    ids=["float32", "float32-labels", "float64", "int64", "int-labels", "no-columns", "no-rows"],
)
def test_write_dense_is_byte_identical_to_the_sdk(features: np.ndarray, labels: np.ndarray | None) -> None:
    assert written(write_dense, features, labels) == written(sdk.write_numpy_to_dense_tensor, features, labels)


def test_write_dense_matches_the_magic_word_where_the_sdk_does_not_split() -> None:
    magic_float = np.frombuffer(MAGIC, np.float32)[0]
    features = np.array([[magic_float, 1.0, magic_float]], np.float32)
    data = written(write_dense, features)
    assert data == written(sdk.write_numpy_to_dense_tensor, features)
    assert np.array_equal(read_dataset([data])[0], features)


@pytest.mark.parametrize(
    ("matrix", "labels"),
    [
        (SPARSE, None),
        (SPARSE, CLASSES.astype(np.float32)),
        (SPARSE.astype(np.float64), CLASSES),
        (sp.csr_matrix(RNG.integers(-300, 300, size=(6, 500)) * (RNG.random((6, 500)) < 0.05)), None),
        (sp.coo_matrix(np.array([[0, 0, 0], [0, 2.5, 0], [0, 0, 0]], np.float32)), np.arange(3.0)),
    ],
    ids=["float32", "float32-labels", "float64-int-labels", "int64", "coo-empty-rows"],
)
def test_write_sparse_is_byte_identical_to_the_sdk(matrix: Any, labels: np.ndarray | None) -> None:
    assert written(write_sparse, matrix, labels) == written(sdk.write_spmatrix_to_sparse_tensor, matrix, labels)


def test_write_sparse_keeps_explicit_zeros_and_stored_order_like_the_sdk() -> None:
    matrix = sp.csr_matrix(
        (np.array([3.0, 0.0, 1.0], np.float32), np.array([5, 2, 0]), np.array([0, 3])), shape=(1, 8)
    )
    data = written(write_sparse, matrix)
    assert data == written(sdk.write_spmatrix_to_sparse_tensor, matrix)
    tensor = decode_record(next(read_records(data))).features["values"]
    assert tensor.values.tolist() == [3.0, 0.0, 1.0]
    assert tensor.keys is not None and tensor.keys.tolist() == [5, 2, 0]
    assert tensor.shape == (8,)


# --- the SDK reads what we write ----------------------------------------------------------------


def test_the_sdk_parses_every_tensor_type_we_encode() -> None:
    record = Record(
        features={
            "values": Tensor(np.array([1.5, -2.0], np.float32), np.array([3, 2**40], np.uint64), (2**41,)),
            "wide": Tensor(np.array([1e300, -0.5])),
            "ints": Tensor(np.array([-(2**31), 0, 2**31 - 1], np.int32), None, (3,)),
            "": Tensor(np.empty(0, np.float32)),
        },
        label={"values": Tensor(np.array([7.0], np.float32))},
    )
    data = written(write_record, encode_record(record))
    (parsed,) = sdk_parse(data)
    values = parsed.features["values"].float32_tensor
    assert list(values.values) == [1.5, -2.0] and list(values.keys) == [3, 2**40] and list(values.shape) == [2**41]
    assert list(parsed.features["wide"].float64_tensor.values) == [1e300, -0.5]
    assert list(parsed.features["ints"].int32_tensor.values) == [-(2**31), 0, 2**31 - 1]
    assert parsed.features[""].WhichOneof("value") == "float32_tensor"
    assert list(parsed.label["values"].float32_tensor.values) == [7.0]


def test_the_sdk_reads_our_predictions() -> None:
    rows = [{"score": 0.25, "predicted_label": 1}, {"score": 0.75, "predicted_label": 0, "projection": [1.0, 2.0]}]
    parsed = sdk_parse(encode_predictions(rows))
    assert len(parsed) == 2
    assert not parsed[0].features
    assert list(parsed[0].label["score"].float32_tensor.values) == [0.25]
    assert list(parsed[0].label["predicted_label"].float32_tensor.values) == [1.0]
    assert list(parsed[1].label["projection"].float32_tensor.values) == [1.0, 2.0]


def test_predictions_round_trip_as_float32_lists() -> None:
    rows = [{"score": 0.3, "predicted_label": 1}, {"closest_cluster": 2.0, "distance_to_cluster": [0.5]}]
    assert decode_predictions(encode_predictions(rows)) == [
        {"score": [float(np.float32(0.3))], "predicted_label": [1.0]},
        {"closest_cluster": [2.0], "distance_to_cluster": [0.5]},
    ]
    assert decode_predictions(b"") == []


# --- decoding what the SDK writes ---------------------------------------------------------------


def test_decode_record_reads_every_tensor_type_and_skips_the_string_fields() -> None:
    message = PbRecord()
    message.features["values"].float32_tensor.values.extend([1.0, 2.0])
    message.features["values"].float32_tensor.keys.extend([4, 9])
    message.features["values"].float32_tensor.shape.extend([10])
    message.features["f64"].float64_tensor.values.extend([0.1])
    message.features["ints"].int32_tensor.values.extend([-5, 2**31 - 1])
    message.label["values"].float32_tensor.values.extend([3.0])
    message.uid, message.metadata, message.configuration = "id-1", "{}", "conf"
    record = decode_record(message.SerializeToString())
    assert sorted(record.features) == ["f64", "ints", "values"] and list(record.label) == ["values"]
    values = record.features["values"]
    assert values.values.dtype == np.float32 and values.values.tolist() == [1.0, 2.0]
    assert values.values.flags.writeable
    assert values.keys is not None and values.keys.dtype == np.uint64 and values.keys.tolist() == [4, 9]
    assert values.shape == (10,)
    assert record.features["f64"].values.dtype == np.float64 and record.features["f64"].values.tolist() == [0.1]
    ints = record.features["ints"]
    assert ints.values.dtype == np.int32 and ints.values.tolist() == [-5, 2**31 - 1]
    assert ints.keys is None and ints.shape is None
    assert record.label["values"].values.tolist() == [3.0]


def test_encode_record_round_trips_through_decode_record() -> None:
    keys = np.arange(0, 3000, 7, dtype=np.uint64)  # enough keys for the vectorized varint codecs
    record = Record(
        features={"values": Tensor(RNG.normal(size=keys.size).astype(np.float32), keys, (3000,))},
        label={"values": Tensor(RNG.integers(-(2**31), 2**31, size=40).astype(np.int32))},
    )
    decoded = decode_record(encode_record(record))
    assert np.array_equal(decoded.features["values"].values, record.features["values"].values)
    assert np.array_equal(decoded.features["values"].keys, keys)
    assert decoded.features["values"].shape == (3000,)
    assert np.array_equal(decoded.label["values"].values, record.label["values"].values)


@pytest.mark.parametrize("in_entry", [False, True], ids=["record-value-tensor", "and-map-entry"])
def test_unknown_fields_of_every_wire_type_are_skipped_at_every_level(in_entry: bool) -> None:
    tensor = field(1, 2, struct.pack("<2f", 1.0, 2.0)) + UNKNOWN + field(3, 2, varint(2))
    value = UNKNOWN + field(2, 2, tensor) + UNKNOWN
    entry = field(1, 2, b"values") + (UNKNOWN if in_entry else b"") + field(2, 2, value)
    payload = UNKNOWN + field(1, 2, entry) + field(3, 2, b"uid") + UNKNOWN
    record = decode_record(payload)
    assert list(record.features) == ["values"] and not record.label
    assert record.features["values"].values.tolist() == [1.0, 2.0]
    assert record.features["values"].shape == (2,)
    (parsed,) = sdk_parse(frame(payload))
    # The SDK's protobuf (upb) agrees, except that it moves a map entry holding unknown fields
    # out of the map (into the record's unknown fields); we keep the entry.
    expected = [] if in_entry else [1.0, 2.0]
    assert list(parsed.features["values"].float32_tensor.values) == expected


def test_unpacked_and_repeated_packed_fields_merge_as_protobuf_does() -> None:
    tensor = (
        field(1, 5, struct.pack("<f", 1.0))  # unpacked element
        + field(1, 2, struct.pack("<2f", 2.0, 3.0))  # packed run
        + field(2, 0, varint(5))
        + field(2, 2, varint(6) + varint(700))
        + field(3, 0, varint(800))
    )
    # A Value whose tensor comes in two pieces merges them; the map entry's last value wins.
    value = field(2, 2, tensor) + field(2, 2, field(1, 2, struct.pack("<f", 4.0)) + field(2, 0, varint(9)))
    payload = field(1, 2, field(1, 2, b"values") + field(2, 2, value))
    tensor_out = decode_record(payload).features["values"]
    assert tensor_out.values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert tensor_out.keys is not None and tensor_out.keys.tolist() == [5, 6, 700, 9]
    assert tensor_out.shape == (800,)
    parsed = sdk_parse(frame(payload))[0].features["values"].float32_tensor
    assert list(parsed.values) == [1.0, 2.0, 3.0, 4.0] and list(parsed.keys) == [5, 6, 700, 9]


def test_a_oneof_member_replaces_the_previous_one_and_an_empty_value_is_an_empty_tensor() -> None:
    value = field(2, 2, field(1, 2, struct.pack("<f", 1.0))) + field(3, 2, field(1, 2, struct.pack("<d", 2.0)))
    payload = field(1, 2, field(1, 2, b"values") + field(2, 2, value)) + field(2, 2, field(1, 2, b"empty"))
    record = decode_record(payload)
    assert record.features["values"].values.dtype == np.float64
    assert record.features["values"].values.tolist() == [2.0]
    assert record.label["empty"].values.size == 0 and record.label["empty"].keys is None


def packed_keys(content: bytes) -> bytes:
    """A record whose features["values"] tensor has ``content`` as its packed keys."""
    return field(1, 2, field(1, 2, b"values") + field(2, 2, field(2, 2, field(2, 2, content))))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (field(1, 2, field(2, 2, field(9, 2, field(1, 2, b"jpeg")))), "Bytes values"),
        (b"\x0a", "varint"),  # a tag whose length is missing
        (b"\x0a\x05ab", "past the end"),
        (b"\x0b", "wire type 3"),  # a group start
        (b"\x00\x01", "field 0"),
        (b"\xff" * 11, "varint"),
        (field(1, 2, field(1, 2, b"\xff") + field(2, 2, b"")), "UTF-8"),
        (field(1, 2, field(2, 2, field(2, 2, field(1, 2, b"abc")))), "multiple of 4"),
        (packed_keys(b"\x01\x80"), "the last one is truncated"),
        (packed_keys(b"\x80" * 10 + b"\x01"), "longer than 10 bytes"),
        (packed_keys(b"\x01" * 200 + b"\x80"), "the last one is truncated"),  # many: decoded by numpy
        (packed_keys(b"\x01" * 200 + b"\x80" * 10 + b"\x01"), "longer than 10 bytes"),
    ],
    ids=["bytes-value", "missing-length", "overrun", "group", "field-zero", "long-varint", "bad-key",
         "float-length", "truncated-keys", "long-key", "truncated-many-keys", "long-key-of-many"],
)
def test_malformed_messages_raise_record_io_error(payload: bytes, message: str) -> None:
    with pytest.raises(RecordIOError, match=message):
        decode_record(payload)


def test_tensors_of_other_dtypes_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="int64"):
        encode_record(Record(features={"values": Tensor(np.array([1, 2], np.int64))}))


# --- framing ------------------------------------------------------------------------------------


def test_read_records_accepts_bytes_and_streams_and_strips_padding() -> None:
    payloads = [b"", b"a", b"abcd", b"abcde" * 3]
    out = io.BytesIO()
    for payload in payloads:
        write_record(out, payload)
    data = out.getvalue()
    assert data[:8] == MAGIC + b"\x00\x00\x00\x00" and len(data) == 8 * 4 + 0 + 4 + 4 + 16
    assert list(read_records(data)) == payloads
    assert list(read_records(io.BytesIO(data))) == payloads
    assert [record for record in sdk.read_recordio(io.BytesIO(data))] == payloads


class Trickle(io.RawIOBase):
    """A stream that answers every read with at most 3 bytes, as a socket may."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk, self.data = self.data[: min(size, 3)], self.data[min(size, 3) :]
        return chunk


def test_read_records_reassembles_short_reads() -> None:
    data = written(write_dense, FEATURES[:3])
    assert list(read_records(Trickle(data))) == list(read_records(data))


@pytest.mark.parametrize(
    ("payload", "parts"),
    [
        (b"abcd" + MAGIC + b"efgh", 2),
        (MAGIC + b"xy", 2),  # an empty first part
        (b"ab\x00\x00" + MAGIC + b"cdef" + MAGIC + b"gh", 3),  # first, middle, last
        (b"abcd" + MAGIC, 2),  # an empty last part
        (b"a" + MAGIC + b"bcd", 1),  # not aligned: MXNet writes it whole
    ],
)
def test_multi_part_records_are_joined_with_the_magic_word(payload: bytes, parts: int) -> None:
    data = mxnet_parts(payload) + frame(b"next")
    assert part_count(data) == parts + 1
    assert list(read_records(data)) == [payload, b"next"]


def test_a_multi_part_record_decodes_as_a_record() -> None:
    magic_float = np.frombuffer(MAGIC, np.float32)[0]
    features = np.array([[1.0, magic_float, 2.0, magic_float]], np.float32)
    payload = next(read_records(written(write_dense, features, np.array([1.0], np.float32))))
    data = mxnet_parts(payload)
    assert part_count(data) == 3  # really split
    read, labels = read_dataset([data])
    assert np.array_equal(read, features) and labels is not None and labels.tolist() == [1.0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x0b\xd7\xce\x00" + b"\x00" * 4, "bad RecordIO magic 0x00ced70b at byte 0"),
        (frame(b"abcd") + b"\x0a\xd7\xce\x0f" + b"\x00" * 4, "bad RecordIO magic 0x0fced70a at byte 12"),
        (MAGIC + b"\x04\x00", "truncated inside the record header at byte 0"),
        (frame(b"ab") + MAGIC, "truncated inside the record header at byte 12"),
        (MAGIC + struct.pack("<I", 8) + b"abcd", "byte 0 is truncated: 8 bytes announced, 4 present"),
        (MAGIC + struct.pack("<I", 3) + b"abc", "truncated"),  # the padding is missing
        (frame(b"ab", 4), "continuation flag 4"),
        (frame(b"ab", 2), "no first part"),
        (frame(b"ab", 3), "no first part"),
        (frame(b"abcd", 1) + frame(b"efgh"), "before the multi-part record ended"),
        (frame(b"abcd", 1) + frame(b"efgh", 1), "before the multi-part record ended"),
        (frame(b"abcd", 1) + frame(b"efgh", 2), "ends inside a multi-part record"),
    ],
)
def test_malformed_streams_raise_record_io_error(data: bytes, message: str) -> None:
    with pytest.raises(RecordIOError, match=message):
        list(read_records(data))


def test_record_io_error_is_a_value_error() -> None:
    assert issubclass(RecordIOError, ValueError)


# --- datasets -----------------------------------------------------------------------------------


def test_read_dataset_reads_dense_sdk_data_from_several_sources() -> None:
    first = written(sdk.write_numpy_to_dense_tensor, FEATURES[:10], CLASSES[:10].astype(np.float32))
    second = written(sdk.write_numpy_to_dense_tensor, FEATURES[10:], CLASSES[10:].astype(np.float32))
    features, labels = read_dataset([first, io.BytesIO(second), b""])
    assert features.dtype == np.float32 and np.array_equal(features, FEATURES)
    assert labels is not None and labels.dtype == np.float32 and np.array_equal(labels, CLASSES)


def test_read_dataset_converts_float64_and_int_records_to_float32() -> None:
    ints = RNG.integers(-50, 50, size=(8, 3))
    features, labels = read_dataset(
        [written(sdk.write_numpy_to_dense_tensor, ints, CLASSES[:8]),
         written(sdk.write_numpy_to_dense_tensor, ints.astype(np.float64), CLASSES[:8].astype(np.float64))]
    )
    assert features.dtype == np.float32 and np.array_equal(features, np.vstack([ints, ints]))
    assert labels is not None and labels.dtype == np.float32 and labels.tolist() == CLASSES[:8].tolist() * 2


def test_read_dataset_without_labels_gives_none() -> None:
    features, labels = read_dataset([written(write_dense, FEATURES)])
    assert labels is None and np.array_equal(features, FEATURES)


def test_read_dataset_of_nothing_is_empty() -> None:
    features, labels = read_dataset([])
    assert isinstance(features, np.ndarray) and features.shape == (0, 0) and labels is None


def test_read_dataset_reads_sparse_sdk_data_as_csr() -> None:
    matrix = SPARSE.tolil()
    matrix[4, :] = 0  # an empty row: only its shape is written
    matrix = matrix.tocsr()
    matrix.eliminate_zeros()
    data = written(sdk.write_spmatrix_to_sparse_tensor, matrix, CLASSES.astype(np.float32))
    features, labels = read_dataset([data])
    assert sp.issparse(features) and features.format == "csr" and features.dtype == np.float32
    assert features.shape == (25, 40) and (features != matrix).nnz == 0
    assert labels is not None and np.array_equal(labels, CLASSES)


def test_read_dataset_sums_duplicate_sparse_keys_into_a_canonical_matrix() -> None:
    record = Record(features={"values": Tensor(np.array([1.0, 2.0, 4.0], np.float32), np.array([3, 1, 3], np.uint64), (5,))})
    features, _ = read_dataset([written(write_record, encode_record(record))])
    assert features.has_canonical_format and features.toarray().tolist() == [[0.0, 2.0, 0.0, 5.0, 0.0]]


def test_the_vectorized_path_and_the_record_loop_agree() -> None:
    data = written(write_dense, FEATURES, CLASSES.astype(np.float32))
    payloads = list(read_records(data))
    # The same records, one of them carrying an unknown field: no longer uniform, read one by one.
    irregular = b"".join(frame(payload + (UNKNOWN if index == 3 else b"")) for index, payload in enumerate(payloads))
    assert uniform_block(data) is not None and uniform_block(irregular) is None
    fast, slow = read_dataset([data]), read_dataset([irregular])
    assert np.array_equal(fast[0], FEATURES) and np.array_equal(slow[0], FEATURES)
    assert fast[1] is not None and slow[1] is not None and np.array_equal(fast[1], slow[1])


def test_records_of_equal_length_but_another_layout_are_not_read_as_uniform() -> None:
    good = written(write_dense, FEATURES[:2])
    renamed = next(read_records(written(write_dense, FEATURES[2:3]))).replace(b"values", b"valuez")
    assert uniform_block(good) is not None and uniform_block(good + frame(renamed)) is None
    with pytest.raises(RecordIOError, match="record 2 has no features\\['values'\\]"):
        read_dataset([good + frame(renamed)])


def test_a_large_dense_dataset_reads_back_exactly() -> None:
    features = RNG.normal(size=(100_000, 10)).astype(np.float32)
    labels = RNG.normal(size=100_000).astype(np.float32)
    data = written(write_dense, features, labels)
    read, read_labels = read_dataset([io.BytesIO(data)])
    assert np.array_equal(read, features) and read_labels is not None and np.array_equal(read_labels, labels)


def record_bytes(*records: Record) -> bytes:
    return b"".join(written(write_record, encode_record(record)) for record in records)


def dense(*values: float, label: float | None = None) -> Record:
    labels = {} if label is None else {"values": Tensor(np.array([label], np.float32))}
    return Record(features={"values": Tensor(np.array(values, np.float32))}, label=labels)


SPARSE_ROW = Record(features={"values": Tensor(np.array([1.0], np.float32), np.array([0], np.uint64), (3,))})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (record_bytes(dense(1.0, label=1.0), dense(2.0)), "1 of 2 records have no label"),
        (record_bytes(dense(1.0), SPARSE_ROW), "mix dense and sparse"),
        (record_bytes(dense(1.0, 2.0), dense(1.0)), "different widths: \\[1, 2\\]"),
        (record_bytes(Record(label={"values": Tensor(np.array([1.0], np.float32))})), "record 0 has no features"),
        (record_bytes(dense(1.0), Record(features={"values": Tensor(np.array([1.0], np.float32))},
                                         label={"values": Tensor(np.array([1.0, 2.0], np.float32))})),
         "record 1's label\\['values'\\] holds 2 values"),
        (record_bytes(SPARSE_ROW, Record(features={"values": Tensor(np.array([1.0], np.float32), np.array([0], np.uint64), (4,))})),
         "one 1-D shape in common"),
        (record_bytes(Record(features={"values": Tensor(np.array([1.0], np.float32), np.array([3], np.uint64), (3,))})),
         "key 3, past its shape 3"),
        (record_bytes(Record(features={"values": Tensor(np.array([1.0, 2.0], np.float32), np.array([0], np.uint64), (3,))})),
         "different number of keys and values"),
    ],
    ids=["mixed-labels", "dense-and-sparse", "widths", "no-features", "vector-label", "sparse-widths", "key-too-big", "keys-values"],
)
def test_inconsistent_datasets_raise_record_io_error(data: bytes, message: str) -> None:
    with pytest.raises(RecordIOError, match=message):
        read_dataset([data])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: write_dense(io.BytesIO(), FEATURES[0]), "2-D"),
        (lambda: write_dense(io.BytesIO(), FEATURES, CLASSES[:3]), "vector of 25 values"),
        (lambda: write_dense(io.BytesIO(), FEATURES > 0), "unsupported dtype bool"),
        (lambda: write_dense(io.BytesIO(), np.array([[2**31]])), "fit in int32"),
        (lambda: write_sparse(io.BytesIO(), FEATURES), "scipy.sparse"),
        (lambda: write_sparse(io.BytesIO(), SPARSE, CLASSES.reshape(5, 5)), "vector of 25 values"),
    ],
    ids=["1-d", "label-count", "bool", "int-range", "dense-to-sparse", "2-d-labels"],
)
def test_writers_reject_bad_input(call: Callable[[], None], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
