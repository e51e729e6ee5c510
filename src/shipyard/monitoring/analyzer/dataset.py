"""Reading the data to analyse: CSV, JSON lines, or an endpoint's captured traffic.

Every value is kept as text (``None`` when missing): the analyzer infers types itself, as
Model Monitor does. Columns without a header are named ``_c0``, ``_c1``... For captured
traffic (``sagemakerCaptureJson``) each record's ``endpointOutput`` columns come first and
its ``endpointInput`` columns after them (the baseline's ``output_columns_position`` START),
for the capture parts that ``captureIndexNames`` names.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from shipyard.monitoring.analyzer.environment import AnalyzerError, parse_time

CAPTURE = "sagemakerCaptureJson"
INPUT, OUTPUT = "endpointInput", "endpointOutput"

#: A row: positional values (a list) or named ones (a dict).
Row = list[Any] | dict[str, Any]


@dataclass(frozen=True)
class CapturePart:
    """One side of a captured invocation (``captureData.endpointInput`` or ``endpointOutput``)."""

    data: str
    encoding: str = "CSV"
    observed_content_type: str = ""
    mode: str = ""

    def text(self) -> str:
        """The data as text (BASE64 decoded)."""
        if self.encoding.upper() != "BASE64":
            return self.data
        try:
            return base64.b64decode(self.data).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raise AnalyzerError("A captured record's BASE64 data does not decode.") from None

    def rows(self) -> list[Row]:
        """The records this part holds: CSV lines, or JSON values."""
        text = self.text()
        if self.encoding.upper() == "JSON" or "json" in self.observed_content_type.lower():
            try:
                return json_rows(json.loads(text))
            except json.JSONDecodeError:
                pass
        return [row for row in csv.reader(io.StringIO(text)) if row]


@dataclass(frozen=True)
class CaptureRecord:
    """One captured invocation."""

    event_id: str
    inference_id: str
    inference_time: datetime | None
    parts: dict[str, CapturePart] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What ground truth is matched on: the inferenceId, else the eventId."""
        return self.inference_id or self.event_id


def data_files(source: Path) -> list[Path]:
    """The files under ``source`` (a file or a folder, read recursively), in name order."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise AnalyzerError(f"The dataset source {source} does not exist.")
    return sorted(path for path in source.rglob("*") if path.is_file() and not path.name.startswith("."))


def read_csv(source: Path, header: bool) -> pd.DataFrame:
    """CSV files as one table of text; ``header``: each file's first line names the columns."""
    frames = []
    for path in data_files(source):
        if path.stat().st_size == 0:
            continue
        frame = pd.read_csv(
            path, header=0 if header else None, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True
        )
        if not header:
            frame.columns = [f"_c{index}" for index in range(frame.shape[1])]
        frames.append(frame)
    return _text_table(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())


def read_json(source: Path, lines: bool = True) -> pd.DataFrame:
    """JSON records: one a line (``lines``), else each file one JSON document (an object,
    or a list of records)."""
    rows: list[Row] = []
    for path in data_files(source):
        text = path.read_text(errors="replace")
        documents = enumerate(text.splitlines(), 1) if lines else [(1, text)]
        for number, document in documents:
            if not document.strip():
                continue
            try:
                rows.extend(json_rows(json.loads(document)))
            except json.JSONDecodeError as error:
                where = f"line {number}" if lines else "the file"
                raise AnalyzerError(f"{path.name}: {where} is not JSON: {error}") from None
    return rows_table(rows)


def read_capture(source: Path, start: datetime | None = None, end: datetime | None = None) -> list[CaptureRecord]:
    """Captured records under ``source`` whose ``inferenceTime`` lies in ``[start, end)``."""
    records = []
    for path in data_files(source):
        for line in path.read_text(errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                record = capture_record(json.loads(line))
            except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
                continue  # not a capture record (SageMaker skips these too)
            when = record.inference_time
            if when is not None and ((start and when < start) or (end and when >= end)):
                continue
            records.append(record)
    return records


def capture_record(document: dict[str, Any]) -> CaptureRecord:
    """One line of a data capture file."""
    captured = document.get("captureData") or {}
    metadata = document.get("eventMetadata") or {}
    parts = {
        name: CapturePart(
            data=str(part.get("data", "")),
            encoding=str(part.get("encoding", "CSV")),
            observed_content_type=str(part.get("observedContentType", "")),
            mode=str(part.get("mode", "")),
        )
        for name, part in captured.items()
        if isinstance(part, dict)
    }
    when = metadata.get("inferenceTime")
    return CaptureRecord(
        event_id=str(metadata.get("eventId", "")),
        inference_id=str(metadata.get("inferenceId", "") or ""),
        inference_time=parse_time(when) if when else None,
        parts=parts,
        raw=document,
    )


def capture_table(
    records: list[CaptureRecord], parts: list[str], preprocess: Callable[[CaptureRecord], list[Row]] | None = None
) -> pd.DataFrame:
    """The rows of ``records``: the named capture ``parts``' columns side by side, output
    first; or what the record preprocessor makes of each record."""
    rows: list[Row] = []
    for record in records:
        if preprocess is not None:
            rows.extend(preprocess(record))
            continue
        sides = [record.parts[name].rows() if name in record.parts else [] for name in (OUTPUT, INPUT) if name in parts]
        rows.extend(_side_by_side(sides))
    return rows_table(rows)


def part_width(records: list[CaptureRecord], part: str) -> int:
    """How many columns ``part`` of the records has (the widest row)."""
    widths = [len(row) for record in records if part in record.parts for row in record.parts[part].rows()]
    return max(widths, default=0)


def json_rows(value: Any) -> list[Row]:
    """The records of a JSON document: an object is one (flattened); a list of scalars is
    one positional row; a list of lists or objects is one row each; ``{"instances": [...]}``
    is its instances."""
    if isinstance(value, dict) and set(value) == {"instances"} and isinstance(value["instances"], list):
        value = value["instances"]
    if isinstance(value, dict):
        return [dict(_flatten(value))]
    if isinstance(value, list):
        if value and all(isinstance(item, (list, dict)) for item in value):
            return [row for item in value for row in json_rows(item)]
        return [[_scalar_text(item) for item in value]]
    return [[_scalar_text(value)]]


def rows_table(rows: list[Row]) -> pd.DataFrame:
    """Rows (positional or named) as one table of text; positional values are ``_c<i>``."""
    records = [{f"_c{index}": value for index, value in enumerate(row)} if isinstance(row, list) else row for row in rows]
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    table = pd.DataFrame.from_records(records, columns=list(columns)) if records else pd.DataFrame()
    return _text_table(table)


def _side_by_side(sides: list[list[Row]]) -> Iterator[Row]:
    """Rows of each side joined by position; a single output row holding one value per
    input row (``0.1,0.7``) is split across them; an output that does not fit is left out."""
    sides = [side for side in sides if side]
    if len(sides) < 2:
        yield from (sides[0] if sides else [])
        return
    output, inputs = sides
    if len(output) == 1 and len(inputs) > 1 and isinstance(output[0], list) and len(output[0]) == len(inputs):
        output = [[value] for value in output[0]]
    if len(output) != len(inputs):
        yield from inputs
        return
    for out, row in zip(output, inputs, strict=True):
        if isinstance(out, list) and isinstance(row, list):
            yield [*out, *row]
        else:
            yield {**_named(out, 0), **_named(row, len(out) if isinstance(out, list) else 0)}


def _named(row: Row, offset: int) -> dict[str, Any]:
    return dict(row) if isinstance(row, dict) else {f"_c{offset + index}": value for index, value in enumerate(row)}


def _flatten(value: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            yield from _flatten(item, f"{name}.")
        else:
            yield name, _scalar_text(item)


def _scalar_text(value: Any) -> str | None:
    """A JSON value as the text the analyzer types: None stays missing, lists stay JSON."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _text_table(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every cell a stripped string or None (empty text is missing); object
    columns, so pandas infers nothing (its string dtype would turn None into NaN)."""
    columns = {
        str(name): pd.Series([_cell(value) for value in table.iloc[:, index]], dtype=object)
        for index, name in enumerate(table.columns)
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(len(table)))


def _cell(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None
