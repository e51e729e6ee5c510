"""Machine capacity: detection, administrators' overrides, and whether a job can ever fit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shipyard.compute.capacity import (
    MIN_CPUS,
    MachineCapacity,
    check_fits,
    detect_capacity,
)
from shipyard.errors import AwsError

SMALL = MachineCapacity(cpus=4, memory_mib=23919, gpus=0)


def test_detected_capacity_has_at_least_four_cpus_and_physical_memory() -> None:
    capacity = detect_capacity()
    assert capacity.cpus == max(os.cpu_count() or 1, MIN_CPUS)
    meminfo = Path("/proc/meminfo").read_text()
    total_kib = int(next(line for line in meminfo.splitlines() if line.startswith("MemTotal:")).split()[1])
    assert capacity.memory_mib == total_kib // 1024
    assert capacity.gpus >= 0


def test_overrides_win() -> None:
    assert detect_capacity(cpus=64, memory_mib=1024, gpus=2) == MachineCapacity(64, 1024, 2)


def test_fitting_job_passes() -> None:
    assert check_fits("ml.m5.xlarge", 1, SMALL).vcpus == 4
    assert check_fits("ml.m5.large", 2, SMALL).name == "ml.m5.large"


def test_job_too_large_for_the_server() -> None:
    with pytest.raises(AwsError) as raised:
        check_fits("ml.m5.24xlarge", 1, SMALL)
    assert (raised.value.code, raised.value.status) == ("ResourceLimitExceeded", 400)
    assert raised.value.message == (
        "ml.m5.24xlarge needs 96 vCPUs, 393216 MiB of memory and 0 GPUs per instance (1 instance); "
        "this Shipyard server offers 4 vCPUs, 23919 MiB and 0 GPUs (shipyard up --cpus/--memory/--gpus)"
    )


def test_count_counts() -> None:
    with pytest.raises(AwsError) as raised:
        check_fits("ml.m5.large", 3, SMALL)
    assert raised.value.code == "ResourceLimitExceeded"
    assert "per instance (3 instances)" in raised.value.message


def test_gpus_are_needed() -> None:
    with pytest.raises(AwsError) as raised:
        check_fits("ml.g4dn.xlarge", 1, MachineCapacity(cpus=8, memory_mib=65536, gpus=0))
    assert raised.value.code == "ResourceLimitExceeded"
    assert "and 1 GPU per instance" in raised.value.message
    check_fits("ml.g4dn.xlarge", 1, MachineCapacity(cpus=8, memory_mib=65536, gpus=1))


def test_unknown_type_is_a_validation_error() -> None:
    with pytest.raises(AwsError) as raised:
        check_fits("ml.m5.huge", 1, SMALL)
    assert (raised.value.code, raised.value.status) == ("ValidationException", 400)
    assert "ml.m5.huge" in raised.value.message
