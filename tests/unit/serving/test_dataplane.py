"""The data plane against a small asyncio server standing in for a worker, with a real S3
store and metric store: what close() writes, retries, and the errors it answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shipyard.errors import AwsError
from shipyard.monitoring.metric_store import MINUTE_MS, MetricKey, MetricStore
from shipyard.serving.dataplane import DataPlane, Invocation
from shipyard.serving.routes import EndpointRoute, InstanceRoute, VariantRoute
from shipyard.store.blobs import BlobStore
from shipyard.store.database import Database
from shipyard.store.objects import S3Store
from shipyard.testing.server import free_port

BUCKET = "captures"
CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 100,
    "DestinationS3Uri": f"s3://{BUCKET}/dp",
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[S3Store, MetricStore]]:
    database = Database(f"sqlite:///{tmp_path / 'dp.db'}", durable=False)
    database.migrate()
    blobs = BlobStore(tmp_path / "objects", durable=False)
    s3 = S3Store(database, blobs)
    await s3.create_bucket(name=BUCKET, region="us-east-1", owner="111122223333")
    yield s3, MetricStore(database)
    await blobs.close()
    await database.close()


@pytest.fixture
async def worker() -> AsyncIterator[str]:
    """A worker that answers 200 with the body reversed, or 400 for a body "bad"."""

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            except asyncio.IncompleteReadError:
                break
            length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            body = await reader.readexactly(length)
            status, answer = (400, b"no good") if body == b"bad" else (200, body[::-1])
            writer.write(
                f"HTTP/1.1 {status} X\r\ncontent-type: text/csv\r\ncontent-length: {len(answer)}\r\n\r\n".encode()
                + answer
            )
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    async with server:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def route(*urls: str, capture: dict | None = None) -> EndpointRoute:
    instances = tuple(InstanceRoute(f"i-{n}", url, f"AllTraffic/i-{n}") for n, url in enumerate(urls))
    return EndpointRoute(
        name="ep",
        arn="arn:aws:sagemaker:us-east-1:111122223333:endpoint/ep",
        status="InService",
        variants=(VariantRoute("AllTraffic", 1.0, instances),),
        data_capture=capture,
        log_group="/aws/sagemaker/Endpoints/ep",
    )


def call(body: bytes) -> Invocation:
    return Invocation(region="us-east-1", account_id="111122223333", body=body, content_type="text/csv")


@pytest.mark.anyio
async def test_close_writes_what_was_captured_and_measured(stores: tuple[S3Store, MetricStore], worker: str) -> None:
    s3, metrics = stores
    plane = DataPlane(s3=s3, metrics=metrics, capture_flush_seconds=3600, metrics_flush_seconds=3600)
    await plane.start()
    served = route(worker, capture=CAPTURE)
    for body in (b"1,2", b"3,4"):
        result = await plane.invoke(served, call(body))
        assert (result.body, result.content_type, result.variant) == (body[::-1], "text/csv", "AllTraffic")
    assert (await s3.list_objects_v2(bucket=BUCKET)).objects == []
    await plane.close()

    (summary,) = (await s3.list_objects_v2(bucket=BUCKET, prefix="dp/ep/AllTraffic/")).objects
    async with await s3.open_object(bucket=BUCKET, key=summary.key) as reader:
        lines = b"".join([chunk async for chunk in reader.body()]).splitlines()
    inputs = [json.loads(line)["captureData"]["endpointInput"]["data"] for line in lines]
    assert inputs == ["1,2", "3,4"]
    key = MetricKey("us-east-1", "AWS/SageMaker", "Invocations", (("EndpointName", "ep"), ("VariantName", "AllTraffic")))
    (minute,) = await metrics.minutes(key, 0, 2**62)
    assert minute.aggregate.sum == 2 and minute.timestamp_ms % MINUTE_MS == 0


@pytest.mark.anyio
async def test_a_refused_instance_is_skipped_and_none_left_is_unavailable(
    stores: tuple[S3Store, MetricStore], worker: str
) -> None:
    plane = DataPlane(s3=stores[0], metrics=stores[1])
    dead = f"http://127.0.0.1:{free_port()}"
    served = route(dead, worker)
    for _ in range(4):
        assert (await plane.invoke(served, call(b"ab"))).body == b"ba"
    with pytest.raises(AwsError) as unavailable:
        await plane.invoke(route(dead), call(b"ab"))
    assert (unavailable.value.code, unavailable.value.status) == ("ServiceUnavailable", 503)
    with pytest.raises(AwsError) as nothing:
        await plane.invoke(route(), call(b"ab"))
    assert nothing.value.code == "ServiceUnavailable"
    await plane.close()


@pytest.mark.anyio
async def test_a_model_error_carries_the_models_answer(stores: tuple[S3Store, MetricStore], worker: str) -> None:
    plane = DataPlane(s3=stores[0], metrics=stores[1])
    with pytest.raises(AwsError) as failed:
        await plane.invoke(route(worker, capture=CAPTURE), call(b"bad"))
    error = failed.value
    assert (error.code, error.status) == ("ModelError", 424)
    assert error.message == (
        'Received client error (400) from primary with message "no good". See /aws/sagemaker/Endpoints/ep in'
        " account 111122223333 for more information."
    )
    assert error.fields == {
        "OriginalStatusCode": "400",
        "OriginalMessage": "no good",
        "LogStreamArn": "arn:aws:logs:us-east-1:111122223333:log-group:/aws/sagemaker/Endpoints/ep:log-stream:AllTraffic/i-0",
    }
    with pytest.raises(AwsError) as unknown:
        await plane.invoke(route(worker), Invocation("us-east-1", "1", b"x", "text/csv", target_variant="Nope"))
    assert unknown.value.code == "ValidationError"
    await plane.close()
    # A failed invocation is not captured.
    assert (await stores[0].list_objects_v2(bucket=BUCKET)).objects == []


@pytest.mark.anyio
async def test_a_model_that_does_not_answer_in_time_is_a_model_error(stores: tuple[S3Store, MetricStore]) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        await asyncio.sleep(5)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    async with server:
        plane = DataPlane(s3=stores[0], metrics=stores[1], invocation_timeout=0.2)
        with pytest.raises(AwsError) as late:
            await plane.invoke(route(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"), call(b"x"))
        await plane.close()
    assert (late.value.code, late.value.status) == ("ModelError", 424)
    assert late.value.message.startswith("Your invocation timed out while waiting for a response from container primary.")
    key = MetricKey(
        "us-east-1", "AWS/SageMaker", "InvocationModelErrors", (("EndpointName", "ep"), ("VariantName", "AllTraffic"))
    )
    (minute,) = await stores[1].minutes(key, 0, 2**62)
    assert minute.aggregate.sum == 1
