"""The metrics SageMaker publishes about the instances it runs, and a training job's own.

Per host of a training, processing or transform job (namespace ``/aws/sagemaker/<Kind>Jobs``,
dimension ``Host`` = ``<job name>/algo-<n>``) and per endpoint instance (namespace
``/aws/sagemaker/Endpoints``, dimensions ``EndpointName`` and ``VariantName``):

- ``CPUUtilization``: the sum of each core's utilization, so 0-100 % times the vCPUs used;
- ``MemoryUtilization``: memory in use, in percent of the instance type's memory;
- ``DiskUtilization``: how full the disk holding the host's files is, in percent;
- ``GPUUtilization`` and ``GPUMemoryUtilization``, for hosts with GPUs: the sum of each
  GPU's percent, so 0-100 % times the GPUs.

The watched hosts are sampled every ``sample_seconds`` (see :mod:`shipyard.compute.usage`),
and a newly watched one within :data:`FIRST_SAMPLE_SECONDS`;
samples are summarized per minute in a :class:`MetricBuffer` and written to the
:class:`MetricStore` every ``flush_seconds``. A host's CPU utilization is its CPU time's
growth since the previous sample, or since its runner started at the first. A host whose
runner has ended is forgotten at its next sample.

A training job's own metrics (the values its ``MetricDefinitions`` find in its log) go to
``/aws/sagemaker/TrainingJobs`` too, named as their definitions, with dimension
``TrainingJobName``: the supervisor stores them through :meth:`UsagePublisher.publish` as
it parses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shipyard.compute.executor import HostHandle
from shipyard.compute.usage import (
    CLOCK_TICKS,
    GpuUsage,
    Usage,
    disk_percent,
    gpu_usage,
    host_usage,
    process_table,
)
from shipyard.monitoring.buffer import MetricBuffer
from shipyard.monitoring.metric_store import Dimensions, MetricKey, MetricStore

log = logging.getLogger("shipyard.monitoring.usage")

ENDPOINTS_NAMESPACE = "/aws/sagemaker/Endpoints"
PERCENT = "Percent"
#: Seconds from a host's start to its first sample, so a job shorter than the sampling
#: interval still reports its usage.
FIRST_SAMPLE_SECONDS = 1.0


@dataclass
class _Host:
    handle: HostHandle
    memory_bytes: int
    gpu_ids: tuple[int, ...]
    #: The host's metrics, by name.
    keys: dict[str, MetricKey]
    #: The previous sample's (seconds since boot, CPU seconds): utilization is the growth
    #: since. At first, the runner's start (when it had used nothing).
    previous: tuple[float, float]


class UsagePublisher:
    """Samples the watched hosts and writes their metrics; one per server."""

    def __init__(self, store: MetricStore, *, sample_seconds: float = 10.0, flush_seconds: float = 10.0) -> None:
        self.buffer = MetricBuffer()
        self._store = store
        self._sample_seconds = sample_seconds
        self._flush_seconds = flush_seconds
        self._hosts: dict[tuple[int, int], _Host] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        #: Set when a host is watched: it gets its first sample soon.
        self._watched = asyncio.Event()

    def watch(
        self,
        handle: HostHandle,
        *,
        region: str,
        namespace: str,
        dimensions: Dimensions,
        memory_mib: int,
        gpu_ids: Sequence[int] = (),
    ) -> None:
        """Sample ``handle``'s host from now on until its runner ends, as an instance of
        ``memory_mib`` MiB with GPUs ``gpu_ids``, whose metrics are named by ``namespace``
        and ``dimensions``."""
        names = ["CPUUtilization", "MemoryUtilization", "DiskUtilization"]
        if gpu_ids:
            names += ["GPUUtilization", "GPUMemoryUtilization"]
        keys = {name: MetricKey(region, namespace, name, dimensions) for name in names}
        start = (handle.started / CLOCK_TICKS, 0.0)
        self._hosts[(handle.pid, handle.started)] = _Host(handle, memory_mib << 20, tuple(gpu_ids), keys, start)
        self._watched.set()

    def start(self) -> None:
        """Sample and write in the background."""
        self._task = asyncio.create_task(self._run(), name="shipyard-usage-metrics")

    async def close(self) -> None:
        """Stop sampling; write what is buffered."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def sample(self) -> None:
        """Take one sample of every watched host; forget those that have ended."""
        if not self._hosts:
            return
        hosts = list(self._hosts.items())
        handles = [host.handle for _, host in hosts]
        at, taken, gpus = await asyncio.to_thread(_sample, handles, any(host.gpu_ids for _, host in hosts))
        now_ms = int(time.time() * 1000)
        for (identity, host), (usage, disk) in zip(hosts, taken, strict=True):
            if usage is None:
                self._hosts.pop(identity, None)
                continue
            values: dict[str, float | None] = {
                "MemoryUtilization": 100.0 * usage.memory_bytes / host.memory_bytes,
                "DiskUtilization": disk,
            }
            since, cpu_seconds = host.previous
            if at > since:
                values["CPUUtilization"] = 100.0 * max(0.0, usage.cpu_seconds - cpu_seconds) / (at - since)
            host.previous = (at, usage.cpu_seconds)
            own = [gpus[index] for index in host.gpu_ids if index in gpus]
            if own:
                values["GPUUtilization"] = sum(gpu.utilization for gpu in own)
                values["GPUMemoryUtilization"] = sum(gpu.memory for gpu in own)
            for name, value in values.items():
                if value is not None:
                    self.buffer.record(host.keys[name], value, PERCENT, now_ms)

    async def flush(self) -> None:
        """Merge the buffered samples into the metric store (kept for the next try if that fails)."""
        async with self._lock:
            data = self.buffer.drain()
            try:
                await self._store.add(data)
            except Exception:
                log.exception("could not store %d usage metrics; will retry", len(data))
                self.buffer.restore(data)

    async def publish(self, points: Sequence[tuple[MetricKey, int, float]], unit: str = "None") -> None:
        """Store ``points`` (metric, epoch milliseconds, value) now, each in its minute."""
        buffer = MetricBuffer()
        for key, at_ms, value in points:
            buffer.record(key, value, unit, at_ms)
        await self._store.add(buffer.drain())

    async def _run(self) -> None:
        next_sample = next_flush = time.monotonic()
        while True:
            now = time.monotonic()
            if self._watched.is_set():
                self._watched.clear()
                next_sample = min(next_sample, now + FIRST_SAMPLE_SECONDS)
            if now >= next_sample:
                try:
                    await self.sample()
                except Exception:  # a bad sample must not end sampling
                    log.exception("sampling the hosts' usage failed")
                next_sample = now + self._sample_seconds
            if now >= next_flush:
                # Shielded: a flush holds drained samples until they are written.
                await asyncio.shield(self.flush())
                next_flush = now + self._flush_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._watched.wait(), max(0.0, min(next_sample, next_flush) - time.monotonic()))


def _sample(
    handles: list[HostHandle], gpus: bool
) -> tuple[float, list[tuple[Usage | None, float | None]], dict[int, GpuUsage]]:
    """The time (seconds since boot, as processes' start times count) of one pass over
    ``/proc``; each of ``handles``' hosts' usage and disk percent; and with ``gpus``, every
    GPU's usage."""
    table = process_table()
    at = time.clock_gettime(time.CLOCK_BOOTTIME)
    taken = [(host_usage(handle, table), disk_percent(Path(handle.host_dir))) for handle in handles]
    return at, taken, gpu_usage() if gpus else {}
