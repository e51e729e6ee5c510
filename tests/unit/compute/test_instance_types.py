"""The instance-type catalog carries AWS's numbers."""

from __future__ import annotations

import pytest

from shipyard.compute.instances import INSTANCE_TYPES, InstanceType, instance_type


@pytest.mark.parametrize(
    ("name", "vcpus", "memory_mib", "gpus"),
    [
        ("ml.t3.medium", 2, 4096, 0),
        ("ml.m5.large", 2, 8192, 0),
        ("ml.m5.24xlarge", 96, 393216, 0),
        ("ml.c4.large", 2, 3840, 0),
        ("ml.c5n.9xlarge", 36, 98304, 0),
        ("ml.r5.large", 2, 16384, 0),
        ("ml.g4dn.12xlarge", 48, 196608, 4),
        ("ml.g5.48xlarge", 192, 786432, 8),
        ("ml.p2.16xlarge", 64, 749568, 16),
        ("ml.p3.2xlarge", 8, 62464, 1),
        ("ml.p4d.24xlarge", 96, 1179648, 8),
        ("ml.p5.48xlarge", 192, 2097152, 8),
    ],
)
def test_catalog_numbers(name: str, vcpus: int, memory_mib: int, gpus: int) -> None:
    assert instance_type(name) == InstanceType(name, vcpus, memory_mib, gpus)


def test_requested_families_are_covered() -> None:
    for family, sizes in {
        "ml.t2": ["medium", "large", "xlarge", "2xlarge"],
        "ml.m4": ["xlarge", "2xlarge", "4xlarge", "10xlarge", "16xlarge"],
        "ml.m6i": ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"],
        "ml.c5": ["large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"],
        "ml.g4dn": ["xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
        "ml.p3": ["2xlarge", "8xlarge", "16xlarge"],
    }.items():
        for size in sizes:
            assert f"{family}.{size}" in INSTANCE_TYPES


def test_unknown_type() -> None:
    assert instance_type("ml.m5.huge") is None
    assert instance_type("local") is None
