"""What this machine offers to job hosts, and the FIFO queue that hands it out.

A job of ``count`` instances of a type runs once all its hosts fit in the free capacity at
the same time; jobs start strictly in the order they were queued, so a large job is never
starved by small ones behind it. vCPUs may be oversubscribed on purpose (the capacity's
``cpus`` can exceed the real cores): each host is then pinned to as many distinct real
CPUs as possible, shared round-robin with other hosts. GPUs are never shared.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import NamedTuple

from shipyard.compute.instances import InstanceType, instance_type
from shipyard.errors import AwsError
from shipyard.jobs.spec import Resources

#: The fewest vCPUs a server offers, so every small type (up to 4 vCPUs) fits anywhere.
MIN_CPUS = 4


@dataclass(frozen=True)
class MachineCapacity:
    """vCPUs, memory (MiB) and GPUs that job hosts may hold at once."""

    cpus: int
    memory_mib: int
    gpus: int


def detect_capacity(
    cpus: int | None = None, memory_mib: int | None = None, gpus: int | None = None
) -> MachineCapacity:
    """This machine's capacity; an administrator's value (not None) wins over detection.

    vCPUs: the CPU count, at least :data:`MIN_CPUS`; memory: ``MemTotal`` of
    ``/proc/meminfo``; GPUs: those ``nvidia-smi -L`` lists (none without it).
    """
    return MachineCapacity(
        cpus=cpus if cpus is not None else max(os.cpu_count() or 1, MIN_CPUS),
        memory_mib=memory_mib if memory_mib is not None else _physical_memory_mib(),
        gpus=gpus if gpus is not None else _nvidia_gpu_count(),
    )


def _physical_memory_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("/proc/meminfo has no MemTotal")


def _nvidia_gpu_count() -> int:
    command = shutil.which("nvidia-smi")
    if command is None:
        return 0
    try:
        listing = subprocess.run([command, "-L"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in listing.stdout.splitlines() if line.startswith("GPU "))


def check_fits(instance_type_name: str, count: int, capacity: MachineCapacity) -> InstanceType:
    """The type called ``instance_type_name``, if ``count`` hosts of it fit ``capacity`` at once.

    Raises ``ValidationException`` for an unknown type and ``ResourceLimitExceeded`` when
    the job could never start on this server, even with nothing else running.
    """
    kind = instance_type(instance_type_name)
    if kind is None:
        raise AwsError("ValidationException", f"{instance_type_name} is not an instance type Shipyard knows.", 400)
    if not _fits(kind, count, capacity):
        instances = _plural(count, "instance")
        raise AwsError(
            "ResourceLimitExceeded",
            f"{kind.name} needs {_plural(kind.vcpus, 'vCPU')}, {kind.memory_mib} MiB of memory and "
            f"{_plural(kind.gpus, 'GPU')} per instance ({instances}); this Shipyard server offers "
            f"{_plural(capacity.cpus, 'vCPU')}, {capacity.memory_mib} MiB and {_plural(capacity.gpus, 'GPU')} "
            "(shipyard up --cpus/--memory/--gpus)",
            400,
        )
    return kind


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _enumerate(items: list[str]) -> str:
    """``a, b and c``."""
    return ", ".join(items[:-1]) + " and " + items[-1]


def _fits(kind: InstanceType, count: int, capacity: MachineCapacity) -> bool:
    return (
        count * kind.vcpus <= capacity.cpus
        and count * kind.memory_mib <= capacity.memory_mib
        and count * kind.gpus <= capacity.gpus
    )


class Admission(NamedTuple):
    """A job let out of the queue: its key and one :class:`Resources` per host."""

    key: str
    resources: list[Resources]


@dataclass(frozen=True)
class _Request:
    kind: InstanceType
    count: int


class CapacityScheduler:
    """A FIFO admission queue of jobs over a :class:`MachineCapacity`.

    Jobs are known by a string key. A job is either queued, holding resources (admitted or
    restored), or unknown. Pure bookkeeping: the caller starts and stops the hosts.
    """

    def __init__(self, capacity: MachineCapacity, cpu_ids: Iterable[int] | None = None) -> None:
        """``cpu_ids``: the real CPUs to pin hosts to (default: this process's affinity);
        only the first ``capacity.cpus`` of them are used."""
        self.capacity = capacity
        ids = sorted(os.sched_getaffinity(0) if cpu_ids is None else cpu_ids)
        self._cpu_ids = ids[: capacity.cpus]
        self._queue: dict[str, _Request] = {}
        self._held: dict[str, list[Resources]] = {}

    @property
    def free(self) -> MachineCapacity:
        """What is not held now (``gpus``: how many GPUs are free); never below zero."""
        held = [resources for hosts in self._held.values() for resources in hosts]
        return MachineCapacity(
            cpus=max(0, self.capacity.cpus - sum(r.vcpus for r in held)),
            memory_mib=max(0, self.capacity.memory_mib - sum(r.memory_mib for r in held)),
            gpus=len(self._free_gpu_ids()),
        )

    def enqueue(self, key: str, instance_type_name: str, count: int) -> None:
        """Queue a job of ``count`` hosts; nothing happens if ``key`` is queued or holds resources.

        Raises what :func:`check_fits` raises, since a job that can never fit would block
        the queue for good.
        """
        kind = check_fits(instance_type_name, count, self.capacity)
        if key not in self._queue and key not in self._held:
            self._queue[key] = _Request(kind, count)

    def admit(self) -> list[Admission]:
        """Admit queued jobs in FIFO order while the first one fits what is free."""
        admitted: list[Admission] = []
        while self._queue:
            key, request = next(iter(self._queue.items()))
            if not _fits(request.kind, request.count, self.free):
                break
            del self._queue[key]
            self._held[key] = []
            for _ in range(request.count):
                self._held[key].append(self._allocate(request.kind))
            admitted.append(Admission(key, self._held[key]))
        return admitted

    def take(self, key: str, instance_type_name: str) -> Resources:
        """Hold one host of ``instance_type_name`` now, ahead of the queue, under ``key``.

        For an endpoint instance, which serves until it is deleted and so cannot wait in a
        queue behind jobs: it gets what is free now or an ``InsufficientCapacity`` error that
        says what is missing.
        """
        kind = check_fits(instance_type_name, 1, self.capacity)
        free = self.free
        if not _fits(kind, 1, free):
            needed = [_plural(kind.vcpus, "vCPU"), f"{kind.memory_mib} MiB"]
            available = [_plural(free.cpus, "vCPU"), f"{free.memory_mib} MiB"]
            if kind.gpus:
                needed.append(_plural(kind.gpus, "GPU"))
                available.append(_plural(free.gpus, "GPU"))
            raise AwsError(
                "InsufficientCapacity",
                f"Not enough free capacity for an {kind.name} instance: it needs {_enumerate(needed)}; "
                f"{_enumerate(available)} are free (running jobs and endpoints hold the rest).",
                400,
            )
        resources = self._allocate(kind)
        self._held[key] = [resources]
        return resources

    def release(self, key: str) -> None:
        """Free what the job ``key`` holds (nothing happens if it holds nothing)."""
        self._held.pop(key, None)

    def restore(self, key: str, resources: list[Resources]) -> None:
        """Mark a running job's ``resources`` as held, as they were assigned before a restart.

        They replace whatever ``key`` held and take it out of the queue. They are taken
        even beyond the capacity (if it shrank): the queue waits until they are released.
        """
        self._queue.pop(key, None)
        self._held[key] = list(resources)

    def cancel(self, key: str) -> None:
        """Take the job ``key`` out of the queue (nothing happens if it is not queued)."""
        self._queue.pop(key, None)

    def queued(self) -> list[str]:
        """Keys of the queued jobs, first in line first."""
        return list(self._queue)

    def is_queued(self, key: str) -> bool:
        return key in self._queue

    def waiting_message(self, key: str) -> str | None:
        """Why the queued job ``key`` waits, as a StatusMessage; None if it is not queued."""
        request = self._queue.get(key)
        if request is None:
            return None
        kind, count = request.kind, request.count
        free = self.free
        verb = "needs" if count == 1 else "need"
        needed = [_plural(count * kind.vcpus, "vCPU"), f"{count * kind.memory_mib} MiB"]
        available = [_plural(free.cpus, "vCPU"), f"{free.memory_mib} MiB"]
        if kind.gpus:
            needed.append(_plural(count * kind.gpus, "GPU"))
            available.append(_plural(free.gpus, "GPU"))
        ahead = list(self._queue).index(key)
        place = f"{_plural(ahead, 'job')} ahead in the queue" if ahead else "first in the queue"
        return (
            f"Waiting for capacity: {count} x {kind.name} {verb} {_enumerate(needed)}; "
            f"{_enumerate(available)} free; {place}"
        )

    def _allocate(self, kind: InstanceType) -> Resources:
        """One host's share: the least loaded real CPUs, and GPUs no other host holds.

        Called after the head was checked to fit, so enough GPUs are free.
        """
        load = self._cpu_load()
        chosen = sorted(self._cpu_ids, key=lambda cpu: (load[cpu], cpu))[: min(kind.vcpus, len(self._cpu_ids))]
        return Resources(
            instance_type=kind.name,
            vcpus=kind.vcpus,
            cpu_ids=sorted(chosen),
            memory_mib=kind.memory_mib,
            gpu_ids=self._free_gpu_ids()[: kind.gpus],
        )

    def _cpu_load(self) -> dict[int, int]:
        """vCPUs held on each real CPU: a host's vCPUs are spread round-robin over its ids."""
        load = dict.fromkeys(self._cpu_ids, 0)
        for hosts in self._held.values():
            for resources in hosts:
                for _, cpu in zip(range(resources.vcpus), cycle(resources.cpu_ids)):
                    if cpu in load:
                        load[cpu] += 1
        return load

    def _free_gpu_ids(self) -> list[int]:
        used = {gpu for hosts in self._held.values() for resources in hosts for gpu in resources.gpu_ids}
        return [gpu for gpu in range(self.capacity.gpus) if gpu not in used]
