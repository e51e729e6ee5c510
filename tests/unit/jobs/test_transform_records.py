"""Batch transform's records: splitting, batching, matching outputs, DataProcessing, assembly."""

from __future__ import annotations

import io
import json

import pytest

from shipyard.jobs.transform_records import (
    MIB,
    DataProcessing,
    RecordError,
    assemble,
    batch_records,
    record_format,
    request_body,
    split_records,
    split_response,
)


def test_line_split_gives_each_nonempty_line() -> None:
    data = b"1,2\r\n3,4\n\n  \n5,6"
    assert list(split_records(io.BytesIO(data), "Line")) == [b"1,2", b"3,4", b"5,6"]


def test_no_split_gives_the_whole_object() -> None:
    data = b'{"a": 1}\n{"b": 2}\n'
    assert list(split_records(io.BytesIO(data), "None")) == [data]


def test_single_record_batches_hold_one_record_each() -> None:
    assert list(batch_records([b"a", b"b", b"c"], multi=False, max_payload_mb=6)) == [[b"a"], [b"b"], [b"c"]]


def test_multi_record_batches_fill_the_payload_limit() -> None:
    record = b"x" * (MIB // 4 - 1)  # four of them (with their newlines) make exactly 1 MiB
    batches = list(batch_records([record] * 10, multi=True, max_payload_mb=1))
    assert [len(batch) for batch in batches] == [4, 4, 2]
    assert all(len(request_body(batch, "Line")) <= MIB for batch in batches)


def test_a_payload_limit_of_zero_means_no_limit() -> None:
    assert [len(batch) for batch in batch_records([b"y" * MIB] * 3, multi=True, max_payload_mb=0)] == [3]


def test_a_record_larger_than_the_payload_limit_fails() -> None:
    with pytest.raises(RecordError, match=r"record 2 is 1048576 bytes, more than MaxPayloadInMB \(1 MB\)"):
        list(batch_records([b"small", b"z" * MIB], multi=False, max_payload_mb=1))


def test_request_bodies_end_each_record_with_a_newline() -> None:
    assert request_body([b"1,2", b"3,4"], "Line") == b"1,2\n3,4\n"
    assert request_body([b"whole\nobject"], "None") == b"whole\nobject"


@pytest.mark.parametrize(
    ("body", "content_type", "count", "expected"),
    [
        (b"0.5\n", "text/csv", 1, [b"0.5"]),
        (b"0.1\n0.2\r\n0.3\n", "text/csv", 3, [b"0.1", b"0.2", b"0.3"]),
        (b'{"s": 1}\n{"s": 2}\n', "application/jsonlines", 2, [b'{"s": 1}', b'{"s": 2}']),
        (b"[0.1, [1, 2]]", "application/json", 2, [b"0.1", b"[1,2]"]),
        (b'{"predictions": [{"score": 1}, {"score": 2}]}', "application/json", 2, [b'{"score":1}', b'{"score":2}']),
    ],
)
def test_responses_split_into_one_output_per_record(body: bytes, content_type: str, count: int, expected: list[bytes]) -> None:
    assert split_response(body, content_type, count) == expected


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"0.1,0.2\n", "text/csv"), (b"[1, 2, 3]", "application/json"), (b'{"a": [1, 2], "b": 3}', "application/json")],
)
def test_responses_that_do_not_match_the_records_fail(body: bytes, content_type: str) -> None:
    with pytest.raises(RecordError, match="cannot be matched with the records"):
        split_response(body, content_type, 2)


def test_assembly_by_line_or_not_at_all() -> None:
    assert assemble(b"0.5", "Line") == b"0.5\n"
    assert assemble(b"0.1\n0.2\n", "Line") == b"0.1\n0.2\n"
    assert assemble(b"0.5\n", "None") == b"0.5\n"
    assert assemble(b"raw", "None") == b"raw"


@pytest.mark.parametrize(
    ("content_type", "data", "expected"),
    [
        ("text/csv", b"[1]", "csv"),
        ("text/csv; charset=utf-8", b"1,2", "csv"),
        ("application/json", b"1", "json"),
        ("application/jsonlines", b"{}", "json"),
        (None, b' {"a": 1}', "json"),
        (None, b"[1, 2]", "json"),
        (None, b"1,2", "csv"),
        ("application/octet-stream", b"1,2", "csv"),
    ],
)
def test_record_formats_come_from_the_content_type_else_the_data(content_type: str | None, data: bytes, expected: str) -> None:
    assert record_format(content_type, data) == expected


def processing(content_type: str | None = "text/csv", **fields: str) -> DataProcessing:
    return DataProcessing.from_request(fields, content_type)


def test_default_processing_passes_records_and_outputs_through() -> None:
    default = processing()
    assert not default.per_record
    assert default.filter_input(b"id,1,2") == b"id,1,2"
    assert default.finish(b"id,1,2", b"0.5", "text/csv") == b"0.5"


def test_csv_input_filter_drops_the_id_column() -> None:
    assert processing(InputFilter="$[1:]").filter_input(b"id-1,0.5,7") == b"0.5,7"
    assert processing(InputFilter="$[0]").filter_input(b"id-1,0.5,7") == b"id-1"
    assert processing(InputFilter="$[1:]").filter_input(b'x,"a,b",c') == b'"a,b",c'


def test_csv_join_appends_the_output_and_the_output_filter_picks_columns() -> None:
    joined = processing(InputFilter="$[1:]", JoinSource="Input")
    assert joined.per_record
    assert joined.finish(b"id-1,0.5,7", b"0.93", "text/csv") == b"id-1,0.5,7,0.93"
    assert joined.finish(b"id-1,0.5,7", b"0.1,0.9", "text/csv") == b"id-1,0.5,7,0.1,0.9"
    picked = processing(InputFilter="$[1:]", JoinSource="Input", OutputFilter="$[0,-1]")
    assert picked.finish(b"id-1,0.5,7", b"0.93", "text/csv") == b"id-1,0.93"


def test_csv_join_with_a_json_output_keeps_it_in_one_field() -> None:
    joined = processing(JoinSource="Input")
    assert joined.finish(b"1,2", b'{"score": 0.5, "label": 1}', "application/json") == b'1,2,"{""score"":0.5,""label"":1}"'


def test_json_input_filter_and_join_under_sagemaker_output() -> None:
    json_lines = processing("application/jsonlines", InputFilter="$.features", JoinSource="Input", OutputFilter="$['id','SageMakerOutput']")
    record = b'{"id": "r1", "features": [1, 2], "note": "x"}'
    assert json_lines.filter_input(record) == b"[1,2]"
    assert json.loads(json_lines.finish(record, b'{"score": 0.25}', "application/json")) == {
        "id": "r1",
        "SageMakerOutput": {"score": 0.25},
    }


def test_json_join_of_a_non_object_input_wraps_both() -> None:
    joined = processing("application/json", JoinSource="Input")
    assert json.loads(joined.finish(b"[1, 2]", b"0.5", "text/csv")) == {"SageMakerInput": [1, 2], "SageMakerOutput": 0.5}
    assert json.loads(joined.finish(b'{"a": 1}', b"0.1,0.9", "text/csv")) == {"a": 1, "SageMakerOutput": "0.1,0.9"}


def test_output_filter_without_join_applies_to_the_output() -> None:
    only = processing("application/json", OutputFilter="$.score")
    assert only.per_record
    assert only.finish(b'{"x": 1}', b'{"score": 0.75, "label": 1}', "application/json") == b"0.75"
    assert processing(OutputFilter="$[1]").finish(b"1,2", b"0.1,0.9", "text/csv") == b"0.9"


def test_records_that_do_not_fit_the_filters_fail() -> None:
    with pytest.raises(RecordError, match="index 5 is outside"):
        processing(InputFilter="$[5]").filter_input(b"1,2")
    with pytest.raises(RecordError, match="not valid JSON"):
        processing("application/json", InputFilter="$.a").filter_input(b"{broken")
    with pytest.raises(RecordError, match="no key 'id'"):
        processing("application/json", JoinSource="Input", OutputFilter="$.id").finish(b'{"x": 1}', b"1", "text/csv")
