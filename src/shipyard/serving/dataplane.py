"""The data plane: one ``InvokeEndpoint`` from a published route to the model's answer.

:class:`DataPlane` picks the variant and instance (:mod:`~shipyard.serving.balancer`),
forwards the request to the worker's ``POST /invocations`` over kept-alive connections
(:mod:`~shipyard.serving.worker_client`), and on the way back records the invocation's
metrics (:mod:`~shipyard.serving.invocation_metrics`) and, when the endpoint captures data,
a capture record (:mod:`~shipyard.serving.capture`). Both are buffered in memory and
written in the background every few seconds, and everything buffered is written by
:meth:`DataPlane.close`.

Errors are SageMaker Runtime's: a model that answers 4xx/5xx is ``ModelError`` (424) with
the model's status and message; no reachable instance is ``ServiceUnavailable`` (503),
which SDKs retry.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from shipyard.errors import AwsError
from shipyard.logs import group_arn
from shipyard.monitoring.buffer import MetricBuffer
from shipyard.monitoring.metric_store import MetricStore
from shipyard.serving.balancer import Balancer, UnknownVariant
from shipyard.serving.capture import CaptureConfig, CaptureWriter
from shipyard.serving.invocation_metrics import InvocationMetrics
from shipyard.serving.routes import EndpointRoute, InstanceRoute, VariantRoute
from shipyard.serving.spec import CUSTOM_ATTRIBUTES, INFERENCE_ID, TARGET_CONTAINER
from shipyard.serving.worker_client import (
    WorkerClient,
    WorkerResponse,
    WorkerTimeout,
    WorkerUnreachable,
)
from shipyard.store.objects import S3Store

log = logging.getLogger("shipyard.serving.dataplane")

#: How long a model has to answer, as SageMaker's real-time endpoints allow.
INVOCATION_TIMEOUT_SECONDS = 60.0
#: How many instances of a variant one request tries before giving up on it.
ATTEMPTS = 2


@dataclass(frozen=True)
class Invocation:
    """One ``InvokeEndpoint`` request, as the data plane needs it."""

    region: str
    account_id: str
    body: bytes
    content_type: str
    accept: str | None = None
    custom_attributes: str | None = None
    inference_id: str | None = None
    target_variant: str | None = None
    target_container: str | None = None
    #: ``time.perf_counter()`` when the server began handling the request.
    started: float = 0.0


@dataclass(frozen=True)
class InvocationResult:
    """The model's answer and the variant that gave it."""

    body: bytes
    content_type: str
    variant: str
    custom_attributes: str | None


class DataPlane:
    """Serves invocations of the endpoints the fleet publishes; owns the connections to
    workers, the capture writer and the invocation metrics."""

    def __init__(
        self,
        *,
        s3: S3Store,
        metrics: MetricStore,
        capture_flush_seconds: float = 60.0,
        metrics_flush_seconds: float = 10.0,
        invocation_timeout: float = INVOCATION_TIMEOUT_SECONDS,
        uniform: Callable[[], float] = random.random,
    ) -> None:
        self.balancer = Balancer(uniform)
        self.workers = WorkerClient()
        self.capture = CaptureWriter(s3)
        self.metrics = InvocationMetrics(MetricBuffer())
        self._metric_store = metrics
        self._metrics_lock = asyncio.Lock()
        self._uniform = uniform
        self._timeout = invocation_timeout
        self._capture_flush_seconds = capture_flush_seconds
        self._metrics_flush_seconds = metrics_flush_seconds
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start writing captured records and metrics in the background."""
        self._tasks = [
            asyncio.create_task(
                _every(self._capture_flush_seconds, self.capture.flush, self.capture.full),
                name="shipyard-capture",
            ),
            asyncio.create_task(
                _every(self._metrics_flush_seconds, self._housekeeping, asyncio.Event()),
                name="shipyard-invocation-metrics",
            ),
        ]

    async def close(self) -> None:
        """Stop the background writers, then write everything still buffered."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.capture.flush()
        await self.flush_metrics()
        await self.workers.close()

    async def flush_metrics(self) -> None:
        """Merge the buffered invocation metrics into the metric store."""
        async with self._metrics_lock:
            data = self.metrics.buffer.drain()
            try:
                await self._metric_store.add(data)
            except Exception:  # kept for the next try; invocations go on
                log.exception("could not store %d invocation metrics; will retry", len(data))
                self.metrics.buffer.restore(data)

    async def invoke(self, route: EndpointRoute, call: Invocation) -> InvocationResult:
        """Serve ``call`` on ``route``; raises SageMaker Runtime's errors as :class:`AwsError`."""
        try:
            variant = self.balancer.variant(route, call.target_variant)
        except UnknownVariant:
            raise validation_error(
                f"The TargetVariant {call.target_variant} is not a production variant of endpoint {route.name}."
            ) from None
        if variant is None:
            raise service_unavailable()
        headers = _forwarded_headers(call)
        now_ms = int(time.time() * 1000)
        response, instance, model_seconds = await self._forward(route, call, variant, headers, now_ms)
        status = response.status
        if not 200 <= status < 300:
            self._record(call, route, variant.name, status, model_seconds, now_ms)
            raise model_error(route, call, instance, response)
        content_type = response.headers.get("content-type", "")
        capture = CaptureConfig.parse(route.data_capture) if route.data_capture else None
        if capture is not None and capture.sampled(self._uniform):
            when = datetime.fromtimestamp(now_ms / 1000, UTC)
            line = capture.record(
                request=call.body,
                request_type=call.content_type,
                response=response.body,
                response_type=content_type,
                inference_id=call.inference_id,
                time=when,
            )
            self.capture.add(capture, route.name, variant.name, line, when)
        self._record(call, route, variant.name, status, model_seconds, now_ms)
        return InvocationResult(response.body, content_type, variant.name, response.headers.get(CUSTOM_ATTRIBUTES))

    async def _forward(
        self,
        route: EndpointRoute,
        call: Invocation,
        variant: VariantRoute,
        headers: list[tuple[str, str]],
        now_ms: int,
    ) -> tuple[WorkerResponse, InstanceRoute, float]:
        """The first answer of the variant's instances in turn; a refused connection tries the next."""
        for instance in self.balancer.instances(route, variant)[:ATTEMPTS]:
            sent = time.perf_counter()
            try:
                response = await self.workers.post(
                    instance.url, "/invocations", headers, call.body, timeout=self._timeout
                )
            except WorkerUnreachable as error:
                log.warning("endpoint %s: instance %s unreachable: %s", route.name, instance.instance_id, error)
                continue
            except WorkerTimeout:
                self._record(call, route, variant.name, None, None, now_ms)
                raise AwsError(
                    "ModelError",
                    "Your invocation timed out while waiting for a response from container primary. Review the"
                    " latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.",
                    424,
                    fields={"LogStreamArn": log_stream_arn(route, call, instance)},
                ) from None
            return response, instance, time.perf_counter() - sent
        self._record(call, route, variant.name, None, None, now_ms)
        raise service_unavailable()

    def _record(
        self,
        call: Invocation,
        route: EndpointRoute,
        variant: str,
        status: int | None,
        model_seconds: float | None,
        now_ms: int,
    ) -> None:
        total = time.perf_counter() - call.started
        model_us = None if model_seconds is None else model_seconds * 1e6
        self.metrics.record(
            call.region,
            route.name,
            variant,
            status=status,
            model_us=model_us,
            overhead_us=max(0.0, total * 1e6 - (model_us or 0.0)),
            time_ms=now_ms,
        )

    async def _housekeeping(self) -> None:
        await self.flush_metrics()
        self.workers.sweep()


async def _every(seconds: float, action: Callable[[], Awaitable[None]], wake: asyncio.Event) -> None:
    """Run ``action`` every ``seconds``, or sooner when ``wake`` is set.

    A cancelled loop lets a running ``action`` finish (it holds drained records).
    """
    while True:
        try:
            await asyncio.wait_for(wake.wait(), seconds)
        except TimeoutError:
            pass
        await asyncio.shield(action())


def _forwarded_headers(call: Invocation) -> list[tuple[str, str]]:
    headers = [("Content-Type", call.content_type)]
    for name, value in (
        ("Accept", call.accept),
        (CUSTOM_ATTRIBUTES, call.custom_attributes),
        (INFERENCE_ID, call.inference_id),
        (TARGET_CONTAINER, call.target_container),
    ):
        if value is not None:
            headers.append((name, value))
    return headers


def log_stream_arn(route: EndpointRoute, call: Invocation, instance: InstanceRoute) -> str:
    """The ARN of the log stream of the instance that served (or failed) a request."""
    return f"{group_arn(call.region, call.account_id, _log_group(route))}:log-stream:{instance.log_stream}"


def _log_group(route: EndpointRoute) -> str:
    return route.log_group or f"/aws/sagemaker/Endpoints/{route.name}"


def model_error(
    route: EndpointRoute, call: Invocation, instance: InstanceRoute, response: WorkerResponse
) -> AwsError:
    """``ModelError`` (424) for a model's 4xx/5xx answer, worded as SageMaker words it."""
    status = response.status
    text = response.body.decode("utf-8", errors="replace")
    kind = "client" if status < 500 else "server"
    return AwsError(
        "ModelError",
        f'Received {kind} error ({status}) from primary with message "{text}". See {_log_group(route)} in account'
        f" {call.account_id} for more information.",
        424,
        fields={
            "OriginalStatusCode": str(status),
            "OriginalMessage": text,
            "LogStreamArn": log_stream_arn(route, call, instance),
        },
    )


def validation_error(message: str) -> AwsError:
    return AwsError("ValidationError", message, 400)


def service_unavailable() -> AwsError:
    # Every instance of the variant is down or restarting: a transient state the fleet
    # repairs, so the SDKs' retry of ServiceUnavailable is the right answer.
    return AwsError("ServiceUnavailable", "The service is unavailable. Try your call again.", 503, sender_fault=False)
