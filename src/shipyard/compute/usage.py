"""What a job host or endpoint instance uses of the machine: CPU time, memory and disk.

Read from ``/proc`` and the host's memory cgroup, as ``top`` and ``docker stats`` read them.
A host is its runner's process tree: the runner (found by pid and start time, as
:class:`~shipyard.compute.executor.HostHandle` records it) and every process under it. CPU
time counts the tree's processes and the children they have already reaped, so it only
grows while the host runs; utilization is the growth between two samples.

Where the host has a memory cgroup, its memory is the cgroup's (less the page cache the
kernel can drop at once, as ``docker stats`` counts it); under cgroup v2 its CPU time is
the cgroup's too. Without one, memory is the tree's resident set.

GPUs are a host's alone (the scheduler hands each to one host), so a GPU's utilization
and memory, as ``nvidia-smi`` reports them, are its host's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shipyard.compute.cgroups import MemoryCgroup, counter, read_file
from shipyard.compute.executor import HostHandle

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcessStat:
    """The fields of ``/proc/<pid>/stat`` that usage needs."""

    pid: int
    ppid: int
    state: str
    #: Clock ticks since boot when the process started.
    started: int
    #: CPU seconds of the process (user and system) and of the children it reaped.
    cpu_seconds: float
    rss_bytes: int


@dataclass(frozen=True)
class GpuUsage:
    """One GPU now, in percent: of the time its kernels ran, and of its memory in use."""

    utilization: float
    memory: float


@dataclass(frozen=True)
class Usage:
    """A host's usage at one moment: CPU time so far and memory now, in bytes."""

    cpu_seconds: float
    memory_bytes: int


def parse_stat(text: str) -> ProcessStat:
    """One ``/proc/<pid>/stat`` line."""
    pid = int(text[: text.index(" ")])
    # The command name (field 2) is in parentheses and may hold spaces and parentheses.
    fields = text[text.rindex(")") + 2 :].split()
    # Fields 14-17: utime, stime, cutime, cstime (clock ticks); 22: starttime; 24: rss (pages).
    ticks = sum(int(value) for value in fields[11:15])
    return ProcessStat(
        pid=pid,
        ppid=int(fields[1]),
        state=fields[0],
        started=int(fields[19]),
        cpu_seconds=ticks / CLOCK_TICKS,
        rss_bytes=int(fields[21]) * PAGE_SIZE,
    )


def process_table(proc: Path = Path("/proc")) -> dict[int, ProcessStat]:
    """Every process of the machine now, by pid (one pass over ``/proc``)."""
    table = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            # A process may end between the listing and the read.
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = parse_stat((entry / "stat").read_text())
                table[stat.pid] = stat
    return table


def process_tree(table: Mapping[int, ProcessStat], root: int) -> list[ProcessStat]:
    """``root`` and every process under it in ``table`` (empty if ``root`` is not there)."""
    children: dict[int, list[ProcessStat]] = {}
    for stat in table.values():
        children.setdefault(stat.ppid, []).append(stat)
    found = [table[root]] if root in table else []
    for stat in found:  # grows while it is walked: breadth first
        found.extend(children.get(stat.pid, ()))
    return found


def tree_usage(table: Mapping[int, ProcessStat], root: int) -> Usage:
    """CPU time and resident memory of ``root``'s process tree."""
    tree = process_tree(table, root)
    return Usage(sum(stat.cpu_seconds for stat in tree), sum(stat.rss_bytes for stat in tree))


def cgroup_memory_bytes(cgroup: MemoryCgroup) -> int | None:
    """The cgroup's memory use less its inactive file cache; None if it cannot be read."""
    if cgroup.version == 2:
        current, inactive = "memory.current", "inactive_file"
    else:
        current, inactive = "memory.usage_in_bytes", "total_inactive_file"
    used = read_file(cgroup.path / current).strip()
    if not used.isdigit():
        return None
    return max(0, int(used) - counter(read_file(cgroup.path / "memory.stat"), inactive))


def cgroup_cpu_seconds(cgroup: MemoryCgroup) -> float | None:
    """CPU seconds of the cgroup's processes so far (cgroup v2 counts them in every
    cgroup); None under cgroup v1, whose memory hierarchy does not count CPU."""
    if cgroup.version != 2:
        return None
    text = read_file(cgroup.path / "cpu.stat")
    return counter(text, "usage_usec") / 1e6 if "usage_usec" in text else None


def host_usage(handle: HostHandle, table: Mapping[int, ProcessStat]) -> Usage | None:
    """The usage of ``handle``'s host; None once its runner has ended (or its pid is another's)."""
    runner = table.get(handle.pid)
    if runner is None or runner.started != handle.started or runner.state == "Z":
        return None
    usage = tree_usage(table, handle.pid)
    path = handle.extra.get("cgroup")
    if not path:
        return usage
    cgroup = MemoryCgroup(Path(path))
    cpu = cgroup_cpu_seconds(cgroup)
    memory = cgroup_memory_bytes(cgroup)
    return Usage(
        usage.cpu_seconds if cpu is None else cpu,
        usage.memory_bytes if memory is None else memory,
    )


def disk_percent(path: Path) -> float | None:
    """How full the filesystem holding ``path`` is, in percent; None if it cannot be read."""
    try:
        disk = shutil.disk_usage(path)
    except OSError:
        return None
    return 100.0 * (disk.total - disk.free) / disk.total if disk.total else None


def parse_gpu_query(text: str) -> dict[int, GpuUsage]:
    """The output of ``nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total
    --format=csv,noheader,nounits``, by GPU index; GPUs with a field ``[N/A]`` are left out."""
    found = {}
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            index, utilization, used, total = (float(value) for value in line.split(","))
            found[int(index)] = GpuUsage(utilization, 100.0 * used / total if total else 0.0)
    return found


def gpu_usage() -> dict[int, GpuUsage]:
    """Every GPU's usage now, by index (as ``CUDA_VISIBLE_DEVICES`` names them); none
    without ``nvidia-smi``."""
    command = shutil.which("nvidia-smi")
    if command is None:
        return {}
    query = "--query-gpu=index,utilization.gpu,memory.used,memory.total"
    try:
        done = subprocess.run(
            [command, query, "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    return parse_gpu_query(done.stdout)
