"""Host usage from /proc and cgroups: real child processes (a busy loop, memory held), a
directory tree shaped like a cgroup's files, and the publisher turning samples into metrics."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.compute.executor import HostHandle
from shipyard.compute.usage import (
    PAGE_SIZE,
    GpuUsage,
    disk_percent,
    gpu_usage,
    host_usage,
    parse_gpu_query,
    parse_stat,
    process_table,
    process_tree,
    tree_usage,
)
from shipyard.monitoring.metric_store import MetricKey, MetricStore
from shipyard.monitoring.usage import (
    ENDPOINTS_NAMESPACE,
    FIRST_SAMPLE_SECONDS,
    UsagePublisher,
)
from shipyard.store.database import Database

MIB = 1 << 20

#: A parent that starts a child which holds 64 MiB (written, so resident) and spins.
PARENT = textwrap.dedent(
    """
    import subprocess, sys
    child = "held = b'x' * (64 << 20)\\nprint('ready', flush=True)\\nwhile True: pass"
    subprocess.run([sys.executable, "-c", child])
    """
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def busy_tree() -> Iterator[subprocess.Popen[str]]:
    """A parent process whose child holds 64 MiB and keeps a CPU busy; ready when yielded."""
    process = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    yield process
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def handle_of(process: subprocess.Popen[str], **extra: str) -> HostHandle:
    started = process_table()[process.pid].started
    return HostHandle("local", "/tmp", process.pid, started, dict(extra))


def test_stat_lines_with_awkward_command_names() -> None:
    # Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss
    line = "4242 (a) (b c) R 17 4242 4242 0 -1 4194304 10 0 0 0 300 100 50 50 20 0 1 0 98765 1000 25 18446744073709551615"
    stat = parse_stat(line)
    ticks = os.sysconf("SC_CLK_TCK")
    assert (stat.pid, stat.ppid, stat.state, stat.started) == (4242, 17, "R", 98765)
    assert stat.cpu_seconds == pytest.approx(500 / ticks)
    assert stat.rss_bytes == 25 * PAGE_SIZE


def test_a_busy_child_shows_in_its_parents_tree(busy_tree: subprocess.Popen[str]) -> None:
    table = process_table()
    tree = process_tree(table, busy_tree.pid)
    assert tree[0].pid == busy_tree.pid and len(tree) == 2 and tree[1].ppid == busy_tree.pid
    assert process_tree(table, busy_tree.pid + 10_000_000) == []

    first = tree_usage(table, busy_tree.pid)
    time.sleep(0.5)
    second = tree_usage(process_table(), busy_tree.pid)
    assert second.cpu_seconds > first.cpu_seconds > 0
    # The child's 64 MiB are resident, and the two interpreters are more than nothing.
    assert 64 * MIB < second.memory_bytes < 1024 * MIB


def test_host_usage_follows_the_runner_by_pid_and_start_time(busy_tree: subprocess.Popen[str]) -> None:
    handle = handle_of(busy_tree)
    usage = host_usage(handle, process_table())
    assert usage is not None and usage.memory_bytes > 64 * MIB
    recycled = HostHandle("local", "/tmp", handle.pid, handle.started + 1)
    assert host_usage(recycled, process_table()) is None
    os.killpg(busy_tree.pid, signal.SIGKILL)
    busy_tree.wait()
    assert host_usage(handle, process_table()) is None


def test_cgroup_v2_counts_cpu_and_memory_less_inactive_cache(busy_tree: subprocess.Popen[str], tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text(str(300 * MIB))
    (tmp_path / "memory.stat").write_text(f"anon {200 * MIB}\nfile {100 * MIB}\ninactive_file {40 * MIB}\n")
    (tmp_path / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    usage = host_usage(handle_of(busy_tree, cgroup=str(tmp_path)), process_table())
    assert usage is not None and (usage.cpu_seconds, usage.memory_bytes) == (2.5, 260 * MIB)


def test_cgroup_v1_counts_memory_and_leaves_cpu_to_the_tree(busy_tree: subprocess.Popen[str], tmp_path: Path) -> None:
    (tmp_path / "memory.limit_in_bytes").write_text(str(512 * MIB))
    (tmp_path / "memory.usage_in_bytes").write_text(str(100 * MIB))
    (tmp_path / "memory.stat").write_text(f"cache {30 * MIB}\ntotal_inactive_file {10 * MIB}\n")
    handle = handle_of(busy_tree, cgroup=str(tmp_path))
    usage = host_usage(handle, process_table())
    assert usage is not None and usage.memory_bytes == 90 * MIB
    assert usage.cpu_seconds > 0
    # A cgroup already gone: the process tree's figures.
    gone = host_usage(handle_of(busy_tree, cgroup=str(tmp_path / "gone")), process_table())
    assert gone is not None and gone.memory_bytes > 64 * MIB


def test_disk_percent(tmp_path: Path) -> None:
    percent = disk_percent(tmp_path)
    assert percent is not None and 0 < percent <= 100
    assert disk_percent(tmp_path / "missing") is None


def test_nvidia_smi_query_lines() -> None:
    text = "0, 87, 20480, 81920\n1, [N/A], 0, 81920\n2, 0, 0, 0\n"
    assert parse_gpu_query(text) == {0: GpuUsage(87.0, 25.0), 2: GpuUsage(0.0, 0.0)}
    assert parse_gpu_query("") == {}


@pytest.mark.skipif(shutil.which("nvidia-smi") is None, reason="needs an NVIDIA GPU and nvidia-smi")
def test_gpu_usage_of_this_machine() -> None:
    found = gpu_usage()
    assert found and sorted(found) == list(range(len(found)))
    assert all(0 <= gpu.utilization <= 100 and 0 <= gpu.memory <= 100 for gpu in found.values())


@pytest.mark.anyio
async def test_the_publisher_samples_stores_and_forgets(busy_tree: subprocess.Popen[str], tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'metrics.db'}", durable=False)
    database.migrate()
    store = MetricStore(database)
    publisher = UsagePublisher(store)
    dimensions = (("EndpointName", "ep"), ("VariantName", "AllTraffic"))
    handle = HostHandle("local", str(tmp_path), busy_tree.pid, process_table()[busy_tree.pid].started)
    publisher.watch(handle, region="us-east-1", namespace=ENDPOINTS_NAMESPACE, dimensions=dimensions, memory_mib=1024)
    try:
        await publisher.sample()
        await asyncio.sleep(0.5)
        await publisher.sample()
        await publisher.flush()

        def key(name: str) -> MetricKey:
            return MetricKey("us-east-1", ENDPOINTS_NAMESPACE, name, dimensions)

        now_ms = int(time.time() * 1000)
        minutes = {
            name: await store.minutes(key(name), now_ms - 120_000, now_ms + 60_000)
            for name in ("CPUUtilization", "MemoryUtilization", "DiskUtilization")
        }
        cpu = [minute.aggregate for minute in minutes["CPUUtilization"]]
        memory = [minute.aggregate for minute in minutes["MemoryUtilization"]]
        # The first sample's CPU is the average since the process started; at most 100 % a core.
        assert sum(item.sample_count for item in cpu) == 2
        assert all(0 < item.minimum <= item.maximum <= 100 * os.cpu_count() for item in cpu)
        assert sum(item.sample_count for item in memory) == 2
        assert all(64 / 1024 * 100 < item.minimum <= item.maximum < 100 for item in memory)
        assert all(minute.unit == "Percent" for found in minutes.values() for minute in found)
        assert sum(minute.aggregate.sample_count for minute in minutes["DiskUtilization"]) == 2

        os.killpg(busy_tree.pid, signal.SIGKILL)
        busy_tree.wait()
        await publisher.sample()
        assert len(publisher.buffer) == 0  # the ended host was forgotten, nothing recorded
        await publisher.sample()
        assert len(publisher.buffer) == 0
    finally:
        await publisher.close()
        await database.close()


@pytest.mark.anyio
async def test_a_newly_watched_host_is_sampled_within_a_second(busy_tree: subprocess.Popen[str], tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'metrics.db'}", durable=False)
    database.migrate()
    publisher = UsagePublisher(MetricStore(database), sample_seconds=3600, flush_seconds=3600)
    publisher.start()
    try:
        await asyncio.sleep(0.2)  # the loop's first pass found nothing to sample
        handle = HostHandle("local", str(tmp_path), busy_tree.pid, process_table()[busy_tree.pid].started)
        publisher.watch(handle, region="us-east-1", namespace=ENDPOINTS_NAMESPACE, dimensions=(), memory_mib=1024)
        deadline = time.monotonic() + FIRST_SAMPLE_SECONDS + 2
        while not len(publisher.buffer):
            assert time.monotonic() < deadline, "no sample of the new host: it would wait the hour-long interval"
            await asyncio.sleep(0.1)
    finally:
        await publisher.close()
        await database.close()
