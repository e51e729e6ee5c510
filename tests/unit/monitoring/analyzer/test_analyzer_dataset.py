"""Reading datasets: CSV with and without header, JSON lines, captured traffic and its window."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipyard.monitoring.analyzer.dataset import (
    INPUT,
    OUTPUT,
    capture_table,
    read_capture,
    read_csv,
    read_json,
)
from shipyard.monitoring.analyzer.environment import (
    AnalyzerError,
    map_path,
    read_settings,
)
from shipyard.monitoring.analyzer.hooks import preprocessor
from shipyard.monitoring.analyzer.statistics import combined_type, value_type


def capture(event: str, inputs: str, output: str, when: str = "2026-12-06T10:00:00Z", **options) -> str:
    encoding = options.get("encoding", "CSV")
    content = options.get("content_type", "text/csv")
    record = {
        "captureData": {
            INPUT: {"observedContentType": content, "mode": "INPUT", "data": inputs, "encoding": encoding},
            OUTPUT: {"observedContentType": "text/csv", "mode": "OUTPUT", "data": output, "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": event, "inferenceTime": when, **options.get("metadata", {})},
        "eventVersion": "0",
    }
    return json.dumps(record)


def rows(table) -> list[list]:
    return [list(row) for row in table.itertuples(index=False)]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("12", "Integral"), ("-3", "Integral"), ("+7", "Integral"), ("1.5", "Fractional"), ("1e-3", "Fractional"),
     (".5", "Fractional"), ("NaN", "Fractional"), ("abc", "String"), ("1,5", "String"), ("true", "String")],
)
def test_value_types(text, kind):
    assert value_type(text) == kind


def test_a_feature_takes_the_widest_type_of_its_values():
    assert combined_type(Counter(Integral=5)) == "Integral"
    assert combined_type(Counter(Integral=5, Fractional=1)) == "Fractional"
    assert combined_type(Counter(Integral=5, String=1)) == "String"
    assert combined_type(Counter()) == "Unknown"


def test_csv_with_and_without_header(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "part1.csv").write_text("x,name\n1, ann\n,bob\n")
    (tmp_path / "a" / "part2.csv").write_text("x,name\n3,\n")
    named = read_csv(tmp_path / "a", header=True)
    assert list(named.columns) == ["x", "name"]
    assert rows(named) == [["1", "ann"], [None, "bob"], ["3", None]]
    (tmp_path / "b.csv").write_text("1,2.5,z\n4,,y\n")
    positional = read_csv(tmp_path / "b.csv", header=False)
    assert list(positional.columns) == ["_c0", "_c1", "_c2"]
    assert rows(positional) == [["1", "2.5", "z"], ["4", None, "y"]]


def test_json_lines_flatten_objects(tmp_path: Path):
    (tmp_path / "data.jsonl").write_text('{"a": 1, "b": {"c": "x"}}\n\n{"a": null, "b": {"c": true}, "d": 2.5}\n')
    table = read_json(tmp_path)
    assert list(table.columns) == ["a", "b.c", "d"]
    assert rows(table) == [["1", "x", None], [None, "true", "2.5"]]
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(AnalyzerError, match="bad.jsonl: line 1"):
        read_json(tmp_path)


def test_json_documents(tmp_path: Path):
    (tmp_path / "data.json").write_text('[\n  {"a": 1},\n  {"a": 2, "b": "z"}\n]\n')
    assert rows(read_json(tmp_path, lines=False)) == [["1", None], ["2", "z"]]


def test_capture_rows_put_the_output_first_and_keep_the_window(tmp_path: Path):
    folder = tmp_path / "ep" / "AllTraffic" / "2026" / "12" / "06" / "10"
    folder.mkdir(parents=True)
    lines = [
        capture("e1", "1.5,2,red", "0.9", "2026-12-06T09:59:59Z"),
        capture("e2", "2.5,3,blue", "0.1", "2026-12-06T10:00:00.000Z"),
        capture("e3", "3.5,4,green\n4.5,5,red", "0.2\n0.3", "2026-12-06T10:30:00Z"),
        capture("e4", "9,9,x", "1", "2026-12-06T11:00:00Z"),
        "not a capture record",
    ]
    (folder / "capture.jsonl").write_text("\n".join(lines) + "\n")
    start, end = datetime(2026, 12, 6, 10, tzinfo=UTC), datetime(2026, 12, 6, 11, tzinfo=UTC)
    records = read_capture(tmp_path, start, end)
    assert [record.event_id for record in records] == ["e2", "e3"]
    table = capture_table(records, [INPUT, OUTPUT])
    assert rows(table) == [["0.1", "2.5", "3", "blue"], ["0.2", "3.5", "4", "green"], ["0.3", "4.5", "5", "red"]]
    assert rows(capture_table(records, [INPUT])) == [["2.5", "3", "blue"], ["3.5", "4", "green"], ["4.5", "5", "red"]]


def test_capture_json_and_base64_inputs(tmp_path: Path):
    lines = [
        capture("j", json.dumps({"instances": [[1, 2], [3, 4]]}), "0.5,0.6", encoding="JSON", content_type="application/json"),
        capture("b", base64.b64encode(b"7,8").decode(), "0.7", encoding="BASE64"),
        capture("o", json.dumps({"age": 30, "city": "lima"}), "1", encoding="JSON", content_type="application/json"),
    ]
    (tmp_path / "c.jsonl").write_text("\n".join(lines))
    records = read_capture(tmp_path)
    assert rows(capture_table(records[:2], [INPUT, OUTPUT])) == [["0.5", "1", "2"], ["0.6", "3", "4"], ["0.7", "7", "8"]]
    named = capture_table(records[2:], [INPUT, OUTPUT])
    assert dict(zip(named.columns, rows(named)[0], strict=True)) == {"_c0": "1", "age": "30", "city": "lima"}


def test_the_record_preprocessor_makes_the_rows(tmp_path: Path):
    script = tmp_path / "pre.py"
    script.write_text(
        "def preprocess_handler(inference_record):\n"
        "    if inference_record.event_metadata.event_id == 'skip':\n"
        "        return []\n"
        "    values = inference_record.endpoint_input.data.split(',')\n"
        "    return {'out': inference_record.endpoint_output.data, 'first': values[0]}\n"
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c.jsonl").write_text(capture("a", "1,2", "0.5") + "\n" + capture("skip", "3,4", "0.1") + "\n")
    table = capture_table(read_capture(tmp_path / "data"), [INPUT], preprocessor(script))
    assert list(table.columns) == ["out", "first"] and rows(table) == [["0.5", "1"]]
    (tmp_path / "broken.py").write_text("def preprocess_handler(record):\n    raise ValueError('nope')\n")
    with pytest.raises(AnalyzerError, match="preprocess_handler failed on event a"):
        capture_table(read_capture(tmp_path / "data"), [INPUT], preprocessor(tmp_path / "broken.py"))


def test_settings_map_opt_ml_paths_and_reject_bad_values(tmp_path: Path):
    env = {
        "dataset_format": '{"csv": {"header": true}}',
        "dataset_source": "/opt/ml/processing/input/data",
        "output_path": "/opt/ml/processing/output",
        "baseline_statistics": "/elsewhere/statistics.json",
        "start_time": "2026-12-06T10:00:00Z",
        "publish_cloudwatch_metrics": "Enabled",
    }
    settings = read_settings(env, tmp_path)
    assert settings.dataset_source == tmp_path / "processing" / "input" / "data"
    assert settings.baseline_statistics == Path("/elsewhere/statistics.json")
    assert settings.start_time == datetime(2026, 12, 6, 10, tzinfo=UTC)
    assert settings.publish_metrics and settings.is_execution
    assert map_path("/opt/mlx/a", tmp_path) == Path("/opt/mlx/a")
    with pytest.raises(AnalyzerError, match="dataset_source"):
        read_settings({"output_path": "/tmp/x"}, tmp_path)
    with pytest.raises(AnalyzerError, match="start_time"):
        read_settings({**env, "start_time": "yesterday"}, tmp_path)
    with pytest.raises(AnalyzerError, match="analysis_type"):
        read_settings({**env, "analysis_type": "MODEL_BIAS"}, tmp_path)
