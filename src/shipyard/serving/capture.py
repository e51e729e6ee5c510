"""Data capture: sampled invocations written to S3 as SageMaker's JSON-lines capture records.

An endpoint config's ``DataCaptureConfig`` picks the share of invocations to capture
(``InitialSamplingPercentage``), what of them (``CaptureOptions``: the request, the
response, or both) and how to encode the payloads (``CaptureContentTypeHeader``: CSV and
JSON content types are kept as text, everything else as base64). Each captured invocation
is one line::

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                       "data": "1,2,3", "encoding": "CSV"},
                     "endpointOutput": {...}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceId": "...",
                       "inferenceTime": "2024-05-01T12:00:00.123Z"},
     "eventVersion": "0"}

Records are buffered in memory (invocations never wait on S3) and written, one object per
endpoint, variant and hour, to
``{DestinationS3Uri}/{endpoint}/{variant}/yyyy/mm/dd/hh/{MM-SS-mmm}-{uuid}.jsonl``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipyard.errors import AwsError
from shipyard.store.objects import S3Store
from shipyard.store.s3types import ObjectMeta

log = logging.getLogger("shipyard.serving.capture")

CSV, JSON, BASE64 = "CSV", "JSON", "BASE64"


@dataclass(frozen=True)
class CaptureConfig:
    """A ``DataCaptureConfig`` that captures something, ready to apply."""

    percentage: float
    bucket: str
    #: The key prefix inside ``bucket`` (no leading or trailing ``/``; may be empty).
    prefix: str
    capture_input: bool
    capture_output: bool
    csv_types: frozenset[str]
    json_types: frozenset[str]

    @classmethod
    def parse(cls, config: Mapping[str, Any] | None) -> CaptureConfig | None:
        """The capture a ``DataCaptureConfig`` asks for; None if it captures nothing."""
        if not config or not config.get("EnableCapture", True):
            return None
        modes = {option.get("CaptureMode") for option in config.get("CaptureOptions", ())}
        bucket, _, prefix = config["DestinationS3Uri"].removeprefix("s3://").partition("/")
        headers = config.get("CaptureContentTypeHeader") or {}
        return cls(
            percentage=float(config.get("InitialSamplingPercentage", 0)),
            bucket=bucket,
            prefix=prefix.strip("/"),
            capture_input="Input" in modes,
            capture_output="Output" in modes,
            csv_types=frozenset(_media_type(t) for t in headers.get("CsvContentTypes", ())),
            json_types=frozenset(_media_type(t) for t in headers.get("JsonContentTypes", ())),
        )

    def sampled(self, uniform: Callable[[], float] = random.random) -> bool:
        """Whether to capture one more invocation (``percentage`` of them on average)."""
        return uniform() * 100 < self.percentage

    def encode(self, data: bytes, content_type: str) -> tuple[str, str]:
        """``(data, encoding)`` of a payload: text for CSV and JSON types, else base64."""
        media = _media_type(content_type)
        encoding = CSV if media in self.csv_types else JSON if media in self.json_types else BASE64
        if encoding != BASE64:
            try:
                return data.decode("utf-8"), encoding
            except UnicodeDecodeError:
                pass
        return base64.b64encode(data).decode("ascii"), BASE64

    def record(
        self,
        *,
        request: bytes,
        request_type: str,
        response: bytes,
        response_type: str,
        inference_id: str | None,
        time: datetime,
    ) -> bytes:
        """One capture record as a JSON line (with its newline)."""
        capture: dict[str, Any] = {}
        if self.capture_input:
            capture["endpointInput"] = self._payload("INPUT", request, request_type)
        if self.capture_output:
            capture["endpointOutput"] = self._payload("OUTPUT", response, response_type)
        metadata = {"eventId": str(uuid.uuid4())}
        if inference_id:
            metadata["inferenceId"] = inference_id
        metadata["inferenceTime"] = iso_millis(time)
        document = {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"

    def _payload(self, mode: str, data: bytes, content_type: str) -> dict[str, str]:
        text, encoding = self.encode(data, content_type)
        return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def iso_millis(time: datetime) -> str:
    """``2024-05-01T12:00:00.123Z`` (``time`` in UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time.microsecond // 1000:03d}Z"


def object_key(prefix: str, endpoint: str, variant: str, time: datetime, name: str) -> str:
    """``{prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/{MM-SS-mmm}-{name}.jsonl`` for a file begun at ``time``."""
    stamp = time.strftime("%Y/%m/%d/%H/%M-%S-") + f"{time.microsecond // 1000:03d}"
    key = f"{endpoint}/{variant}/{stamp}-{name}.jsonl"
    return f"{prefix}/{key}" if prefix else key


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


@dataclass
class _Batch:
    """Records bound for one object."""

    bucket: str
    key: str
    lines: list[bytes] = field(default_factory=list)


class CaptureWriter:
    """Buffers capture records and writes them to S3, one object per batch.

    ``flush`` writes everything buffered; the owner calls it every so often and at
    shutdown. A batch that cannot be written (its bucket is gone) is logged and dropped:
    capture never fails an invocation. ``full`` is set once ``max_buffer_bytes`` are
    waiting, for an owner that wants to flush early.
    """

    def __init__(self, s3: S3Store, *, max_buffer_bytes: int = 8 * 1024 * 1024) -> None:
        self._s3 = s3
        self._batches: dict[tuple[str, str, str, str, str], _Batch] = {}
        self._buffered = 0
        self._max_buffer_bytes = max_buffer_bytes
        self._lock = asyncio.Lock()
        self.full = asyncio.Event()

    def add(self, config: CaptureConfig, endpoint: str, variant: str, line: bytes, time: datetime) -> None:
        """Buffer one record of an invocation of ``endpoint``'s ``variant`` made at ``time``."""
        hour = time.strftime("%Y%m%d%H")
        slot = (config.bucket, config.prefix, endpoint, variant, hour)
        batch = self._batches.get(slot)
        if batch is None:
            key = object_key(config.prefix, endpoint, variant, time, str(uuid.uuid4()))
            batch = self._batches[slot] = _Batch(config.bucket, key)
        batch.lines.append(line)
        self._buffered += len(line)
        if self._buffered >= self._max_buffer_bytes:
            self.full.set()

    async def flush(self) -> None:
        """Write every buffered batch as one object each."""
        async with self._lock:
            batches, self._batches = self._batches, {}
            self._buffered = 0
            self.full.clear()
            for batch in batches.values():
                try:
                    await self._s3.put_object(
                        bucket=batch.bucket,
                        key=batch.key,
                        body=_chunks(batch.lines),
                        meta=ObjectMeta(content_type="application/jsonl"),
                    )
                except AwsError as error:
                    log.warning(
                        "dropped %d capture records for s3://%s/%s: %s",
                        len(batch.lines),
                        batch.bucket,
                        batch.key,
                        error.message,
                    )
                except Exception:  # capture must never fail invocations nor stop the writer
                    log.exception("dropped %d capture records for s3://%s/%s", len(batch.lines), batch.bucket, batch.key)


async def _chunks(lines: list[bytes]) -> AsyncIterator[bytes]:
    yield b"".join(lines)
