"""Memory cgroups for job hosts: a hard memory limit the kernel enforces on a process tree.

One cgroup per host, under ``shipyard/`` in the memory hierarchy: cgroup v2 where the
unified hierarchy has the memory controller, else cgroup v1's ``memory`` hierarchy. Swap
is limited too where the kernel accounts it, so a host over its limit is killed by the
kernel's OOM killer rather than swapped out. Children of a process in the cgroup are in it.
"""

from __future__ import annotations

import contextlib
import errno
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Our subtree in either hierarchy.
SUBTREE = "shipyard"


@dataclass(frozen=True)
class MemoryCgroup:
    """One memory cgroup, known by its directory."""

    path: Path

    @classmethod
    def create(cls, name: str, limit_mib: int, root: Path = CGROUP_ROOT) -> MemoryCgroup | None:
        """A new cgroup ``name`` limited to ``limit_mib``; None where no hierarchy is writable."""
        if "memory" in read_file(root / "cgroup.controllers").split():
            parent, limit_file = _v2_subtree(root), "memory.max"
            swap_file, swap_mib = "memory.swap.max", 0
        elif (root / "memory" / "memory.limit_in_bytes").exists():
            # memsw is memory plus swap: as large as the memory limit means no swap at all.
            parent, limit_file = root / "memory" / SUBTREE, "memory.limit_in_bytes"
            swap_file, swap_mib = "memory.memsw.limit_in_bytes", limit_mib
        else:
            return None
        try:
            parent.mkdir(exist_ok=True)
            (parent / name).mkdir()
        except OSError:
            return None
        cgroup = cls(parent / name)
        try:
            # The memory limit first: the kernel wants memsw at least as large.
            (cgroup.path / limit_file).write_text(str(limit_mib << 20))
            # Swap limits exist only where the kernel accounts swap.
            if (cgroup.path / swap_file).exists():
                (cgroup.path / swap_file).write_text(str(swap_mib << 20))
        except OSError:
            cgroup.remove()
            return None
        return cgroup

    @property
    def version(self) -> int:
        return 1 if (self.path / "memory.limit_in_bytes").exists() else 2

    def add(self, pid: int) -> None:
        """Move process ``pid`` (all its threads) into this cgroup."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def pids(self) -> list[int]:
        """Processes in this cgroup now (none once it is gone)."""
        return [int(line) for line in read_file(self.path / "cgroup.procs").split()]

    def limit_mib(self) -> int | None:
        """The memory limit, in MiB; None if there is none (or the cgroup is gone)."""
        text = read_file(self.path / ("memory.limit_in_bytes" if self.version == 1 else "memory.max")).strip()
        return int(text) >> 20 if text.isdigit() else None

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of this cgroup for exceeding its limit.

        cgroup v1 kernels older than 4.13 do not count OOM kills; there, reaching the limit
        at all (``memory.failcnt``) is the best sign there is.
        """
        if self.version == 2:
            return counter(read_file(self.path / "memory.events"), "oom_kill") > 0
        control = read_file(self.path / "memory.oom_control")
        if "oom_kill " in control:
            return counter(control, "oom_kill") > 0
        return int(read_file(self.path / "memory.failcnt").strip() or 0) > 0

    def remove(self) -> bool:
        """Delete the cgroup; False while processes are still in it (True if already gone)."""
        try:
            self.path.rmdir()
        except FileNotFoundError:
            return True
        except OSError as error:
            if error.errno == errno.EBUSY:
                return False
            raise
        return True


def _v2_subtree(root: Path) -> Path:
    """``root/shipyard`` with the memory controller enabled for the cgroups made in it."""
    subtree = root / SUBTREE
    with contextlib.suppress(OSError):
        if "memory" not in read_file(root / "cgroup.subtree_control").split():
            (root / "cgroup.subtree_control").write_text("+memory")
        subtree.mkdir(exist_ok=True)
        (subtree / "cgroup.subtree_control").write_text("+memory")
    return subtree


def read_file(path: Path) -> str:
    """The text of a cgroup (or /proc) file; empty when it cannot be read."""
    try:
        return path.read_text()
    except OSError:
        return ""


def counter(text: str, name: str) -> int:
    """The value of line ``<name> <value>`` in a cgroup key-value file (0 if absent)."""
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == name:
            return int(value)
    return 0
