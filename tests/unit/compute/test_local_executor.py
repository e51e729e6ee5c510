"""The local executor on real processes, with a small fake runner in place of the job runner."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from shipyard.compute.executor import HostHandle, HostState
from shipyard.compute.local import LocalExecutor
from shipyard.jobs.spec import HostEvent, HostResult, HostSpec, Image, Resources

pytestmark = pytest.mark.anyio

#: Does what host.json's request["Mode"] says, with the host directory as its argument.
FAKE_RUNNER = r'''
import json, os, signal, subprocess, sys, time

host = sys.argv[1]
mode = json.load(open(os.path.join(host, "host.json")))["request"]["Mode"]


def write(name, text):
    with open(os.path.join(host, name + ".tmp"), "w") as file:
        file.write(text)
    os.replace(os.path.join(host, name + ".tmp"), os.path.join(host, name))


def result(outcome, code=None):
    write("result.json", json.dumps({"outcome": outcome, "exit_code": code}))


if mode == "complete":
    print("runner says hi", flush=True)
    write("output.log", "epoch 1\nepoch 2\npartial")
    write("events.jsonl", json.dumps({"time": 1.5, "status": "Training", "message": "Training in progress"}) + "\n")
    facts = {
        "environment": dict(os.environ),
        "cwd": os.getcwd(),
        "session_leader": os.getsid(0) == os.getpid(),
        "stdin": os.read(0, 10).decode(),
    }
    write("facts.json", json.dumps(facts))
    result("Completed", 0)
elif mode == "exit":
    sys.exit(3)
elif mode == "stop":
    def on_term(*_):
        result("Stopped")
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    write("ready", "")
    while True:
        time.sleep(0.05)
elif mode == "grandchild":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    write("grandchild.pid", str(child.pid))
    time.sleep(600)
elif mode == "sleep":
    time.sleep(600)
elif mode == "allocate":
    data = b"x" * (512 << 20)
    result("Completed", 0)
elif mode == "child-allocates":
    code = subprocess.call([sys.executable, "-c", "data = b'x' * (512 << 20)"])
    result("Completed" if code == 0 else "Failed", code)
'''


def spec(mode: str, memory_mib: int = 512) -> HostSpec:
    return HostSpec(
        kind="training",
        job_name="job",
        job_arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/job",
        region="us-east-1",
        host="algo-1",
        hosts=["algo-1"],
        request={"Mode": mode},
        image=Image(uri="fake", kind="command"),
        resources=Resources("ml.m5.large", 2, [min(os.sched_getaffinity(0))], memory_mib),
        endpoint_url="http://127.0.0.1:1",
        credentials={},
    )


class Harness:
    """An executor running the fake runner; remembers every host it started."""

    def __init__(self, tmp_path: Path, executor: LocalExecutor) -> None:
        self.tmp_path = tmp_path
        self.executor = executor
        self.handles: list[HostHandle] = []

    async def start(self, mode: str, memory_mib: int = 512) -> HostHandle:
        handle = await self.executor.start(spec(mode, memory_mib), self.tmp_path / mode / "algo-1")
        self.handles.append(handle)
        return handle

    async def ended(self, handle: HostHandle) -> HostState:
        state = await self.executor.poll(handle)
        for _ in range(600):
            if not state.running:
                return state
            await asyncio.sleep(0.05)
            state = await self.executor.poll(handle)
        raise AssertionError(f"{handle} still runs")


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting")


def gone(pid: int) -> bool:
    """Whether process ``pid`` is dead (a zombie nobody reaped yet counts as dead)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def runner(tmp_path: Path) -> list[str]:
    script = tmp_path / "fake_runner.py"
    script.write_text(FAKE_RUNNER)
    return [sys.executable, str(script)]


@pytest.fixture
async def local(tmp_path: Path, runner: list[str]) -> AsyncIterator[Harness]:
    harness = Harness(tmp_path, LocalExecutor(runner))
    try:
        yield harness
    finally:
        for handle in harness.handles:
            await harness.executor.kill(handle)
            await harness.ended(handle)
            await harness.executor.release(handle)


async def test_runs_a_host_to_its_result(local: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "server-secret")
    monkeypatch.setenv("SHIPYARD_DATA_DIR", "/server/data")
    monkeypatch.setenv("KEEP_ME", "yes")
    handle = await local.start("complete")
    host_dir = Path(handle.host_dir)
    assert (handle.executor, handle.pid > 0) == ("local", True)
    assert HostSpec.read(host_dir) == spec("complete")
    assert (host_dir / "opt_ml").is_dir()

    state = await local.ended(handle)
    assert state == HostState(running=False, result=HostResult("Completed", 0))
    assert "runner says hi" in (host_dir / "runner.log").read_text()
    assert await local.executor.read_output(handle, 0) == (["epoch 1", "epoch 2"], 16)
    assert await local.executor.read_output(handle, 16) == ([], 16)
    events, offset = await local.executor.read_events(handle, 0)
    assert events == [HostEvent(1.5, "Training", "Training in progress")]
    assert await local.executor.read_events(handle, offset) == ([], offset)

    facts = json.loads((host_dir / "facts.json").read_text())
    environment = facts["environment"]
    assert environment["KEEP_ME"] == "yes"
    assert not [name for name in environment if name.startswith(("AWS_", "SHIPYARD_"))]
    assert Path(facts["cwd"]) == host_dir
    assert facts["session_leader"] is True
    assert facts["stdin"] == ""


async def test_exit_without_result_is_lost(local: Harness) -> None:
    state = await local.ended(await local.start("exit"))
    assert state.result is None
    assert state.lost_reason == "the job process exited with code 3 without a result"
    assert not state.out_of_memory


async def test_kill_ends_the_whole_process_group(local: Harness) -> None:
    handle = await local.start("grandchild")
    pid_file = Path(handle.host_dir) / "grandchild.pid"
    await until(pid_file.exists)
    grandchild = int(pid_file.read_text())
    assert not gone(grandchild)
    await local.executor.kill(handle)
    state = await local.ended(handle)
    assert state.result is None
    assert state.lost_reason == "the job process was killed by signal SIGKILL"
    await until(lambda: gone(grandchild))


async def test_stop_lets_the_runner_write_its_stopped_result(local: Harness) -> None:
    handle = await local.start("stop")
    await until((Path(handle.host_dir) / "ready").exists)
    await local.executor.stop(handle)
    state = await local.ended(handle)
    assert state.result == HostResult("Stopped")
    assert state.lost_reason == ""
    await local.executor.stop(handle)  # an ended runner: nothing to do


async def test_attach_knows_a_live_runner_by_pid_and_start_time(local: Harness, runner: list[str]) -> None:
    handle = await local.start("sleep")
    restarted = LocalExecutor(runner)
    assert local.executor.attach(handle)
    assert restarted.attach(handle)
    assert not restarted.attach(replace(handle, started=handle.started + 1))
    assert await restarted.poll(handle) == HostState(running=True)

    await restarted.kill(handle)
    await until(lambda: not restarted.attach(handle))
    state = await local.ended(handle)
    assert state.lost_reason == "the job process was killed by signal SIGKILL"
    # Not its child: the restarted server cannot know how the runner ended.
    assert await restarted.poll(handle) == HostState(running=False, lost_reason="the job process ended without a result")
    assert not local.executor.attach(handle)


async def test_a_runner_over_its_memory_limit_is_killed(local: Harness) -> None:
    handle = await local.start("allocate", memory_mib=64)
    state = await local.ended(handle)
    if "cgroup" not in handle.extra:
        assert handle.extra == {"memory_limit": "none"}
        return
    cgroup = Path(handle.extra["cgroup"])
    assert cgroup.is_dir()
    assert state.out_of_memory
    assert state.result is None
    assert state.lost_reason == "the job process ran out of memory (its limit is 64 MiB) and was killed"
    await local.executor.release(handle)
    assert not cgroup.exists()


async def test_job_code_over_the_limit_is_reported_with_the_runner_result(local: Harness) -> None:
    handle = await local.start("child-allocates", memory_mib=64)
    state = await local.ended(handle)
    if "cgroup" not in handle.extra:
        assert handle.extra == {"memory_limit": "none"}
        return
    assert state.out_of_memory
    assert state.result == HostResult("Failed", -9)
    assert state.lost_reason == ""


async def test_without_a_writable_cgroup_the_limit_is_left_to_the_runner(tmp_path: Path, runner: list[str]) -> None:
    executor = LocalExecutor(runner, cgroup_root=tmp_path / "no-cgroups")
    handle = await executor.start(spec("complete"), tmp_path / "host")
    harness = Harness(tmp_path, executor)
    try:
        assert handle.extra == {"memory_limit": "none"}
        assert (await harness.ended(handle)).result == HostResult("Completed", 0)
        facts = json.loads((tmp_path / "host" / "facts.json").read_text())
        assert facts["environment"]["SHIPYARD_RLIMIT_AS"] == "1"  # the runner caps the job itself
    finally:
        await executor.kill(handle)
        await harness.ended(handle)
        await executor.release(handle)


async def test_abandon_ends_a_runner_whose_handle_was_never_recorded(local: Harness, runner: list[str]) -> None:
    handle = await local.start("grandchild")
    pid_file = Path(handle.host_dir) / "grandchild.pid"
    await until(pid_file.exists)
    grandchild = int(pid_file.read_text())
    await LocalExecutor(runner).abandon(Path(handle.host_dir))  # as a restarted server would
    state = await local.ended(handle)
    assert state.lost_reason == "the job process was killed by signal SIGKILL"
    await until(lambda: gone(grandchild))
