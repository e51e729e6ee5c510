"""The interface every executor shares: start, poll, stop a job host's runner; read its files.

An executor runs ``python -m shipyard.jobs.runner <host dir>`` for one host of a job (see
:mod:`shipyard.jobs.spec` for the files it reads and writes) and knows nothing of
SageMaker. A :class:`HostHandle` is plain data, stored with the job in the database, so a
restarted server can :meth:`~Executor.attach` to runners that outlived it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shipyard.jobs.spec import HostEvent, HostResult, Resources


@dataclass(frozen=True)
class HostHandle:
    """What identifies a started runner: JSON-safe, kept in the database.

    ``pid`` and ``started`` (the process's start time in clock ticks since boot, from
    ``/proc/<pid>/stat``) together tell a live runner from a recycled pid. ``extra`` is for
    executors that need more (a Ray actor id).
    """

    executor: str
    host_dir: str
    pid: int
    started: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HostState:
    """A poll's answer: whether the runner is still running, and how it ended."""

    running: bool
    #: The runner's own result, once it wrote one.
    result: HostResult | None = None
    #: Set when the runner ended without a result: why (killed by a signal, out of memory).
    lost_reason: str = ""
    #: Whether the host's memory limit made the kernel kill one of its processes (the
    #: runner, or job code the runner then reported as failed).
    out_of_memory: bool = False


class LaunchSpec(Protocol):
    """What an executor starts a process for: a job host's :class:`~shipyard.jobs.spec.HostSpec`
    or an endpoint instance's :class:`~shipyard.serving.spec.WorkerSpec`."""

    @property
    def resources(self) -> Resources: ...

    @property
    def label(self) -> str:
        """Names what the executor makes for the process (its cgroup)."""
        ...

    def write(self, host_dir: Path) -> None:
        """Write the spec's file into ``host_dir``, where the started process reads it."""
        ...


class Executor(Protocol):
    """Runs job hosts. Every method is safe to call from the event loop (none blocks long)."""

    name: str

    def prepare(self) -> None:
        """Get ready to start hosts (a local executor starts its spare runner); at server start."""
        ...

    def close(self) -> None:
        """Let go of what :meth:`prepare` made; started hosts run on. At server shutdown."""
        ...

    async def start(self, spec: LaunchSpec, host_dir: Path) -> HostHandle:
        """Write ``spec`` into ``host_dir`` and start its runner; returns at once."""
        ...

    async def poll(self, handle: HostHandle) -> HostState:
        """Whether the runner still runs; its result once it has ended."""
        ...

    async def stop(self, handle: HostHandle) -> None:
        """Ask the runner to stop (SIGTERM): it stops the job's code (SIGKILL after the
        spec's grace period), uploads what the job saved, and writes a ``Stopped`` result."""
        ...

    async def kill(self, handle: HostHandle) -> None:
        """End the runner and everything it started, now (SIGKILL); no result is written."""
        ...

    def attach(self, handle: HostHandle) -> bool:
        """After a server restart: whether ``handle``'s runner is still alive (and is it)."""
        ...

    async def read_output(self, handle: HostHandle, offset: int) -> tuple[list[str], int]:
        """Complete lines the job printed from byte ``offset`` on; and the next offset."""
        ...

    async def read_events(self, handle: HostHandle, offset: int) -> tuple[list[HostEvent], int]:
        """Secondary-status events from byte ``offset`` on; and the next offset."""
        ...

    async def abandon(self, host_dir: Path) -> None:
        """End whatever runs for ``host_dir`` without a recorded handle (the server died
        between starting a host and writing its handle down)."""
        ...

    async def release(self, handle: HostHandle) -> None:
        """Free what the host held after it ended (its cgroup); the host dir stays."""
        ...
