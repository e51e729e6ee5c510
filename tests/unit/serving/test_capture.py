"""Data capture: the DataCaptureConfig, records field by field, object keys, and the writer
on a real S3 store (SQLite and blobs in a temporary directory)."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipyard.serving.capture import (
    CaptureConfig,
    CaptureWriter,
    iso_millis,
    object_key,
)
from shipyard.store.blobs import BlobStore
from shipyard.store.database import Database
from shipyard.store.objects import S3Store

BUCKET = "capture-bucket"
WHEN = datetime(2024, 5, 1, 12, 34, 56, 789_123, tzinfo=UTC)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def config(**overrides: object) -> dict:
    base = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{BUCKET}/captures/",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }
    return {**base, **overrides}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def s3(tmp_path: Path) -> AsyncIterator[S3Store]:
    database = Database(f"sqlite:///{tmp_path / 'capture.db'}", durable=False)
    database.migrate()
    blobs = BlobStore(tmp_path / "objects", durable=False)
    store = S3Store(database, blobs)
    await store.create_bucket(name=BUCKET, region="us-east-1", owner="111122223333")
    yield store
    await blobs.close()
    await database.close()


async def read_objects(s3: S3Store, prefix: str = "") -> dict[str, bytes]:
    listing = await s3.list_objects_v2(bucket=BUCKET, prefix=prefix)
    found = {}
    for summary in listing.objects:
        async with await s3.open_object(bucket=BUCKET, key=summary.key) as reader:
            found[summary.key] = b"".join([chunk async for chunk in reader.body()])
    return found


def test_parse_reads_destination_modes_and_content_types() -> None:
    parsed = CaptureConfig.parse(
        config(
            DestinationS3Uri="s3://bucket/a/b/",
            CaptureOptions=[{"CaptureMode": "Output"}],
            CaptureContentTypeHeader={"CsvContentTypes": ["Text/CSV"]},
            InitialSamplingPercentage=25,
        )
    )
    assert parsed is not None
    assert (parsed.bucket, parsed.prefix) == ("bucket", "a/b")
    assert (parsed.capture_input, parsed.capture_output) == (False, True)
    assert parsed.csv_types == {"text/csv"} and parsed.json_types == frozenset()
    assert parsed.percentage == 25
    assert CaptureConfig.parse(config(DestinationS3Uri="s3://bucket")).prefix == ""


def test_disabled_or_absent_capture_is_none() -> None:
    assert CaptureConfig.parse(None) is None
    assert CaptureConfig.parse(config(EnableCapture=False)) is None
    assert CaptureConfig.parse({k: v for k, v in config().items() if k != "EnableCapture"}) is not None


def test_sampling_takes_the_percentage() -> None:
    half = CaptureConfig.parse(config(InitialSamplingPercentage=50))
    assert half.sampled(lambda: 0.49) and not half.sampled(lambda: 0.5)
    assert not CaptureConfig.parse(config(InitialSamplingPercentage=0)).sampled(lambda: 0.0)
    assert CaptureConfig.parse(config(InitialSamplingPercentage=100)).sampled(lambda: 0.999)


def test_encoding_follows_the_content_type_headers() -> None:
    parsed = CaptureConfig.parse(config())
    assert parsed.encode(b"1,2,3\n", "text/csv") == ("1,2,3\n", "CSV")
    assert parsed.encode(b"1,2", "text/csv; charset=utf-8") == ("1,2", "CSV")
    assert parsed.encode(b'{"a": 1}', "application/json") == ('{"a": 1}', "JSON")
    assert parsed.encode(b"\x00\x01", "application/x-npy") == ("AAE=", "BASE64")
    # Declared CSV that is not UTF-8 text is kept as base64, losslessly.
    assert parsed.encode(b"\xff\xfe", "text/csv") == (base64.b64encode(b"\xff\xfe").decode(), "BASE64")


def test_without_content_type_headers_everything_is_base64() -> None:
    parsed = CaptureConfig.parse({k: v for k, v in config().items() if k != "CaptureContentTypeHeader"})
    assert parsed.encode(b"1,2", "text/csv") == ("MSwy", "BASE64")


def test_record_fields() -> None:
    parsed = CaptureConfig.parse(config())
    line = parsed.record(
        request=b"1,2,3",
        request_type="text/csv",
        response=b'{"predictions": [0.5]}',
        response_type="application/json",
        inference_id="req-1",
        time=WHEN,
    )
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    record = json.loads(line)
    assert list(record) == ["captureData", "eventMetadata", "eventVersion"]
    assert record["captureData"] == {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2,3", "encoding": "CSV"},
        "endpointOutput": {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "data": '{"predictions": [0.5]}',
            "encoding": "JSON",
        },
    }
    metadata = record["eventMetadata"]
    assert UUID.fullmatch(metadata["eventId"])
    assert metadata["inferenceId"] == "req-1"
    assert metadata["inferenceTime"] == "2024-05-01T12:34:56.789Z"
    assert record["eventVersion"] == "0"


def test_record_of_input_only_without_inference_id() -> None:
    parsed = CaptureConfig.parse(config(CaptureOptions=[{"CaptureMode": "Input"}]))

    def record() -> dict:
        line = parsed.record(
            request=b"\x01",
            request_type="application/octet-stream",
            response=b"x",
            response_type="text/csv",
            inference_id=None,
            time=WHEN,
        )
        return json.loads(line)

    first, second = record(), record()
    assert list(first["captureData"]) == ["endpointInput"]
    assert first["captureData"]["endpointInput"]["encoding"] == "BASE64"
    assert "inferenceId" not in first["eventMetadata"]
    assert first["eventMetadata"]["eventId"] != second["eventMetadata"]["eventId"]


def test_object_key_layout() -> None:
    assert object_key("pre/fix", "ep", "AllTraffic", WHEN, "u") == "pre/fix/ep/AllTraffic/2024/05/01/12/34-56-789-u.jsonl"
    assert object_key("", "ep", "v", WHEN, "u") == "ep/v/2024/05/01/12/34-56-789-u.jsonl"
    assert iso_millis(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05.000Z"


@pytest.mark.anyio
async def test_writer_puts_one_object_per_variant_and_hour(s3: S3Store) -> None:
    parsed = CaptureConfig.parse(config())
    writer = CaptureWriter(s3)
    later = WHEN.replace(hour=13, minute=0)
    writer.add(parsed, "ep", "a", b'{"n":1}\n', WHEN)
    writer.add(parsed, "ep", "a", b'{"n":2}\n', WHEN.replace(minute=59))
    writer.add(parsed, "ep", "b", b'{"n":3}\n', WHEN)
    writer.add(parsed, "ep", "a", b'{"n":4}\n', later)
    assert await read_objects(s3) == {}
    await writer.flush()
    objects = await read_objects(s3)
    assert len(objects) == 3
    by_dir = {key.rsplit("/", 1)[0]: (key.rsplit("/", 1)[1], body) for key, body in objects.items()}
    assert set(by_dir) == {"captures/ep/a/2024/05/01/12", "captures/ep/b/2024/05/01/12", "captures/ep/a/2024/05/01/13"}
    name, body = by_dir["captures/ep/a/2024/05/01/12"]
    assert re.fullmatch(r"34-56-789-" + UUID.pattern + r"\.jsonl", name)
    assert body == b'{"n":1}\n{"n":2}\n'
    assert by_dir["captures/ep/a/2024/05/01/13"][1] == b'{"n":4}\n'
    # A second flush with nothing buffered writes nothing more.
    await writer.flush()
    assert len(await read_objects(s3)) == 3


@pytest.mark.anyio
async def test_writer_logs_and_drops_what_it_cannot_write(s3: S3Store, caplog: pytest.LogCaptureFixture) -> None:
    writer = CaptureWriter(s3)
    writer.add(CaptureConfig.parse(config(DestinationS3Uri="s3://no-such-bucket/x")), "ep", "a", b"{}\n", WHEN)
    writer.add(CaptureConfig.parse(config()), "ep", "a", b"{}\n", WHEN)
    with caplog.at_level(logging.WARNING, logger="shipyard.serving.capture"):
        await writer.flush()
    assert "dropped 1 capture records for s3://no-such-bucket/x/ep/a/" in caplog.text
    assert len(await read_objects(s3)) == 1


@pytest.mark.anyio
async def test_writer_signals_when_its_buffer_is_full(s3: S3Store) -> None:
    writer = CaptureWriter(s3, max_buffer_bytes=10)
    parsed = CaptureConfig.parse(config())
    writer.add(parsed, "ep", "a", b"12345\n", WHEN)
    assert not writer.full.is_set()
    writer.add(parsed, "ep", "a", b"67890\n", WHEN)
    assert writer.full.is_set()
    await writer.flush()
    assert not writer.full.is_set()
