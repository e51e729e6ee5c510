"""The ``local`` executor: each job host is an OS process on this machine.

A host's runner gets its own session (so its process group holds everything it starts)
and its memory cgroup where the kernel lets us make one (the runner limits itself
otherwise); the runner pins itself to the CPUs the scheduler assigned. A runner outlives
the server; after a restart the server re-attaches by pid and start time, read from
``/proc``. With ``spare``, one runner waits ready-imported for the next job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from shipyard.compute.cgroups import CGROUP_ROOT, MemoryCgroup
from shipyard.compute.executor import HostHandle, HostState, LaunchSpec
from shipyard.jobs.spec import (
    OPT_ML,
    OUTPUT_LOG,
    RLIMIT_SWITCH,
    RUNNER_LOG,
    SPARE,
    HostEvent,
    HostResult,
    read_events,
    read_lines,
)

DEFAULT_RUNNER: tuple[str, ...] = (sys.executable, "-m", "shipyard.jobs.runner")
#: Variables of the server's environment a job never inherits: its credentials and
#: endpoint come from the host spec, and the server's own settings are none of its business.
PRIVATE_PREFIXES = ("AWS_", "SHIPYARD_")


class LocalExecutor:
    """Runs each host's runner as a process of this machine."""

    name = "local"

    def __init__(
        self, runner: Sequence[str] = DEFAULT_RUNNER, cgroup_root: Path = CGROUP_ROOT, *, spare: bool = False
    ) -> None:
        """``runner``: the command to which the host directory is appended.

        With ``spare``, one runner is kept started ahead of need (``runner --spare``): it has
        its imports done and S3's model loaded when a job comes, which takes most of the
        start-up time off the job. The runner must understand ``--spare``.
        """
        self._runner = list(runner)
        self._cgroup_root = cgroup_root
        #: Runners this executor started, by (pid, start time): polling them reaps them.
        self._children: dict[tuple[int, int], subprocess.Popen[bytes]] = {}
        self._use_spare = spare
        self._spare: subprocess.Popen[bytes] | None = None

    async def start(self, spec: LaunchSpec, host_dir: Path) -> HostHandle:
        """Write ``spec`` into ``host_dir`` and start its runner; returns at once."""
        return await asyncio.to_thread(self._start, spec, host_dir)

    def _start(self, spec: LaunchSpec, host_dir: Path) -> HostHandle:
        (host_dir / OPT_ML).mkdir(parents=True, exist_ok=True)
        spec.write(host_dir)
        cgroup = MemoryCgroup.create(
            f"{spec.label}-{secrets.token_hex(4)}", spec.resources.memory_mib, self._cgroup_root
        )
        # No kernel-enforced limit: the runner caps the job's address space instead.
        extra_env = {RLIMIT_SWITCH: "1"} if cgroup is None else {}
        try:
            process = self._take_spare(host_dir, extra_env) or self._spawn(host_dir, extra_env)
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            raise
        # In time for the job: the runner imports for a while before it starts any job code,
        # and the processes it starts inherit the cgroup. (The runner pins itself to its CPUs.)
        if cgroup is not None:
            try:
                cgroup.add(process.pid)
            except OSError:
                cgroup.remove()
                cgroup = None
        stat = _stat(process.pid)
        # The child cannot be gone yet: until it is reaped, its /proc entry stays.
        assert stat is not None
        self._children[(process.pid, stat.started)] = process
        extra = {"cgroup": str(cgroup.path)} if cgroup is not None else {"memory_limit": "none"}
        if self._use_spare:
            self._spare = self._spawn_spare()
        return HostHandle(self.name, str(host_dir), process.pid, stat.started, extra)

    def prepare(self) -> None:
        """Start the spare runner now rather than with the first job (no-op without spares)."""
        if self._use_spare and self._spare is None:
            self._spare = self._spawn_spare()

    def close(self) -> None:
        """End the spare runner (running jobs are not touched)."""
        if self._spare is not None:
            with contextlib.suppress(OSError):
                self._spare.stdin.close()  # type: ignore[union-attr]
            self._spare.wait()
            self._spare = None

    def _spawn(self, host_dir: Path, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (host_dir / RUNNER_LOG).open("ab") as log:
            return subprocess.Popen(
                [*self._runner, str(host_dir)],
                cwd=host_dir,
                env={**_job_environment(), **extra_env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _spawn_spare(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*self._runner, SPARE],
            env=_job_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _take_spare(self, host_dir: Path, extra_env: dict[str, str]) -> subprocess.Popen[bytes] | None:
        """The spare runner, told to run ``host_dir``; None if there is no live spare."""
        spare, self._spare = self._spare, None
        if spare is None or spare.poll() is not None:
            return None
        order = json.dumps({"host_dir": str(host_dir), "env": extra_env}) + "\n"
        try:
            spare.stdin.write(order.encode())  # type: ignore[union-attr]
            spare.stdin.close()  # type: ignore[union-attr]
        except OSError:  # it died just now
            spare.kill()
            spare.wait()
            return None
        return spare

    async def poll(self, handle: HostHandle) -> HostState:
        """Whether the runner still runs; once it ended, its result or why there is none."""
        child = self._children.get((handle.pid, handle.started))
        if child is not None:
            code = child.poll()
            if code is None:
                return HostState(running=True)
        elif self.attach(handle):
            return HostState(running=True)
        else:
            code = None  # not our child: how it ended is not ours to know
        cgroup = _cgroup(handle)
        out_of_memory = cgroup is not None and cgroup.out_of_memory()
        result = HostResult.read(Path(handle.host_dir))
        if result is not None:
            return HostState(running=False, result=result, out_of_memory=out_of_memory)
        if cgroup is not None and out_of_memory:
            reason = f"the job process ran out of memory (its limit is {cgroup.limit_mib()} MiB) and was killed"
        else:
            reason = _exit_reason(code)
        return HostState(running=False, lost_reason=reason, out_of_memory=out_of_memory)

    async def stop(self, handle: HostHandle) -> None:
        """SIGTERM to the runner alone: it stops the job and writes a ``Stopped`` result."""
        if self._is_running(handle):
            with contextlib.suppress(ProcessLookupError):
                os.kill(handle.pid, signal.SIGTERM)

    async def kill(self, handle: HostHandle) -> None:
        """SIGKILL to the runner's process group, and to anything else left in its cgroup."""
        stat = _stat(handle.pid)
        # A live pid with another start time is a recycled pid (someone else's group). A dead
        # runner's group may still hold what it started: the kernel keeps its id for them.
        if stat is None or stat.started == handle.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(handle.pid, signal.SIGKILL)
        cgroup = _cgroup(handle)
        for pid in cgroup.pids() if cgroup is not None else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def attach(self, handle: HostHandle) -> bool:
        """Whether ``handle``'s runner is alive: its pid exists with the same start time."""
        stat = _stat(handle.pid)
        return stat is not None and stat.started == handle.started and stat.state != "Z"

    async def read_output(self, handle: HostHandle, offset: int) -> tuple[list[str], int]:
        """Complete lines of ``output.log`` from byte ``offset`` on; and the next offset."""
        return await asyncio.to_thread(read_lines, Path(handle.host_dir) / OUTPUT_LOG, offset)

    async def read_events(self, handle: HostHandle, offset: int) -> tuple[list[HostEvent], int]:
        """Events of ``events.jsonl`` from byte ``offset`` on; and the next offset."""
        return await asyncio.to_thread(read_events, Path(handle.host_dir), offset)

    async def abandon(self, host_dir: Path) -> None:
        """SIGKILL to the process group of every runner working in ``host_dir``.

        A runner's working directory is its host directory (a spare moves there when it
        takes a job), which is how one is found with no pid on record.
        """
        for pid in await asyncio.to_thread(_working_in, host_dir.resolve()):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    async def release(self, handle: HostHandle) -> None:
        """Forget the ended runner and remove its cgroup (the host directory stays).

        The cgroup outlasts its processes by a moment (until they are reaped), so removing
        it is retried for a while; a cgroup still busy after that is left behind.
        """
        key = (handle.pid, handle.started)
        child = self._children.get(key)
        if child is not None and child.poll() is not None:
            del self._children[key]
        cgroup = _cgroup(handle)
        for _ in range(20):
            if cgroup is None or cgroup.remove():
                return
            await asyncio.sleep(0.05)

    def _is_running(self, handle: HostHandle) -> bool:
        child = self._children.get((handle.pid, handle.started))
        return child.poll() is None if child is not None else self.attach(handle)


class _Stat(NamedTuple):
    state: str
    #: Clock ticks since boot when the process started (field 22 of /proc/<pid>/stat).
    started: int


def _stat(pid: int) -> _Stat | None:
    """State and start time of process ``pid``; None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces and parentheses.
    fields = text[text.rindex(")") + 2 :].split()
    return _Stat(state=fields[0], started=int(fields[19]))


def _working_in(directory: Path) -> list[int]:
    """Processes whose working directory is ``directory``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if Path(os.readlink(entry / "cwd")) == directory:
                    found.append(int(entry.name))
    return found


def _job_environment() -> dict[str, str]:
    """The server's environment without what a job must not inherit."""
    return {name: value for name, value in os.environ.items() if not name.startswith(PRIVATE_PREFIXES)}


def _cgroup(handle: HostHandle) -> MemoryCgroup | None:
    path = handle.extra.get("cgroup")
    return MemoryCgroup(Path(path)) if path else None


def _exit_reason(code: int | None) -> str:
    """Why a runner that ended with exit status ``code`` (None: unknown) left no result."""
    if code is None:
        return "the job process ended without a result"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"the job process was killed by signal {name}"
    return f"the job process exited with code {code} without a result"
