"""SageMaker's ML instance types with AWS's numbers: vCPUs, memory and GPUs.

The numbers are those of the EC2 instance behind each ``ml.*`` type, as AWS publishes
them (memory in GiB there, in MiB here). Accelerators that are not CUDA GPUs (Trainium)
count as no GPUs: jobs see GPUs through ``CUDA_VISIBLE_DEVICES`` only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceType:
    """One ML instance type: what a host of that type gets."""

    name: str
    vcpus: int
    memory_mib: int
    gpus: int = 0


#: (name, vCPUs, memory in GiB, GPUs), as AWS lists them.
_TABLE: tuple[tuple[str, int, float, int], ...] = (
    # Burstable
    ("ml.t2.medium", 2, 4, 0),
    ("ml.t2.large", 2, 8, 0),
    ("ml.t2.xlarge", 4, 16, 0),
    ("ml.t2.2xlarge", 8, 32, 0),
    ("ml.t3.medium", 2, 4, 0),
    ("ml.t3.large", 2, 8, 0),
    ("ml.t3.xlarge", 4, 16, 0),
    ("ml.t3.2xlarge", 8, 32, 0),
    # General purpose
    ("ml.m4.xlarge", 4, 16, 0),
    ("ml.m4.2xlarge", 8, 32, 0),
    ("ml.m4.4xlarge", 16, 64, 0),
    ("ml.m4.10xlarge", 40, 160, 0),
    ("ml.m4.16xlarge", 64, 256, 0),
    ("ml.m5.large", 2, 8, 0),
    ("ml.m5.xlarge", 4, 16, 0),
    ("ml.m5.2xlarge", 8, 32, 0),
    ("ml.m5.4xlarge", 16, 64, 0),
    ("ml.m5.12xlarge", 48, 192, 0),
    ("ml.m5.24xlarge", 96, 384, 0),
    ("ml.m5d.large", 2, 8, 0),
    ("ml.m5d.xlarge", 4, 16, 0),
    ("ml.m5d.2xlarge", 8, 32, 0),
    ("ml.m5d.4xlarge", 16, 64, 0),
    ("ml.m5d.8xlarge", 32, 128, 0),
    ("ml.m5d.12xlarge", 48, 192, 0),
    ("ml.m5d.16xlarge", 64, 256, 0),
    ("ml.m5d.24xlarge", 96, 384, 0),
    ("ml.m6i.large", 2, 8, 0),
    ("ml.m6i.xlarge", 4, 16, 0),
    ("ml.m6i.2xlarge", 8, 32, 0),
    ("ml.m6i.4xlarge", 16, 64, 0),
    ("ml.m6i.8xlarge", 32, 128, 0),
    ("ml.m6i.12xlarge", 48, 192, 0),
    ("ml.m6i.16xlarge", 64, 256, 0),
    ("ml.m6i.24xlarge", 96, 384, 0),
    ("ml.m6i.32xlarge", 128, 512, 0),
    # Compute optimized
    ("ml.c4.large", 2, 3.75, 0),
    ("ml.c4.xlarge", 4, 7.5, 0),
    ("ml.c4.2xlarge", 8, 15, 0),
    ("ml.c4.4xlarge", 16, 30, 0),
    ("ml.c4.8xlarge", 36, 60, 0),
    ("ml.c5.large", 2, 4, 0),
    ("ml.c5.xlarge", 4, 8, 0),
    ("ml.c5.2xlarge", 8, 16, 0),
    ("ml.c5.4xlarge", 16, 32, 0),
    ("ml.c5.9xlarge", 36, 72, 0),
    ("ml.c5.18xlarge", 72, 144, 0),
    ("ml.c5n.large", 2, 5.25, 0),
    ("ml.c5n.xlarge", 4, 10.5, 0),
    ("ml.c5n.2xlarge", 8, 21, 0),
    ("ml.c5n.4xlarge", 16, 42, 0),
    ("ml.c5n.9xlarge", 36, 96, 0),
    ("ml.c5n.18xlarge", 72, 192, 0),
    ("ml.c6i.large", 2, 4, 0),
    ("ml.c6i.xlarge", 4, 8, 0),
    ("ml.c6i.2xlarge", 8, 16, 0),
    ("ml.c6i.4xlarge", 16, 32, 0),
    ("ml.c6i.8xlarge", 32, 64, 0),
    ("ml.c6i.12xlarge", 48, 96, 0),
    ("ml.c6i.16xlarge", 64, 128, 0),
    ("ml.c6i.24xlarge", 96, 192, 0),
    ("ml.c6i.32xlarge", 128, 256, 0),
    # Memory optimized
    ("ml.r5.large", 2, 16, 0),
    ("ml.r5.xlarge", 4, 32, 0),
    ("ml.r5.2xlarge", 8, 64, 0),
    ("ml.r5.4xlarge", 16, 128, 0),
    ("ml.r5.8xlarge", 32, 256, 0),
    ("ml.r5.12xlarge", 48, 384, 0),
    ("ml.r5.16xlarge", 64, 512, 0),
    ("ml.r5.24xlarge", 96, 768, 0),
    # Accelerated computing
    ("ml.g4dn.xlarge", 4, 16, 1),
    ("ml.g4dn.2xlarge", 8, 32, 1),
    ("ml.g4dn.4xlarge", 16, 64, 1),
    ("ml.g4dn.8xlarge", 32, 128, 1),
    ("ml.g4dn.12xlarge", 48, 192, 4),
    ("ml.g4dn.16xlarge", 64, 256, 1),
    ("ml.g5.xlarge", 4, 16, 1),
    ("ml.g5.2xlarge", 8, 32, 1),
    ("ml.g5.4xlarge", 16, 64, 1),
    ("ml.g5.8xlarge", 32, 128, 1),
    ("ml.g5.12xlarge", 48, 192, 4),
    ("ml.g5.16xlarge", 64, 256, 1),
    ("ml.g5.24xlarge", 96, 384, 4),
    ("ml.g5.48xlarge", 192, 768, 8),
    ("ml.p2.xlarge", 4, 61, 1),
    ("ml.p2.8xlarge", 32, 488, 8),
    ("ml.p2.16xlarge", 64, 732, 16),
    ("ml.p3.2xlarge", 8, 61, 1),
    ("ml.p3.8xlarge", 32, 244, 4),
    ("ml.p3.16xlarge", 64, 488, 8),
    ("ml.p3dn.24xlarge", 96, 768, 8),
    ("ml.p4d.24xlarge", 96, 1152, 8),
    ("ml.p5.48xlarge", 192, 2048, 8),
    ("ml.trn1.2xlarge", 8, 32, 0),
    ("ml.trn1.32xlarge", 128, 512, 0),
    ("ml.trn1n.32xlarge", 128, 512, 0),
)

INSTANCE_TYPES: dict[str, InstanceType] = {
    name: InstanceType(name, vcpus, int(gib * 1024), gpus) for name, vcpus, gib, gpus in _TABLE
}


def instance_type(name: str) -> InstanceType | None:
    """The instance type called ``name`` (``ml.m5.large``), or None if there is none."""
    return INSTANCE_TYPES.get(name)
