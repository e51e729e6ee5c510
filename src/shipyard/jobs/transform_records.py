"""Batch transform's records: an input object split into records, records packed into
requests, a response split back into one output per record, and ``DataProcessing``.

SageMaker's rules (``CreateTransformJob``):

- ``SplitType`` ``Line`` makes each non-empty line a record; ``None`` makes the whole object
  one record.
- ``BatchStrategy`` ``SingleRecord`` sends one record per request, ``MultiRecord`` as many as
  fit in ``MaxPayloadInMB`` (0: no limit), one per line.
- ``DataProcessing``: ``InputFilter`` picks what of each record the model gets; ``JoinSource``
  ``Input`` joins each output with its input record (CSV: the output's fields appended to the
  input's; JSON: the output as the input object's ``SageMakerOutput``, or
  ``{"SageMakerInput", "SageMakerOutput"}`` for an input that is no object); ``OutputFilter``
  picks what of that is written. A CSV record is a JSON array of its fields (as strings).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from shipyard.algorithms.content_types import CSV, JSON, JSONLINES, mime
from shipyard.jobs.jsonpath import JsonPath, JsonPathError

RecordFormat = Literal["csv", "json"]

MIB = 1 << 20
JOIN_OUTPUT = "SageMakerOutput"
JOIN_INPUT = "SageMakerInput"


class RecordError(ValueError):
    """A record, request or response batch transform cannot handle (the job fails)."""


def split_records(stream: BinaryIO, split_type: str) -> Iterator[bytes]:
    """The records of an input object: its non-empty lines (``Line``) or all of it (``None``)."""
    if split_type == "None":
        yield stream.read()
        return
    for line in stream:
        record = line.rstrip(b"\r\n")
        if record.strip():
            yield record


def batch_records(records: Iterable[bytes], multi: bool, max_payload_mb: int) -> Iterator[list[bytes]]:
    """Records packed into requests: one each, or (``multi``) as many as fit the payload
    limit, counting a newline after each. ``RecordError`` for a record that fits no request."""
    limit = max_payload_mb * MIB or None
    batch: list[bytes] = []
    size = 0
    for number, record in enumerate(records, 1):
        needed = len(record) + 1
        if limit is not None and needed > limit:
            raise RecordError(
                f"record {number} is {len(record)} bytes, more than MaxPayloadInMB ({max_payload_mb} MB) allows"
            )
        if batch and (not multi or (limit is not None and size + needed > limit)):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += needed
    if batch:
        yield batch


def request_body(batch: list[bytes], split_type: str) -> bytes:
    """One request's body: the records, each ending with a newline (``Line``), or the object."""
    if split_type == "None":
        return batch[0]
    return b"".join(record + b"\n" for record in batch)


def split_response(body: bytes, content_type: str, count: int) -> list[bytes]:
    """The outputs of a request of ``count`` records, one per record: the response's lines,
    or the items of a JSON response's list (``[...]`` or ``{"predictions": [...]}``)."""
    if count == 1:
        return [body.rstrip(b"\r\n")]
    lines = [line.rstrip(b"\r") for line in body.split(b"\n") if line.strip()]
    if len(lines) == count:
        return lines
    if mime(content_type) in (JSON, JSONLINES) or body.lstrip()[:1] in (b"{", b"["):
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if isinstance(document, dict) and len(document) == 1:
            document = next(iter(document.values()))
        if isinstance(document, list) and len(document) == count:
            return [_dumps(item).encode() for item in document]
    raise RecordError(
        f"the model answered a request of {count} records with {len(lines)} lines, so its outputs cannot be "
        "matched with the records; use BatchStrategy SingleRecord, or a model that answers one line per record"
    )


def assemble(output: bytes, assemble_with: str) -> bytes:
    """One output as it goes into the ``.out`` object: ending with one newline (``Line``),
    or as it is (``None``: outputs concatenated)."""
    if assemble_with == "Line":
        return output.rstrip(b"\r\n") + b"\n"
    return output


def record_format(content_type: str | None, data: bytes) -> RecordFormat:
    """Whether ``data`` is read as CSV or JSON: by its content type, else by its first byte."""
    kind = mime(content_type)
    if kind == CSV or kind.endswith("csv"):
        return "csv"
    if "json" in kind:
        return "json"
    return "json" if data.lstrip()[:1] in (b"{", b"[") else "csv"


@dataclass(frozen=True)
class DataProcessing:
    """A job's ``DataProcessing``, parsed; ``content_type`` is its ``TransformInput.ContentType``."""

    input_filter: JsonPath
    output_filter: JsonPath
    join: bool
    content_type: str | None = None

    @classmethod
    def from_request(cls, processing: dict[str, Any] | None, content_type: str | None) -> DataProcessing:
        """From the request's ``DataProcessing`` (``JsonPathError`` for a bad filter)."""
        processing = processing or {}
        return cls(
            JsonPath.parse(processing.get("InputFilter") or "$"),
            JsonPath.parse(processing.get("OutputFilter") or "$"),
            processing.get("JoinSource") == "Input",
            content_type,
        )

    @property
    def per_record(self) -> bool:
        """Whether each output must be matched with its record (to join or filter it)."""
        return self.join or not self.output_filter.is_root

    def filter_input(self, record: bytes) -> bytes:
        """What the model gets of ``record``."""
        if self.input_filter.is_root:
            return record
        fmt = record_format(self.content_type, record)
        return _encode(self._select(self.input_filter, _decode(record, fmt)), fmt)

    def finish(self, record: bytes, output: bytes, output_type: str) -> bytes:
        """The output of ``record`` as written: joined with the record and filtered."""
        if self.join:
            fmt = record_format(self.content_type, record)
            joined = _join_csv(record, output, output_type) if fmt == "csv" else _join_json(record, output, output_type)
        elif self.output_filter.is_root:
            return output
        else:
            fmt = record_format(output_type, output)
            joined = _decode(output, fmt)
        return _encode(self._select(self.output_filter, joined), fmt)

    @staticmethod
    def _select(path: JsonPath, document: Any) -> Any:
        try:
            return path.apply(document)
        except JsonPathError as error:
            raise RecordError(str(error)) from None


def _join_csv(record: bytes, output: bytes, output_type: str) -> list[Any]:
    fields = _decode(record, "csv")
    if record_format(output_type, output) == "json":
        return [*fields, _loads(output)]
    return [*fields, *_decode(output, "csv")]


def _join_json(record: bytes, output: bytes, output_type: str) -> dict[str, Any]:
    document = _decode(record, "json")
    try:
        value: Any = json.loads(output)
    except ValueError:
        value = output.decode("utf-8", "replace")
    if isinstance(document, dict):
        return {**document, JOIN_OUTPUT: value}
    return {JOIN_INPUT: document, JOIN_OUTPUT: value}


def _decode(data: bytes, fmt: RecordFormat) -> Any:
    if fmt == "json":
        return _loads(data)
    try:
        return next(csv.reader([data.decode("utf-8")]), [])
    except (UnicodeDecodeError, csv.Error) as error:
        raise RecordError(f"a record is not a CSV line: {error}") from None


def _loads(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError as error:
        raise RecordError(f"a record is not valid JSON: {error}") from None


def _encode(value: Any, fmt: RecordFormat) -> bytes:
    if fmt == "json":
        return _dumps(value).encode()
    if not isinstance(value, list):
        return _field(value).encode()
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([_field(item) for item in value])
    return buffer.getvalue().encode()


def _field(value: Any) -> str:
    """One CSV field: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else _dumps(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
