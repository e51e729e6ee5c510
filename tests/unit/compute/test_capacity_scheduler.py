"""The FIFO admission queue: order, head-of-line blocking, and how CPUs and GPUs are handed out."""

from __future__ import annotations

import os

import pytest

from shipyard.compute.capacity import CapacityScheduler, MachineCapacity
from shipyard.errors import AwsError
from shipyard.jobs.spec import Resources


def scheduler(cpus: int = 8, memory_mib: int = 32768, gpus: int = 0, real_cpus: int | None = None) -> CapacityScheduler:
    return CapacityScheduler(MachineCapacity(cpus, memory_mib, gpus), cpu_ids=range(real_cpus or cpus))


def keys(admitted: list) -> list[str]:
    return [key for key, _ in admitted]


def test_admits_in_fifo_order_while_jobs_fit() -> None:
    queue = scheduler()
    queue.enqueue("a", "ml.m5.large", 1)
    queue.enqueue("b", "ml.m5.xlarge", 1)
    queue.enqueue("c", "ml.m5.large", 1)
    assert keys(queue.admit()) == ["a", "b", "c"]
    assert queue.queued() == []
    assert queue.free == MachineCapacity(0, 0, 0)


def test_head_that_does_not_fit_blocks_those_behind() -> None:
    queue = scheduler()
    queue.enqueue("a", "ml.m5.xlarge", 1)
    queue.enqueue("big", "ml.m5.2xlarge", 1)
    queue.enqueue("small", "ml.t3.medium", 1)
    assert keys(queue.admit()) == ["a"]
    assert queue.queued() == ["big", "small"]
    assert queue.admit() == []
    queue.release("a")
    assert keys(queue.admit()) == ["big"]
    assert queue.is_queued("small")
    queue.release("big")
    assert keys(queue.admit()) == ["small"]
    assert not queue.is_queued("small")


def test_a_job_starts_only_when_all_its_hosts_fit() -> None:
    queue = scheduler()
    queue.enqueue("a", "ml.m5.xlarge", 1)
    queue.enqueue("pair", "ml.m5.xlarge", 2)
    assert keys(queue.admit()) == ["a"]
    queue.release("a")
    [(key, hosts)] = queue.admit()
    assert key == "pair" and len(hosts) == 2
    assert all(host == Resources("ml.m5.xlarge", 4, host.cpu_ids, 16384, []) for host in hosts)


def test_enqueue_refuses_what_can_never_fit_and_ignores_repeats() -> None:
    queue = scheduler()
    with pytest.raises(AwsError) as raised:
        queue.enqueue("huge", "ml.m5.24xlarge", 1)
    assert raised.value.code == "ResourceLimitExceeded"
    with pytest.raises(AwsError) as raised:
        queue.enqueue("odd", "ml.nothing", 1)
    assert raised.value.code == "ValidationException"
    queue.enqueue("a", "ml.m5.large", 1)
    queue.enqueue("a", "ml.m5.large", 1)
    assert queue.queued() == ["a"]
    queue.admit()
    queue.enqueue("a", "ml.m5.large", 1)
    assert queue.queued() == []


def test_cancel_takes_a_job_out_of_the_queue() -> None:
    queue = scheduler()
    queue.enqueue("a", "ml.m5.2xlarge", 1)
    queue.enqueue("b", "ml.m5.2xlarge", 1)
    queue.enqueue("c", "ml.m5.large", 1)
    assert keys(queue.admit()) == ["a"]
    queue.cancel("b")
    queue.cancel("unknown")
    assert queue.queued() == ["c"]
    assert queue.waiting_message("b") is None
    queue.release("a")
    assert keys(queue.admit()) == ["c"]


def test_restore_marks_resources_held() -> None:
    queue = scheduler(real_cpus=4)
    held = [Resources("ml.m5.xlarge", 4, [0, 1], 16384), Resources("ml.m5.large", 2, [2], 8192)]
    queue.enqueue("restored", "ml.m5.large", 1)
    queue.restore("restored", held)
    assert not queue.is_queued("restored")
    assert queue.free == MachineCapacity(2, 8192, 0)
    queue.enqueue("next", "ml.m5.xlarge", 1)
    assert queue.admit() == []
    queue.release("restored")
    assert keys(queue.admit()) == ["next"]


def test_restore_beyond_a_shrunk_capacity_waits_for_release() -> None:
    queue = scheduler(cpus=4, memory_mib=16384)
    queue.restore("old", [Resources("ml.m5.2xlarge", 8, [0, 1, 2, 3], 32768)])
    assert queue.free == MachineCapacity(0, 0, 0)
    queue.enqueue("new", "ml.t3.medium", 1)
    assert queue.admit() == []
    queue.release("old")
    assert keys(queue.admit()) == ["new"]


def test_waiting_message() -> None:
    queue = scheduler(cpus=6, memory_mib=24576)
    queue.enqueue("running", "ml.m5.xlarge", 1)
    queue.enqueue("first", "ml.m5.large", 2)
    queue.enqueue("second", "ml.m5.large", 2)
    queue.admit()
    assert queue.waiting_message("running") is None
    assert queue.waiting_message("first") == (
        "Waiting for capacity: 2 x ml.m5.large need 4 vCPUs and 16384 MiB; 2 vCPUs and 8192 MiB free; "
        "first in the queue"
    )
    assert queue.waiting_message("second") == (
        "Waiting for capacity: 2 x ml.m5.large need 4 vCPUs and 16384 MiB; 2 vCPUs and 8192 MiB free; "
        "1 job ahead in the queue"
    )


def test_waiting_message_names_gpus_for_gpu_types() -> None:
    queue = scheduler(cpus=16, memory_mib=65536, gpus=1)
    queue.enqueue("a", "ml.g4dn.xlarge", 1)
    queue.enqueue("b", "ml.g4dn.xlarge", 1)
    queue.admit()
    assert queue.waiting_message("b") == (
        "Waiting for capacity: 1 x ml.g4dn.xlarge needs 4 vCPUs, 16384 MiB and 1 GPU; "
        "12 vCPUs, 49152 MiB and 0 GPUs free; first in the queue"
    )


def test_hosts_get_distinct_cpus_while_there_are_enough() -> None:
    queue = scheduler(cpus=8)
    queue.enqueue("a", "ml.m5.large", 2)
    queue.enqueue("b", "ml.m5.xlarge", 1)
    hosts = [host for _, resources in queue.admit() for host in resources]
    ids = [cpu for host in hosts for cpu in host.cpu_ids]
    assert sorted(ids) == list(range(8))
    assert [len(host.cpu_ids) for host in hosts] == [2, 2, 4]
    queue.release("a")
    queue.enqueue("c", "ml.m5.xlarge", 1)
    [(_, [host])] = queue.admit()
    assert set(host.cpu_ids).isdisjoint(hosts[2].cpu_ids)


def test_oversubscribed_vcpus_spread_over_the_real_cpus() -> None:
    queue = scheduler(cpus=4, real_cpus=2)
    queue.enqueue("big", "ml.m5.xlarge", 1)
    [(_, [host])] = queue.admit()
    assert host.vcpus == 4 and host.cpu_ids == [0, 1]
    queue.release("big")
    queue.enqueue("a", "ml.t3.medium", 1)
    queue.enqueue("b", "ml.t3.medium", 1)
    hosts = [host for _, resources in queue.admit() for host in resources]
    assert [host.cpu_ids for host in hosts] == [[0, 1], [0, 1]]


def test_new_hosts_go_to_the_least_loaded_cpus() -> None:
    queue = scheduler(cpus=8, real_cpus=3)
    queue.restore("x", [Resources("ml.t3.medium", 2, [0, 1], 4096)])
    queue.enqueue("y", "ml.t3.medium", 1)
    [(_, [host])] = queue.admit()
    assert host.cpu_ids == [0, 2]


def test_default_cpu_ids_are_this_process_affinity() -> None:
    queue = CapacityScheduler(MachineCapacity(64, 1 << 20, 0))
    queue.enqueue("a", "ml.m5.large", 1)
    [(_, [host])] = queue.admit()
    assert host.cpu_ids and set(host.cpu_ids) <= os.sched_getaffinity(0)


def test_gpus_are_never_shared() -> None:
    queue = scheduler(cpus=64, memory_mib=1 << 20, gpus=6)
    queue.enqueue("four", "ml.g4dn.12xlarge", 1)
    queue.enqueue("one", "ml.g5.xlarge", 2)
    queue.enqueue("another", "ml.g5.xlarge", 1)
    admitted = queue.admit()
    assert keys(admitted) == ["four", "one"]
    gpu_ids = [gpu for _, hosts in admitted for host in hosts for gpu in host.gpu_ids]
    assert sorted(gpu_ids) == list(range(6))
    assert [host.gpu_ids for host in admitted[1].resources] in ([[4], [5]], [[5], [4]])
    queue.release("four")
    [(_, [host])] = queue.admit()
    assert len(host.gpu_ids) == 1 and host.gpu_ids[0] < 4
