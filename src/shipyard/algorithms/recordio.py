"""SageMaker's RecordIO-protobuf format (``application/x-recordio-protobuf``).

A stream is MXNet RecordIO framing around ``aialgs.data.Record`` protobuf messages: the format
the SageMaker SDK's ``record_set()`` writes for training and that the built-in algorithms take and
return at inference. One record holds one row: ``features["values"]`` (dense, or sparse with
``keys`` and ``shape``) and optionally ``label["values"]``.

Framing: each part is the little-endian words ``0xced7230a`` and ``cflag << 29 | length``, then
``length`` bytes padded with zeros to a multiple of 4. ``cflag`` 0 is a whole record; 1, 2 and 3
are the first, middle and last parts of a record that MXNet split where its payload held the
magic word (the reader puts the word back between the parts).

Messages (``record.proto``; the protobuf wire codec is written here, without ``protobuf``)::

    Float32Tensor { repeated float  values = 1 [packed]; repeated uint64 keys = 2 [packed];
                    repeated uint64 shape = 3 [packed]; }       # Float64Tensor: double values
    Int32Tensor   { repeated int32  values = 1 [packed]; keys = 2; shape = 3 (as above) }
    Value  { oneof value { Float32Tensor float32_tensor = 2; Float64Tensor float64_tensor = 3;
                           Int32Tensor int32_tensor = 7; Bytes bytes = 9; } }
    Record { map<string, Value> features = 1; map<string, Value> label = 2;
             string uid = 3; string metadata = 4; string configuration = 5; }
"""

from __future__ import annotations

import io
import itertools
import math
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import BinaryIO

import numpy as np
import scipy.sparse

CONTENT_TYPE = "application/x-recordio-protobuf"

_MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", _MAGIC)
_HEADER = struct.Struct("<II")
_MAX_LENGTH = (1 << 29) - 1  # the length word's lower 29 bits; the upper 3 are the cflag
_WHOLE, _FIRST, _MIDDLE, _LAST = 0, 1, 2, 3

_VARINT, _FIXED64, _DELIMITED, _FIXED32 = 0, 1, 2, 5
_UINT64_MASK = (1 << 64) - 1
_SMALL_VARINTS = 128  # packed varint fields up to this many bytes are decoded without numpy

# Value's oneof field number for each tensor dtype, and the wire type of one unpacked element.
_KIND_BY_DTYPE = {np.dtype(np.float32): 2, np.dtype(np.float64): 3, np.dtype(np.int32): 7}
_DTYPE_BY_KIND = {kind: dtype for dtype, kind in _KIND_BY_DTYPE.items()}
_ELEMENT_WIRE = {2: _FIXED32, 3: _FIXED64, 7: _VARINT}
_BYTES_KIND = 9
_INT32_RANGE = (-(1 << 31), (1 << 31) - 1)


class RecordIOError(ValueError):
    """A RecordIO stream, or a Record message inside it, is malformed."""


@dataclass(eq=False)
class Tensor:
    """One ``Value`` of a record: float32, float64 or int32 ``values`` (its dtype picks the type).

    A sparse tensor also has ``keys`` (the flat indices of ``values``) and ``shape``. Protobuf
    cannot tell an empty repeated field from a missing one, so both decode as None.
    """

    values: np.ndarray
    keys: np.ndarray | None = None
    shape: tuple[int, ...] | None = None


@dataclass(eq=False)
class Record:
    """An ``aialgs.data.Record``: named feature tensors and named label tensors."""

    features: dict[str, Tensor] = field(default_factory=dict)
    label: dict[str, Tensor] = field(default_factory=dict)


# --- RecordIO framing ---------------------------------------------------------------------------


def read_records(source: bytes | BinaryIO) -> Iterator[bytes]:
    """The payloads of a RecordIO stream, multi-part records joined back together."""
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source
    position = 0
    parts: list[bytes] = []  # the parts so far of a multi-part record
    while header := _read_exact(stream, _HEADER.size):
        if len(header) < _HEADER.size:
            raise RecordIOError(f"the stream is truncated inside the record header at byte {position}")
        magic, word = _HEADER.unpack(header)
        if magic != _MAGIC:
            raise RecordIOError(f"bad RecordIO magic 0x{magic:08x} at byte {position} (expected 0x{_MAGIC:08x})")
        cflag, length = word >> 29, word & _MAX_LENGTH
        body = _read_exact(stream, _padded(length))
        if len(body) < _padded(length):
            raise RecordIOError(
                f"the record at byte {position} is truncated: {length} bytes announced, {len(body)} present"
            )
        _check_cflag(cflag, bool(parts), position)
        parts.append(body[:length])
        if cflag in (_WHOLE, _LAST):
            yield _MAGIC_BYTES.join(parts)
            parts = []
        position += _HEADER.size + len(body)
    if parts:
        raise RecordIOError("the stream ends inside a multi-part record")


def write_record(out: BinaryIO, payload: bytes) -> None:
    """Write ``payload`` as one whole RecordIO record (never split, as the SageMaker SDK writes)."""
    if len(payload) > _MAX_LENGTH:
        raise RecordIOError(f"a RecordIO record holds at most {_MAX_LENGTH} bytes, not {len(payload)}")
    out.write(b"".join((_HEADER.pack(_MAGIC, len(payload)), payload, bytes(_padded(len(payload)) - len(payload)))))


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes: fewer only at the end of the stream."""
    data = stream.read(size)
    while len(data) < size and (more := stream.read(size - len(data))):
        data += more
    return data


def _padded(length: int) -> int:
    return (length + 3) & ~3


def _check_cflag(cflag: int, inside: bool, position: int) -> None:
    """Whether a part with ``cflag`` may come now (``inside``: a multi-part record is open)."""
    if cflag > _LAST:
        raise RecordIOError(f"invalid RecordIO continuation flag {cflag} at byte {position}")
    if inside and cflag in (_WHOLE, _FIRST):
        raise RecordIOError(f"a new record starts at byte {position} before the multi-part record ended")
    if not inside and cflag in (_MIDDLE, _LAST):
        raise RecordIOError(f"a continuation part at byte {position} has no first part")


# --- protobuf wire codec ------------------------------------------------------------------------


def decode_record(payload: bytes) -> Record:
    """Parse one ``aialgs.data.Record``; fields this codec does not keep are skipped."""
    record = Record()
    for number, wire, start, stop in _fields(payload, 0, len(payload)):
        if number in (1, 2) and wire == _DELIMITED:
            name, tensor = _decode_entry(payload, start, stop)
            (record.features if number == 1 else record.label)[name] = tensor
    return record


def encode_record(record: Record) -> bytes:
    """Serialize ``record`` as protobuf does: features, then label, each in dict order."""
    return b"".join(
        _delimited(number, _entry(name, *_tensor_fields(tensor)))
        for number, tensors in ((1, record.features), (2, record.label))
        for name, tensor in tensors.items()
    )


def _fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, start, stop) of each field in ``buf[pos:end]``.

    ``buf[start:stop]`` is the field's value: a length-delimited field's content, otherwise the
    encoded varint or fixed-width bytes.
    """
    while pos < end:
        key, pos = _read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            stop = _read_varint(buf, pos, end)[1]
        elif wire == _DELIMITED:
            length, pos = _read_varint(buf, pos, end)
            stop = pos + length
        elif wire in (_FIXED32, _FIXED64):
            stop = pos + (4 if wire == _FIXED32 else 8)
        else:
            raise RecordIOError(f"unsupported protobuf wire type {wire} (field {number})")
        if number == 0 or stop > end:
            raise RecordIOError(f"malformed protobuf field {number}: it runs past the end of its message")
        yield number, wire, pos, stop
        pos = stop


def _read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    if pos < end and buf[pos] < 0x80:  # the common one-byte case, first
        return buf[pos], pos + 1
    result = shift = 0
    while pos < end and shift < 70:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _UINT64_MASK, pos
        shift += 7
    raise RecordIOError("malformed protobuf varint: truncated or longer than 10 bytes")


def _decode_entry(buf: bytes, start: int, stop: int) -> tuple[str, Tensor]:
    """A map entry: (key, value); the last occurrence of each wins, as for protobuf scalars."""
    name, value = "", (start, start)
    for number, wire, begin, end in _fields(buf, start, stop):
        if wire != _DELIMITED:
            continue
        if number == 1:
            name = _text(buf, begin, end)
        elif number == 2:
            value = (begin, end)
    return name, _decode_value(buf, *value)


def _decode_value(buf: bytes, start: int, stop: int) -> Tensor:
    """A ``Value``: repeated occurrences of its tensor merge, a different oneof member replaces."""
    kind, spans = 0, []
    for number, wire, begin, end in _fields(buf, start, stop):
        if wire == _DELIMITED and number == _BYTES_KIND:
            raise RecordIOError("Bytes values are not supported: records must hold numeric tensors")
        if wire == _DELIMITED and number in _DTYPE_BY_KIND:
            if number != kind:
                kind, spans = number, []
            spans.append((begin, end))
    if not kind:
        return Tensor(np.empty(0, np.float32))  # an empty Value: no oneof member set
    return _decode_tensor(buf, spans, kind)


def _decode_tensor(buf: bytes, spans: list[tuple[int, int]], kind: int) -> Tensor:
    """A Float32/Float64/Int32Tensor given as one or more message spans (merged)."""
    chunks: dict[int, list[bytes]] = {1: [], 2: [], 3: []}
    for start, stop in spans:
        for number, wire, begin, end in _fields(buf, start, stop):
            element_wire = _ELEMENT_WIRE[kind] if number == 1 else _VARINT
            if number in chunks and wire in (_DELIMITED, element_wire):
                chunks[number].append(buf[begin:end])
    values = bytearray().join(chunks[1])  # writable, so the arrays made from it are too
    dtype = _DTYPE_BY_KIND[kind]
    if kind == 7:
        array = _decode_varints(values).view(np.int64).astype(np.int32)
    elif len(values) % dtype.itemsize:
        raise RecordIOError(f"packed {dtype} values are {len(values)} bytes, not a multiple of {dtype.itemsize}")
    else:
        array = np.frombuffer(values, dtype.newbyteorder("<")).astype(dtype, copy=False)
    keys = _decode_varints(b"".join(chunks[2])) if chunks[2] else None
    shape = tuple(_decode_varints(b"".join(chunks[3])).tolist()) if chunks[3] else None
    return Tensor(array, keys if keys is not None and keys.size else None, shape or None)


def _decode_varints(data: bytes) -> np.ndarray:
    """Concatenated varints as uint64."""
    if len(data) <= _SMALL_VARINTS:
        return np.array(_small_varints(data), np.uint64)
    raw = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(raw < 0x80)
    if ends.size == 0 or ends[-1] != raw.size - 1:
        raise RecordIOError("malformed packed varints: the last one is truncated")
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    if lengths.max() > 10:
        raise RecordIOError("malformed packed varints: one is longer than 10 bytes")
    shifts = (7 * (np.arange(raw.size) - np.repeat(starts, lengths))).astype(np.uint64)
    return np.bitwise_or.reduceat((raw & 0x7F).astype(np.uint64) << shifts, starts)


def _small_varints(data: bytes) -> list[int]:
    """Concatenated varints, decoded byte by byte (faster than numpy for a few)."""
    values, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            values.append(value & _UINT64_MASK)
            value = shift = 0
        elif (shift := shift + 7) >= 70:
            raise RecordIOError("malformed packed varints: one is longer than 10 bytes")
    if shift:
        raise RecordIOError("malformed packed varints: the last one is truncated")
    return values


def _text(buf: bytes, start: int, stop: int) -> str:
    try:
        return bytes(buf[start:stop]).decode()
    except UnicodeDecodeError:
        raise RecordIOError("a map key is not valid UTF-8") from None


def _tensor_fields(tensor: Tensor) -> tuple[int, bytes, bytes, bytes]:
    """(oneof kind, packed values, packed keys, packed shape) of ``tensor``."""
    kind = _KIND_BY_DTYPE.get(tensor.values.dtype)
    if kind is None:
        raise ValueError(f"a tensor holds float32, float64 or int32 values, not {tensor.values.dtype}")
    keys = b"" if tensor.keys is None else _encode_packed(np.asarray(tensor.keys, np.uint64))[0]
    shape = b"" if tensor.shape is None else _encode_packed(np.array(tensor.shape, np.uint64))[0]
    return kind, _encode_packed(tensor.values.ravel())[0], keys, shape


def _entry(name: str, kind: int, values: bytes, keys: bytes = b"", shape: bytes = b"") -> bytes:
    """A map entry ``name -> Value{kind: tensor}`` from the tensor's packed fields."""
    tensor = b"".join(_delimited(number, data) for number, data in ((1, values), (2, keys), (3, shape)) if data)
    return _delimited(1, name.encode()) + _delimited(2, _delimited(kind, tensor))


def _delimited(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | _DELIMITED) + _varint(len(data)) + data


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _encode_packed(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """A packed field's content for 1-D ``values``, and the byte offset of each element's start
    (plus the end): floats as little-endian, integers as varints (negative int32 as 10 bytes).
    """
    if values.dtype.kind == "f":
        offsets = np.arange(values.size + 1) * values.dtype.itemsize
        return values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes(), offsets
    encoded = values.astype(np.int64).view(np.uint64)
    sizes = np.ones(encoded.size, np.int64)
    rest = encoded >> np.uint64(7)
    while rest.any():
        sizes += rest != 0
        rest >>= np.uint64(7)
    width = np.arange(sizes.max(initial=1))
    digits = ((encoded[:, None] >> (7 * width).astype(np.uint64)) & np.uint64(0x7F)).astype(np.uint8)
    digits[width < sizes[:, None] - 1] |= 0x80
    return digits[width < sizes[:, None]].tobytes(), np.concatenate(([0], np.cumsum(sizes)))


# --- datasets -----------------------------------------------------------------------------------


def write_dense(out: BinaryIO, features: np.ndarray, labels: np.ndarray | None = None) -> None:
    """One record per row of 2-D ``features``, as the SDK's ``write_numpy_to_dense_tensor``.

    float32 and float64 keep their type and integers become int32 tensors (the SDK takes only
    the platform ``int``, int64, for those); labels are typed the same way, on their own.
    """
    if features.ndim != 2:
        raise ValueError(f"features must be a 2-D array, not {features.ndim}-D")
    rows, width = features.shape
    entries = _entries(_tensor_array(features).ravel(), np.arange(rows + 1) * width)
    _write_rows(out, entries, _label_entries(labels, rows))


def write_sparse(out: BinaryIO, features: scipy.sparse.spmatrix, labels: np.ndarray | None = None) -> None:
    """One sparse record per row, as the SDK's ``write_spmatrix_to_sparse_tensor``: each row's
    stored entries in CSR order (explicit zeros included), with the matrix width as ``shape``.
    """
    if not scipy.sparse.issparse(features) or features.ndim != 2:
        raise ValueError("features must be a 2-D scipy.sparse matrix")
    csr = scipy.sparse.csr_matrix(features)
    rows, width = csr.shape
    keys = _chunks(*_encode_packed(csr.indices.astype(np.uint64)), csr.indptr)
    shape = _encode_packed(np.array([width], np.uint64))[0]
    entries = _entries(_tensor_array(csr.data), csr.indptr, keys, shape)
    _write_rows(out, entries, _label_entries(labels, rows))


def read_dataset(
    sources: Iterable[bytes | BinaryIO],
) -> tuple[np.ndarray | scipy.sparse.csr_matrix, np.ndarray | None]:
    """Features and labels of every record in ``sources``, in order.

    Features come from each record's ``features["values"]``: dense rows give a 2-D float32 array,
    sparse rows (with ``keys`` and ``shape``) a float32 CSR matrix as wide as their shape. Labels
    come from ``label["values"]``, one scalar per record, as 1-D float32; None when no record has
    one. Mixing dense and sparse records, or labelled and unlabelled ones, is an error.
    """
    rows = _Rows()
    for source in sources:
        data = bytes(source) if isinstance(source, bytes | bytearray | memoryview) else source.read()
        block = _uniform_block(data)
        if block is not None:
            rows.add_block(*block)
            continue
        for payload in read_records(data):
            rows.add_record(decode_record(payload))
    return rows.result()


def encode_predictions(rows: list[dict[str, float | int | list[float]]]) -> bytes:
    """Inference output as the built-in algorithms return it: one record per row, each key of the
    row a float32 tensor in the record's ``label`` map (``{"score": 0.3, "predicted_label": 1.0}``).
    """
    out = io.BytesIO()
    for row in rows:
        label = {name: Tensor(np.asarray(value, np.float32).ravel()) for name, value in row.items()}
        write_record(out, encode_record(Record(label=label)))
    return out.getvalue()


def decode_predictions(data: bytes) -> list[dict[str, list[float]]]:
    """The ``label`` map of each record of a RecordIO-protobuf response, as lists of floats."""
    return [
        {name: tensor.values.astype(float).tolist() for name, tensor in decode_record(payload).label.items()}
        for payload in read_records(data)
    ]


def _tensor_array(array: np.ndarray) -> np.ndarray:
    """``array`` as the tensor type the SDK picks: float32 and float64 as they are, integers int32."""
    if array.dtype in (np.float32, np.float64):
        return array
    if array.dtype.kind not in "iu":
        raise ValueError(f"unsupported dtype {array.dtype}: use float32, float64 or an integer type")
    if array.size and (array.min() < _INT32_RANGE[0] or array.max() > _INT32_RANGE[1]):
        raise ValueError("integer values must fit in int32")
    return array.astype(np.int32)


def _entries(values: np.ndarray, indptr: np.ndarray, keys: list[bytes] | None = None, shape: bytes = b"") -> list[bytes]:
    """The ``"values"`` map entry of each row: ``values[indptr[i]:indptr[i + 1]]`` (and ``keys[i]``)."""
    kind = _KIND_BY_DTYPE[values.dtype]
    chunks = _chunks(*_encode_packed(values), indptr)
    return [
        _entry("values", kind, chunk, row_keys, shape)
        for chunk, row_keys in zip(chunks, keys or [b""] * len(chunks), strict=True)
    ]


def _chunks(data: bytes, offsets: np.ndarray, indptr: np.ndarray) -> list[bytes]:
    """``data`` (packed elements starting at byte ``offsets``) cut into rows at element ``indptr``."""
    bounds = offsets[indptr].tolist()
    return [data[start:stop] for start, stop in itertools.pairwise(bounds)]


def _label_entries(labels: np.ndarray | None, rows: int) -> list[bytes] | None:
    if labels is None:
        return None
    if labels.ndim != 1 or labels.shape[0] != rows:
        raise ValueError(f"labels must be a vector of {rows} values, not of shape {labels.shape}")
    return _entries(_tensor_array(labels), np.arange(rows + 1))


def _write_rows(out: BinaryIO, features: list[bytes], labels: list[bytes] | None) -> None:
    for index, entry in enumerate(features):
        payload = _delimited(1, entry)
        if labels is not None:
            payload += _delimited(2, labels[index])
        write_record(out, payload)


class _Rows:
    """Rows gathered from records and uniform blocks, checked to agree with each other."""

    def __init__(self) -> None:
        self.dense: list[np.ndarray] = []  # 2-D blocks of rows
        self.sparse: list[Tensor] = []  # one per row
        self.labels: list[np.ndarray] = []
        self.count = 0
        self.unlabelled = 0

    def add_block(self, features: np.ndarray, labels: np.ndarray | None) -> None:
        self.dense.append(features)
        self._add_labels(labels, len(features))

    def add_record(self, record: Record) -> None:
        tensor = record.features.get("values")
        if tensor is None:
            raise RecordIOError(f"record {self.count} has no features['values'] tensor")
        if _is_sparse(tensor):
            self.sparse.append(tensor)
        else:
            self.dense.append(tensor.values.reshape(1, -1))
        label = record.label.get("values")
        if label is not None and label.values.size != 1:
            raise RecordIOError(f"record {self.count}'s label['values'] holds {label.values.size} values, not 1")
        self._add_labels(None if label is None else label.values, 1)

    def _add_labels(self, labels: np.ndarray | None, count: int) -> None:
        if labels is None:
            self.unlabelled += count
        else:
            self.labels.append(labels)
        self.count += count

    def result(self) -> tuple[np.ndarray | scipy.sparse.csr_matrix, np.ndarray | None]:
        if self.dense and self.sparse:
            raise RecordIOError("the records mix dense and sparse features")
        if self.labels and self.unlabelled:
            raise RecordIOError(f"{self.unlabelled} of {self.count} records have no label['values']")
        labels = np.concatenate(self.labels).astype(np.float32) if self.labels else None
        return (self._sparse() if self.sparse else self._dense()), labels

    def _dense(self) -> np.ndarray:
        if not self.dense:
            return np.zeros((0, 0), np.float32)
        widths = sorted({block.shape[1] for block in self.dense})
        if len(widths) > 1:
            raise RecordIOError(f"the dense records have different widths: {widths}")
        return np.concatenate(self.dense).astype(np.float32, copy=False)

    def _sparse(self) -> scipy.sparse.csr_matrix:
        shapes = sorted({tensor.shape or () for tensor in self.sparse})
        if len(shapes) > 1 or len(shapes[0]) != 1:
            raise RecordIOError(f"sparse records need one 1-D shape in common, not {shapes}")
        width = shapes[0][0]
        keys = [np.empty(0, np.uint64) if tensor.keys is None else tensor.keys for tensor in self.sparse]
        sizes = np.array([tensor.values.size for tensor in self.sparse])
        if not np.array_equal(sizes, [len(row_keys) for row_keys in keys]):
            raise RecordIOError("a sparse record has a different number of keys and values")
        indices = np.concatenate(keys)
        if indices.size and indices.max() >= width:
            raise RecordIOError(f"a sparse record has key {indices.max()}, past its shape {width}")
        values = np.concatenate([tensor.values for tensor in self.sparse]).astype(np.float32)
        indptr = np.concatenate(([0], np.cumsum(sizes)))
        matrix = scipy.sparse.csr_matrix((values, indices.astype(np.int64), indptr), shape=(len(sizes), width))
        matrix.sum_duplicates()
        return matrix


def _uniform_block(data: bytes) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Dense float rows (and scalar float labels) read without a per-record loop, when every
    record of ``data`` has the first one's length and, outside the value bytes, its exact bytes
    (so for what the SDK writes from a float array); None otherwise.

    The value bytes are found by encoding the first record again with its values bit-flipped:
    the bytes that change are the values; the rest (tags, lengths, names) must match in every
    record, which then parses exactly as the first one does.
    """
    if len(data) < _HEADER.size:
        return None
    magic, length = _HEADER.unpack_from(data)
    stride = _HEADER.size + _padded(length)
    if magic != _MAGIC or length > _MAX_LENGTH or len(data) % stride:
        return None
    payload = data[_HEADER.size : _HEADER.size + length]
    first = decode_record(payload)
    features, label = first.features.get("values"), first.label.get("values")
    if features is None or _is_sparse(features) or not _floats(features) or features.values.size == 0:
        return None
    if label is not None and not (_floats(label) and label.values.size == 1):
        return None
    template = np.frombuffer(encode_record(first), np.uint8)
    if template.tobytes() != payload:
        return None
    records = np.frombuffer(data, np.uint8).reshape(-1, stride)
    body = records[:, _HEADER.size : _HEADER.size + length]
    feature_columns = _value_columns(first, template, "features")
    label_columns = np.empty(0, np.int64) if label is None else _value_columns(first, template, "label")
    fixed = np.ones(length, bool)
    fixed[feature_columns] = fixed[label_columns] = False
    if not (records[:, : _HEADER.size] == records[0, : _HEADER.size]).all():
        return None
    if not (body[:, fixed] == template[fixed]).all():
        return None
    matrix = _column_values(body, feature_columns, features)
    return matrix, None if label is None else _column_values(body, label_columns, label).ravel()


def _value_columns(record: Record, template: np.ndarray, part: str) -> np.ndarray:
    """Where ``record.<part>["values"]``'s values lie in ``template``, the record's encoding."""
    tensors = dict(getattr(record, part))
    values = tensors["values"].values
    tensors["values"] = Tensor((~values.view(np.uint8)).view(values.dtype))
    flipped = np.frombuffer(encode_record(replace(record, **{part: tensors})), np.uint8)
    return np.flatnonzero(flipped != template)


def _column_values(body: np.ndarray, columns: np.ndarray, tensor: Tensor) -> np.ndarray:
    """Each row's ``columns`` bytes read as ``tensor``'s (little-endian) dtype."""
    return np.ascontiguousarray(body[:, columns]).view(tensor.values.dtype.newbyteorder("<"))


def _floats(tensor: Tensor) -> bool:
    return tensor.values.dtype.kind == "f"


def _is_sparse(tensor: Tensor) -> bool:
    """Sparse: it has keys, or a shape that its values do not fill (an empty sparse row)."""
    return tensor.keys is not None or (tensor.shape is not None and math.prod(tensor.shape) != tensor.values.size)
