"""A batch transform job's host: the model's server, this host's share of the input
objects sent through it, and one ``.out`` object per input object.

Hosts share the input objects by key order, round-robin (as ``ShardedByS3Key``). Each
object is split into records, the records are sent in requests (``MaxConcurrentTransforms``
at a time) and the answers are written in the records' order; the ``.out`` object is
uploaded once its whole input went through (SageMaker never uploads a partial one). An
object that fails does not stop the others; the job fails with the first failure.
"""

from __future__ import annotations

import gzip
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from shipyard.jobs import artifacts
from shipyard.jobs.context import Job
from shipyard.jobs.errors import ClientError, JobFailure, StopRequested
from shipyard.jobs.inputs import DataSource, Who, list_objects
from shipyard.jobs.jsonpath import JsonPathError
from shipyard.jobs.s3 import S3Error, join_uri, parse_uri
from shipyard.jobs.spec import HostResult
from shipyard.jobs.transform_model import ModelRefused, ModelSettings, TransformModel
from shipyard.jobs.transform_records import (
    DataProcessing,
    RecordError,
    assemble,
    batch_records,
    request_body,
    split_records,
    split_response,
)

SPLIT_TYPES = ("None", "Line")
DEFAULT_MAX_PAYLOAD_MB = 6
DEFAULT_TIMEOUT_SECONDS = 600
DEFAULT_RETRIES = 3
#: ``SAGEMAKER_BATCH_STRATEGY`` as SageMaker's containers read it.
STRATEGY_VARIABLES = {"MultiRecord": "MULTI_RECORD", "SingleRecord": "SINGLE_RECORD"}
#: Requests in flight (or answered, waiting to be written in order) per concurrent transform.
WINDOW_PER_TRANSFORM = 2
SCRATCH = "transform"


@dataclass(frozen=True)
class TransformSettings:
    """What the job's request asks for, with SageMaker's defaults."""

    source: DataSource
    split_type: str
    multi: bool
    max_payload_mb: int
    gzip: bool
    output_path: str
    assemble_with: str
    processing: DataProcessing
    model: ModelSettings

    @classmethod
    def from_request(cls, request: dict[str, Any]) -> TransformSettings:
        """From a ``CreateTransformJob`` request (``ClientError`` for what Shipyard cannot do)."""
        given = request["TransformInput"]
        output = request["TransformOutput"]
        split_type = given.get("SplitType") or "None"
        if split_type not in SPLIT_TYPES:
            raise ClientError(f"SplitType {split_type} is not supported by Shipyard; use Line or None.")
        s3_source = given["DataSource"]["S3DataSource"]
        strategy = request.get("BatchStrategy") or "MultiRecord"
        max_payload = int(request.get("MaxPayloadInMB", DEFAULT_MAX_PAYLOAD_MB))
        concurrency = int(request.get("MaxConcurrentTransforms") or 1)
        client = request.get("ModelClientConfig") or {}
        try:
            processing = DataProcessing.from_request(request.get("DataProcessing"), given.get("ContentType"))
        except JsonPathError as error:
            raise ClientError(f"DataProcessing: {error}.") from None
        environment = {
            **{str(name): str(value) for name, value in (request.get("Environment") or {}).items()},
            "SAGEMAKER_BATCH": "true",
            "SAGEMAKER_MAX_PAYLOAD_IN_MB": str(max_payload),
            "SAGEMAKER_BATCH_STRATEGY": STRATEGY_VARIABLES[strategy],
            "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": str(concurrency),
        }
        return cls(
            source=DataSource(s3_source["S3Uri"], s3_source.get("S3DataType", "S3Prefix"), "ShardedByS3Key"),
            split_type=split_type,
            multi=strategy == "MultiRecord" and split_type != "None",
            max_payload_mb=max_payload,
            gzip=given.get("CompressionType") == "Gzip",
            output_path=output["S3OutputPath"],
            assemble_with=output.get("AssembleWith") or "None",
            processing=processing,
            model=ModelSettings(
                environment=environment,
                content_type=given.get("ContentType"),
                accept=output.get("Accept"),
                concurrency=concurrency,
                timeout=float(client.get("InvocationsTimeoutInSeconds") or DEFAULT_TIMEOUT_SECONDS),
                retries=int(client.get("InvocationsMaxRetries", DEFAULT_RETRIES)),
            ),
        )


def run_transform(job: Job) -> HostResult:
    """Transform this host's share of the input; the result to write."""
    spec = job.spec
    try:
        with job.stop.interrupting():
            settings = TransformSettings.from_request(spec.request)
            who = Who(spec.host, spec.hosts, spec.region, spec.model.get("role_arn", ""))
            items = list_objects(job.s3, settings.source, who)
            job.log.info(f"This instance transforms {len(items)} of the input objects under {settings.source.uri}")
            if not items:
                return HostResult("Completed")
            with TransformModel(job, settings.model) as model:
                failures = []
                for item in items:
                    try:
                        _transform_object(job, settings, model, item)
                    except JobFailure as failure:
                        job.log.info(str(failure))
                        failures.append(failure)
                if failures:
                    raise failures[0]
    except JobFailure as failure:
        return HostResult("Failed", failure_reason=str(failure))
    except StopRequested:
        return HostResult("Stopped")
    return HostResult("Completed")


def _transform_object(job: Job, settings: TransformSettings, model: TransformModel, item: tuple[str, str, str]) -> None:
    bucket, key, relative = item
    uri = f"s3://{bucket}/{key}"
    target = join_uri(settings.output_path, f"{relative}.out")
    scratch = job.host_dir / SCRATCH
    scratch.mkdir(exist_ok=True)
    source, output = scratch / "input", scratch / "output"
    try:
        try:
            job.s3.download(bucket, key, source)
        except S3Error as error:
            raise ClientError(f'Failed to download the input object "{uri}": {error}.') from None
        opener = gzip.open if settings.gzip else open
        try:
            with opener(source, "rb") as stream, output.open("wb") as written:
                count = _transform_records(settings, model, split_records(stream, settings.split_type), written)
        except RecordError as error:
            raise ClientError(f"{uri}: {error}.") from None
        except (OSError, EOFError) as error:
            what = "a gzip file" if settings.gzip else "readable"
            raise ClientError(f"The input object {uri} is not {what}: {error}.") from None
        try:
            job.s3.upload(output, *parse_uri(target))
        except S3Error as error:
            raise artifacts.upload_failure(f"the output of {uri}", target, error, job.spec.model.get("role_arn", "")) from None
        job.log.info(f"Transformed {uri} ({count} records) into {target}")
    finally:
        source.unlink(missing_ok=True)
        output.unlink(missing_ok=True)


def _transform_records(settings: TransformSettings, model: TransformModel, records: Iterable[bytes], out: IO[bytes]) -> int:
    """Send ``records`` through the model and write the outputs to ``out`` in order; how many."""
    processing = settings.processing
    # The records as read, for the requests not yet written (to join outputs with).
    originals: deque[bytes] = deque()

    def filtered() -> Iterator[bytes]:
        for record in records:
            if processing.per_record:
                originals.append(record)
            yield processing.filter_input(record)

    pending: deque[tuple[int, list[bytes], int, Future[tuple[bytes, str]]]] = deque()
    window = WINDOW_PER_TRANSFORM * settings.model.concurrency
    pool = ThreadPoolExecutor(settings.model.concurrency, thread_name_prefix="invoke")
    count = 0
    try:
        for batch in batch_records(filtered(), settings.multi, settings.max_payload_mb):
            inputs = [originals.popleft() for _ in batch] if processing.per_record else []
            future = pool.submit(model.invoke, request_body(batch, settings.split_type))
            pending.append((count + 1, inputs, len(batch), future))
            count += len(batch)
            if len(pending) >= window:
                _write(settings, *pending.popleft(), out)
        while pending:
            _write(settings, *pending.popleft(), out)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return count


def _write(
    settings: TransformSettings, first: int, inputs: list[bytes], size: int, answer: Future[tuple[bytes, str]], out: IO[bytes]
) -> None:
    """Write the outputs of the request of records ``first`` .. ``first + size - 1``."""
    try:
        body, content_type = answer.result()
    except ModelRefused as error:
        records = f"record {first}" if size == 1 else f"records {first}-{first + size - 1}"
        if error.status:
            raise RecordError(f"the model answered {error.status} to {records}: {error.message}") from None
        raise RecordError(f"{records}: {error.message}") from None
    processing = settings.processing
    if not processing.per_record:
        out.write(assemble(body, settings.assemble_with))
        return
    for record, output in zip(inputs, split_response(body, content_type, size), strict=True):
        out.write(assemble(processing.finish(record, output, content_type), settings.assemble_with))
