"""Memory cgroups: the files written in either hierarchy, and how an OOM kill is read back.

A directory tree shaped like /sys/fs/cgroup stands in for the kernel's; the live hierarchy
is exercised by the local executor's tests.
"""

from __future__ import annotations

from pathlib import Path

from shipyard.compute.cgroups import MemoryCgroup


def test_cgroup_v2_layout(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    cgroup = MemoryCgroup.create("job-algo-1", 64, tmp_path)
    assert cgroup is not None and cgroup.path == tmp_path / "shipyard" / "job-algo-1"
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory"
    assert (tmp_path / "shipyard" / "cgroup.subtree_control").read_text() == "+memory"
    assert (cgroup.path / "memory.max").read_text() == str(64 << 20)
    assert cgroup.version == 2 and cgroup.limit_mib() == 64
    cgroup.add(1234)
    assert cgroup.pids() == [1234]
    (cgroup.path / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 1\noom_kill 0\n")
    assert not cgroup.out_of_memory()
    (cgroup.path / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n")
    assert cgroup.out_of_memory()


def test_cgroup_v1_layout(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    cgroup = MemoryCgroup.create("job-algo-2", 128, tmp_path)
    assert cgroup is not None and cgroup.path == tmp_path / "memory" / "shipyard" / "job-algo-2"
    assert cgroup.version == 1 and cgroup.limit_mib() == 128
    (cgroup.path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    (cgroup.path / "memory.failcnt").write_text("12\n")
    assert not cgroup.out_of_memory()
    (cgroup.path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert cgroup.out_of_memory()


def test_old_cgroup_v1_kernels_fall_back_to_the_limit_hit_count(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    cgroup = MemoryCgroup.create("old", 128, tmp_path)
    assert cgroup is not None
    (cgroup.path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\n")
    (cgroup.path / "memory.failcnt").write_text("0\n")
    assert not cgroup.out_of_memory()
    (cgroup.path / "memory.failcnt").write_text("3\n")
    assert cgroup.out_of_memory()


def test_no_memory_hierarchy(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu io pids\n")
    assert MemoryCgroup.create("job", 64, tmp_path) is None
    assert MemoryCgroup.create("job", 64, tmp_path / "missing") is None


def test_removing_a_missing_cgroup_is_fine(tmp_path: Path) -> None:
    assert MemoryCgroup(tmp_path / "gone").remove()
    (tmp_path / "empty").mkdir()
    assert MemoryCgroup(tmp_path / "empty").remove()
    assert not (tmp_path / "empty").exists()
