"""Data capture through boto3: an endpoint config's DataCaptureConfig makes InvokeEndpoint write
SageMaker's JSON-lines capture records to S3, checked field by field, written every few
seconds while the server runs and in full when it stops cleanly."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shipyard.testing import RunningServer, start_server
from shipyard.testing.hosting import (
    create_model,
    deploy,
    upload,
    variant,
    xgboost_model,
)
from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import sagemaker_role

PREFIX = "monitoring/capture"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own (it is restarted at the end) that writes captures every 2 seconds."""
    env = {"SHIPYARD_CPUS": "32", "SHIPYARD_MEMORY": "131072", "SHIPYARD_CAPTURE_FLUSH_SECONDS": "2"}
    with start_server(tmp_path_factory.mktemp("capture"), extra_env=env) as running:
        yield running


@pytest.fixture(scope="module")
def setup(server: RunningServer) -> dict[str, str]:
    """A bucket, two XGBoost models, and three endpoints with data capture:
    ``captured`` (variants A and B; requests and responses, CSV and JSON as text),
    ``input_only`` (requests, as base64) and ``lost`` (into a bucket that does not exist)."""
    sagemaker = server.client("sagemaker")
    bucket = unique_name("capture")
    server.client("s3").create_bucket(Bucket=bucket)
    role = sagemaker_role(server)
    names = {"bucket": bucket}
    for label, seed in (("first", 0), ("second", 1)):
        archive, _ = xgboost_model(seed=seed)
        names[label] = unique_name(label)
        create_model(sagemaker, names[label], role, upload(server, bucket, f"{label}/model.tar.gz", archive))

    def capture(destination: str, modes: list[str], **extra: Any) -> dict[str, Any]:
        return {
            "DataCaptureConfig": {
                "EnableCapture": True,
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": destination,
                "CaptureOptions": [{"CaptureMode": mode} for mode in modes],
                **extra,
            }
        }

    text_types = {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}
    endpoints = {
        "captured": (
            [variant("A", names["first"]), variant("B", names["second"])],
            capture(f"s3://{bucket}/{PREFIX}", ["Input", "Output"], CaptureContentTypeHeader=text_types),
        ),
        "input_only": ([variant("AllTraffic", names["first"])], capture(f"s3://{bucket}/input-only/", ["Input"])),
        "lost": ([variant("AllTraffic", names["first"])], capture("s3://no-such-capture-bucket/x", ["Input"])),
    }
    for label, (variants, config) in endpoints.items():
        names[label] = unique_name(label.replace("_", "-"))
        deploy(sagemaker, names[label], variants, **config)
    return names


def row(n: int) -> str:
    return f"{n / 10},1.0,-0.3,{n}"


def captured_records(server: RunningServer, bucket: str, prefix: str) -> dict[str, list[dict]]:
    """Every capture record under ``prefix``, by object key."""
    s3 = server.client("s3")
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
            assert body.endswith("\n")
            found[item["Key"]] = [json.loads(line) for line in body.splitlines()]
    return found


def wait_for_records(server: RunningServer, bucket: str, prefix: str, count: int) -> dict[str, list[dict]]:
    deadline = time.monotonic() + 20
    while True:
        found = captured_records(server, bucket, prefix)
        if sum(map(len, found.values())) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def test_records_are_sagemakers_field_by_field(server: RunningServer, setup: dict[str, str]) -> None:
    runtime = server.client("sagemaker-runtime")
    endpoint = setup["captured"]
    calls = {}
    began = datetime.now(UTC).replace(microsecond=0)
    for n in range(12):
        extra: dict[str, Any] = {"TargetVariant": "AB"[n % 2]}
        if n % 3:
            extra["InferenceId"] = f"inference-{n}"
        if n % 4 == 0:
            body = json.dumps({"instances": [{"features": [float(v) for v in row(n).split(",")]}]})
            content_type = "application/json"
        else:
            body, content_type = row(n), "text/csv"
        answer = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType=content_type, Accept=content_type, Body=body, **extra
        )
        calls[body] = (
            answer["InvokedProductionVariant"],
            content_type,
            answer["ContentType"],
            answer["Body"].read().decode(),
            extra,
        )
    ended = datetime.now(UTC)

    # Written in the background while the server runs: no stop needed to see them.
    objects = wait_for_records(server, setup["bucket"], f"{PREFIX}/", len(calls))
    hour = began.strftime("%Y/%m/%d/%H")
    key_format = re.compile(rf"{PREFIX}/{endpoint}/(A|B)/(\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}})/\d{{2}}-\d{{2}}-\d{{3}}-{UUID}\.jsonl")
    seen_ids = set()
    matched = 0
    for key, records in objects.items():
        found = key_format.fullmatch(key)
        assert found, key
        key_variant, key_hour = found.groups()
        assert key_hour in (hour, ended.strftime("%Y/%m/%d/%H"))
        for record in records:
            assert list(record) == ["captureData", "eventMetadata", "eventVersion"]
            assert record["eventVersion"] == "0"
            request, response = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
            invoked, content_type, answer_type, answer, extra = calls[request["data"]]
            encoding = "JSON" if content_type == "application/json" else "CSV"
            assert key_variant == invoked
            assert request == {"observedContentType": content_type, "mode": "INPUT", "data": request["data"], "encoding": encoding}
            assert response == {"observedContentType": answer_type, "mode": "OUTPUT", "data": answer, "encoding": encoding}
            metadata = record["eventMetadata"]
            assert re.fullmatch(UUID, metadata["eventId"])
            assert metadata["eventId"] not in seen_ids
            seen_ids.add(metadata["eventId"])
            assert metadata.get("inferenceId") == extra.get("InferenceId")
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", metadata["inferenceTime"])
            inferred = datetime.strptime(metadata["inferenceTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            assert began <= inferred <= ended
            matched += 1
    assert matched == len(calls)
    assert {key.split("/")[3] for key in objects} == {"A", "B"}


def test_input_only_capture_keeps_payloads_of_unlisted_types_as_base64(
    server: RunningServer, setup: dict[str, str]
) -> None:
    runtime = server.client("sagemaker-runtime")
    rows = {row(n) for n in range(100, 103)}
    for body in rows:
        runtime.invoke_endpoint(EndpointName=setup["input_only"], ContentType="text/csv", Body=body)
    objects = wait_for_records(server, setup["bucket"], "input-only/", len(rows))
    records = [record for batch in objects.values() for record in batch]
    assert all(key.startswith(f"input-only/{setup['input_only']}/AllTraffic/") for key in objects)
    assert [list(record["captureData"]) for record in records] == [["endpointInput"]] * len(rows)
    inputs = [record["captureData"]["endpointInput"] for record in records]
    assert {item["encoding"] for item in inputs} == {"BASE64"}
    assert {base64.b64decode(item["data"]).decode() for item in inputs} == rows
    assert all("inferenceId" not in record["eventMetadata"] for record in records)


def test_a_capture_bucket_that_does_not_exist_never_fails_invocations(
    server: RunningServer, setup: dict[str, str]
) -> None:
    runtime = server.client("sagemaker-runtime")

    def invoke(n: int) -> float:
        return float(runtime.invoke_endpoint(EndpointName=setup["lost"], ContentType="text/csv", Body=row(n))["Body"].read())

    assert all(0.0 <= invoke(n) <= 1.0 for n in range(5))
    warning = f" capture records for s3://no-such-capture-bucket/x/{setup['lost']}/AllTraffic/"
    deadline = time.monotonic() + 20
    while warning not in server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert warning in server.log_path.read_text()
    # The writer lives on after a failed write.
    assert 0.0 <= invoke(9) <= 1.0


def test_a_clean_stop_writes_everything_captured(server: RunningServer, setup: dict[str, str]) -> None:
    """Runs last: it restarts the module's server."""
    runtime = server.client("sagemaker-runtime")
    ids = {f"stop-{n}" for n in range(30)}
    for inference_id in sorted(ids):
        runtime.invoke_endpoint(EndpointName=setup["captured"], ContentType="text/csv", Body=row(7), InferenceId=inference_id)
    server.restart()
    objects = captured_records(server, setup["bucket"], f"{PREFIX}/")
    written = [record["eventMetadata"].get("inferenceId") for batch in objects.values() for record in batch]
    assert sorted(inference_id for inference_id in written if inference_id in ids) == sorted(ids)
