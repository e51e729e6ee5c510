"""S3 throughput of Shipyard next to moto's standalone server and a plain ``cp``.

Run from the repository root, with nothing else busy on the machine::

    python bench/s3.py [--small-count 2000] [--large-mib 256] [--out bench/README.md]

One run starts both peers itself (moto's standalone server, then a ``shipyard up``),
one after the other on free loopback ports, and drives each with identically
configured boto3 clients:

* PUT and GET of many small objects, sequentially from one client (objects/s);
* ``upload_file`` and ``download_file`` of one large seeded random file (MiB/s), the
  download checked byte for byte (sha256);
* the same large file copied with ``cp`` on the same disk, as the ceiling for large
  objects (MiB/s).

The medians go to stdout as a markdown table and, between the results markers, into
``--out``. Both servers are stopped when the run ends, whether it succeeded or not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from shipyard.testing.server import free_port, start_server

MIB = 1024 * 1024
REGION = "us-east-1"
BUCKET = "bench"
SEED = 20240601
SMALL_SIZE = 1024
WARMUP_REQUESTS = 50
CP_MIN_REPS = 3
START_MARKER = "<!-- results:start -->"
END_MARKER = "<!-- results:end -->"
SMALL_TARGET = 3.0  # Shipyard >= 3x moto on small objects
LARGE_TARGET = 0.8  # Shipyard >= 80% of cp on the large object

CLIENT_CONFIG = Config(
    region_name=REGION,
    retries={"max_attempts": 1, "mode": "standard"},
    s3={"addressing_style": "path"},
    max_pool_connections=10,
)
TRANSFER_CONFIG = TransferConfig(
    multipart_threshold=8 * MIB,
    multipart_chunksize=8 * MIB,
    max_concurrency=10,
    use_threads=True,
    preferred_transfer_client="classic",
)


# --------------------------------------------------------------------------- peers


@dataclass
class Peer:
    """A running S3 endpoint under test: where it is, how to sign, which process."""

    name: str
    endpoint_url: str
    access_key: str
    secret_key: str
    pid: int
    log_path: Path

    def client(self) -> Any:
        """A boto3 S3 client; every peer gets exactly the same configuration."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=CLIENT_CONFIG,
        )

    def peak_rss_bytes(self) -> int:
        """The process's peak resident memory so far (VmHWM)."""
        return _proc_status_kib(self.pid, "VmHWM") * 1024

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's own log, for error reports."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as error:
            return f"(no log: {error})"


def _proc_status_kib(pid: int, field_name: str) -> int:
    """One ``kB`` field of ``/proc/<pid>/status``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} in /proc/{pid}/status")


def _clean_env() -> dict[str, str]:
    """The environment without any AWS settings that could leak into a peer."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHIPYARD_"))}


def _wait_until_answering(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    """Poll ``url`` until the server answers any HTTP status at all."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server at {url} did not answer within {timeout:.0f}s:\n{log_path.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the process lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def moto_peer(workdir: Path) -> Iterator[Peer]:
    """moto's standalone server (``python -m moto.server``) on a free loopback port."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / "moto.log"
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(args, env=_clean_env(), stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _wait_until_answering(f"{endpoint}/moto-api/", process, log_path)
        yield Peer("moto", endpoint, "testing", "testing", process.pid, log_path)
    finally:
        _stop(process)


@contextmanager
def shipyard_peer(workdir: Path) -> Iterator[Peer]:
    """``shipyard up`` through the test helper, signed with the root key it wrote."""
    with start_server(workdir) as server:
        assert server.process is not None
        access_key, secret_key = server.credentials
        yield Peer("Shipyard", server.endpoint_url, access_key, secret_key, server.process.pid, server.log_path)


PEERS: dict[str, Callable[[Path], AbstractContextManager[Peer]]] = {"Shipyard": shipyard_peer, "moto": moto_peer}


# --------------------------------------------------------------------- workloads


@dataclass
class PeerResult:
    """Everything measured on one peer; rates are one value per repetition."""

    put_rates: list[float] = field(default_factory=list)
    get_rates: list[float] = field(default_factory=list)
    upload_rates: list[float] = field(default_factory=list)
    download_rates: list[float] = field(default_factory=list)
    peak_rss_before_large: int = 0
    peak_rss_after_large: int = 0
    error: str = ""


@dataclass
class Plan:
    """What to run: sizes, repetitions and where the large file lives."""

    small_count: int
    small_reps: int
    large_reps: int
    large_file: Path
    large_bytes: int
    large_sha256: str
    scratch: Path


def _timed(action: Callable[[], None]) -> float:
    """Seconds ``action`` took, by the monotonic high-resolution clock."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def small_payloads(count: int, rep: int) -> list[bytes]:
    """Seeded 1 KiB bodies, distinct per object and per repetition."""
    rng = random.Random(f"{SEED}-small-{rep}")
    return [rng.randbytes(SMALL_SIZE) for _ in range(count)]


def small_key(rep: int, index: int) -> str:
    """The key of small object ``index`` in repetition ``rep``."""
    return f"small/{rep}/{index:06d}"


def warm_up(client: Any) -> None:
    """A few round trips so that connections, imports and caches are warm."""
    body = b"w" * SMALL_SIZE
    for index in range(WARMUP_REQUESTS // 2):
        client.put_object(Bucket=BUCKET, Key=f"warmup/{index}", Body=body)
        client.get_object(Bucket=BUCKET, Key=f"warmup/{index}")["Body"].read()


def put_small(client: Any, rep: int, payloads: list[bytes]) -> float:
    """Sequential ``put_object`` of every payload; objects per second."""

    def run() -> None:
        for index, body in enumerate(payloads):
            client.put_object(Bucket=BUCKET, Key=small_key(rep, index), Body=body)

    return len(payloads) / _timed(run)


def get_small(client: Any, rep: int, payloads: list[bytes]) -> float:
    """Sequential ``get_object`` of every key ``put_small`` wrote; objects per second."""
    bodies: list[bytes] = []

    def run() -> None:
        for index in range(len(payloads)):
            bodies.append(client.get_object(Bucket=BUCKET, Key=small_key(rep, index))["Body"].read())

    seconds = _timed(run)
    if bodies != payloads:
        raise AssertionError(f"GET of repetition {rep} returned bodies that differ from what was PUT")
    return len(payloads) / seconds


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 8 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest()


def upload_large(client: Any, plan: Plan, rep: int) -> float:
    """``upload_file`` of the large file (multipart); MiB per second."""
    seconds = _timed(lambda: client.upload_file(str(plan.large_file), BUCKET, f"large/{rep}", Config=TRANSFER_CONFIG))
    return plan.large_bytes / MIB / seconds


def download_large(client: Any, plan: Plan, rep: int) -> float:
    """``download_file`` of the large object, then a sha256 check; MiB per second."""
    target = plan.scratch / f"download-{rep}"
    try:
        seconds = _timed(lambda: client.download_file(BUCKET, f"large/{rep}", str(target), Config=TRANSFER_CONFIG))
        if sha256_of(target) != plan.large_sha256:
            raise AssertionError(f"download_file of large/{rep} is not byte-identical to the uploaded file")
    finally:
        target.unlink(missing_ok=True)
    return plan.large_bytes / MIB / seconds


def bench_peer(peer: Peer, plan: Plan, result: PeerResult) -> None:
    """Run every workload against one started peer, filling ``result``."""
    client = peer.client()
    client.create_bucket(Bucket=BUCKET)
    warm_up(client)
    payloads = [small_payloads(plan.small_count, rep) for rep in range(plan.small_reps)]
    for rep in range(plan.small_reps):
        result.put_rates.append(put_small(client, rep, payloads[rep]))
    for rep in range(plan.small_reps):
        result.get_rates.append(get_small(client, rep, payloads[rep]))
    result.peak_rss_before_large = peer.peak_rss_bytes()
    for rep in range(plan.large_reps):
        os.sync()  # earlier writes are not flushed on this workload's time
        result.upload_rates.append(upload_large(client, plan, rep))
        os.sync()
        result.download_rates.append(download_large(client, plan, rep))
    result.peak_rss_after_large = peer.peak_rss_bytes()


def run_peer(name: str, plan: Plan, workdir: Path) -> PeerResult:
    """Start one peer, bench it, stop it; a failure is recorded, not raised."""
    result = PeerResult()
    print(f"[bench] {name}: starting", file=sys.stderr, flush=True)
    peer: Peer | None = None
    try:
        with PEERS[name](workdir) as peer:
            bench_peer(peer, plan, result)
    except Exception:  # noqa: BLE001 - the report names the failure, the other peer still runs
        result.error = traceback.format_exc()
        if peer is not None:
            result.error += f"\n--- {name} server log (tail) ---\n{peer.log_tail()}"
        print(f"[bench] {name}: FAILED\n{result.error}", file=sys.stderr, flush=True)
    else:
        print(f"[bench] {name}: done", file=sys.stderr, flush=True)
    return result


# ------------------------------------------------------------------ large file, cp


def write_random_file(path: Path, size: int) -> str:
    """Write ``size`` seeded random bytes to ``path``; return their sha256."""
    rng = random.Random(f"{SEED}-large")
    digest = hashlib.sha256()
    with path.open("wb") as stream:
        remaining = size
        while remaining:
            block = rng.randbytes(min(MIB, remaining))
            digest.update(block)
            stream.write(block)
            remaining -= len(block)
    return digest.hexdigest()


def cp_rates(plan: Plan) -> list[float]:
    """Plain ``cp`` of the large file to another file on the same disk; MiB/s per run.

    ``cp`` is cheap, so it runs at least ``CP_MIN_REPS`` times whatever ``large_reps`` says.
    """
    rates = []
    for rep in range(max(CP_MIN_REPS, plan.large_reps)):
        target = plan.scratch / f"cp-{rep}"
        os.sync()
        try:
            seconds = _timed(lambda: subprocess.run(["cp", str(plan.large_file), str(target)], check=True))
        finally:
            target.unlink(missing_ok=True)
        rates.append(plan.large_bytes / MIB / seconds)
    return rates


# ------------------------------------------------------------------------- report


def machine_lines() -> list[str]:
    """A description of where the figures were taken."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"- Machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, boto3 {boto3.__version__}, botocore {botocore.__version__}, moto {_version('moto')}",
        f"- Shipyard commit: {_git_commit()}",
    ]


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _git_commit() -> str:
    """HEAD of the checkout this script lives in (read-only), or ``unknown``."""
    try:
        answer = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return answer.stdout.strip()


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _fmt(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or not denominator:
        return "—"
    return f"{numerator / denominator:.2f}×"


def _verdict(numerator: float | None, denominator: float | None, target: float) -> str:
    if numerator is None or not denominator:
        return "not measured"
    return "met" if numerator / denominator >= target else "**missed**"


def _runs(values: list[float], digits: int) -> str:
    return ", ".join(f"{value:,.{digits}f}" for value in values) or "—"


def results_table(plan: Plan, results: dict[str, PeerResult], cp: list[float]) -> str:
    """The markdown table of medians, with ratios and targets."""
    ship, moto = results["Shipyard"], results["moto"]
    cp_median = _median(cp)
    mib = plan.large_bytes // MIB
    rows = [
        "| workload | Shipyard | moto | Shipyard / moto | Shipyard / cp | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, attr in (("PUT", "put_rates"), ("GET", "get_rates")):
        s, m = _median(getattr(ship, attr)), _median(getattr(moto, attr))
        rows.append(
            f"| {label} {plan.small_count:,} × 1 KiB, sequential (objects/s) | {_fmt(s)} | {_fmt(m)} "
            f"| {_ratio(s, m)} | — | ≥ {SMALL_TARGET:g}× moto: {_verdict(s, m, SMALL_TARGET)} |"
        )
    for label, attr in (("upload_file", "upload_rates"), ("download_file", "download_rates")):
        s, m = _median(getattr(ship, attr)), _median(getattr(moto, attr))
        rows.append(
            f"| {label} {mib} MiB (MiB/s) | {_fmt(s, 1)} | {_fmt(m, 1)} | {_ratio(s, m)} "
            f"| {_ratio(s, cp_median)} | ≥ {LARGE_TARGET:.0%} of cp: {_verdict(s, cp_median, LARGE_TARGET)} |"
        )
    rows.append(
        f"| baseline: plain `cp` of the same {mib} MiB file, same disk (MiB/s) "
        f"| cp: {_fmt(cp_median, 1)} | | | 1.00× | the reference for the rows above |"
    )
    return "\n".join(rows)


def memory_lines(plan: Plan, results: dict[str, PeerResult]) -> list[str]:
    """Peak RSS of each server process around the large transfer."""
    lines = []
    for name, result in results.items():
        if result.peak_rss_after_large:
            before, after = result.peak_rss_before_large / MIB, result.peak_rss_after_large / MIB
            lines.append(
                f"- {name} server peak RSS (VmHWM): {before:,.0f} MiB before the {plan.large_bytes // MIB} MiB "
                f"transfer, {after:,.0f} MiB after: growth {after - before:+,.0f} MiB"
            )
    return lines


def raw_lines(results: dict[str, PeerResult], cp: list[float]) -> list[str]:
    """Every repetition's figure, so that the spread can be judged."""
    lines = []
    for name, result in results.items():
        lines.append(
            f"- {name}: PUT {_runs(result.put_rates, 0)} obj/s; GET {_runs(result.get_rates, 0)} obj/s; "
            f"upload {_runs(result.upload_rates, 1)} MiB/s; download {_runs(result.download_rates, 1)} MiB/s"
        )
    lines.append(f"- cp: {_runs(cp, 1)} MiB/s")
    return lines


def report(plan: Plan, results: dict[str, PeerResult], cp: list[float], command: str, seconds: float) -> str:
    """The whole generated section: context, table, memory, raw runs, failures."""
    parts = [
        f"Run on {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}, took {seconds:.0f} s, with:",
        "",
        "```",
        command,
        "```",
        "",
        *machine_lines(),
        f"- Medians of {plan.small_reps} repetitions (small objects, distinct keys each) and "
        f"{plan.large_reps} (large object; `cp`: {len(cp)}); each peer warmed up with {WARMUP_REQUESTS} requests "
        "first; `sync` before each large-object measurement, none inside it.",
        "",
        results_table(plan, results, cp),
        "",
        *memory_lines(plan, results),
        "",
        "Every repetition:",
        "",
        *raw_lines(results, cp),
    ]
    failures = [f"- {name} failed:\n\n```\n{result.error.strip()}\n```" for name, result in results.items() if result.error]
    if failures:
        parts += ["", "**Failures:**", "", *failures]
    return "\n".join(parts)


def write_between_markers(path: Path, body: str) -> None:
    """Replace what lies between the results markers in ``path`` (append them if missing)."""
    text = path.read_text() if path.exists() else ""
    block = f"{START_MARKER}\n{body}\n{END_MARKER}"
    if START_MARKER in text and END_MARKER in text:
        head, rest = text.split(START_MARKER, 1)
        tail = rest.split(END_MARKER, 1)[1]
        text = f"{head}{block}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{block}\n" if text else f"{block}\n"
    path.write_text(text)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small-count", type=int, default=2000, help="small objects per repetition (default 2000)")
    parser.add_argument("--small-reps", type=int, default=3, help="repetitions of the small workloads (default 3)")
    parser.add_argument("--large-mib", type=int, default=256, help="size of the large object in MiB (default 256)")
    parser.add_argument("--large-reps", type=int, default=1, help="repetitions of the large workloads (default 1)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "README.md", help="markdown file to fill")
    parser.add_argument("--no-write", action="store_true", help="print the table only, leave --out alone")
    parser.add_argument("--peers", default="Shipyard,moto", help="comma-separated subset of Shipyard,moto (default both)")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="scratch directory (default: the system temp dir)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Bench both peers and the cp baseline; 0 when every workload ran on both peers."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", *sys.argv]) if argv is None else shlex.join(["python", "bench/s3.py", *argv])
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-", dir=args.tmp_dir) as tmp:
        scratch = Path(tmp)
        large_file = scratch / "large.bin"
        large_bytes = args.large_mib * MIB
        print(f"[bench] writing {args.large_mib} MiB of seeded random bytes to {large_file}", file=sys.stderr, flush=True)
        plan = Plan(
            small_count=args.small_count,
            small_reps=args.small_reps,
            large_reps=args.large_reps,
            large_file=large_file,
            large_bytes=large_bytes,
            large_sha256=write_random_file(large_file, large_bytes),
            scratch=scratch,
        )
        cp = cp_rates(plan)
        selected = [name for name in PEERS if name in args.peers.split(",")]
        results = {name: run_peer(name, plan, scratch / name.lower()) if name in selected else PeerResult() for name in PEERS}
    text = report(plan, results, cp, command, time.monotonic() - started)
    print(text)
    failed = any(result.error for result in results.values())
    if failed:
        print(f"[bench] a peer failed: {args.out} left unchanged", file=sys.stderr)
    elif len(selected) < len(PEERS):
        print(f"[bench] not every peer ran: {args.out} left unchanged", file=sys.stderr)
    elif not args.no_write:
        write_between_markers(args.out, text)
        print(f"[bench] results written to {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
