"""S3 throughput of Shipyard next to moto's standalone server and a plain ``cp``.

Run from the repository root, with nothing else busy on the machine::

    python bench/s3.py [--small-count 2000] [--large-mib 256] [--out bench/README.md]

One run starts every peer itself, one after the other, each on a free loopback port:
Shipyard as configured by default (durable writes), Shipyard with ``SHIPYARD_FSYNC=false``,
and moto's standalone server. Each is driven by identically configured boto3 clients:

* PUT and GET of many small objects, sequentially from one client (objects/s);
* ``upload_file`` and ``download_file`` of one large seeded random file (MiB/s), the
  download checked byte for byte (sha256);
* the same large file copied with ``cp`` on the same disk, as the ceiling for large
  objects (MiB/s).

The medians go to stdout as markdown tables and, between the results markers, into
``--out``. Every server is stopped when its part ends, whether it succeeded or not.
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
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from shipyard.testing.server import cpu_seconds, free_port, peak_rss_bytes, start_server

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
WORKLOADS = ("put", "get", "upload", "download")

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

    label: str
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
        return peak_rss_bytes(self.pid)

    def cpu_seconds(self) -> float:
        """User plus system CPU time the process (all its threads) has used so far."""
        return cpu_seconds(self.pid)

    def log_size(self) -> int:
        """How many bytes the server's log holds now."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int, chars: int = 4000) -> str:
        """The end of what the server logged after ``offset`` bytes."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")[-chars:]

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's own log, for error reports."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as error:
            return f"(no log: {error})"


def _clean_env() -> dict[str, str]:
    """The environment without any AWS or Shipyard settings that could leak into a peer."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHIPYARD_"))}


def _wait_until_answering(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    """Poll ``url`` until the server answers with any HTTP status at all."""
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
def moto_peer(label: str, workdir: Path) -> Iterator[Peer]:
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
        yield Peer(label, endpoint, "testing", "testing", process.pid, log_path)
    finally:
        _stop(process)


@contextmanager
def shipyard_peer(label: str, workdir: Path, *, fsync: bool) -> Iterator[Peer]:
    """``shipyard up`` through the test helper, signed with the root key it wrote."""
    with start_server(workdir, extra_env={"SHIPYARD_FSYNC": "true" if fsync else "false"}) as server:
        assert server.process is not None
        access_key, secret_key = server.credentials
        yield Peer(label, server.endpoint_url, access_key, secret_key, server.process.pid, server.log_path)


@dataclass(frozen=True)
class PeerSpec:
    """A peer as the command line names it, as the report labels it, and how to start it."""

    key: str
    label: str
    start: Callable[[str, Path], AbstractContextManager[Peer]]
    is_shipyard: bool


PEERS = (
    PeerSpec("shipyard", "Shipyard", partial(shipyard_peer, fsync=True), True),
    PeerSpec("shipyard-no-fsync", "Shipyard --no-fsync", partial(shipyard_peer, fsync=False), True),
    PeerSpec("moto", "moto", moto_peer, False),
)


# --------------------------------------------------------------------- workloads


@dataclass
class Sample:
    """One timed repetition: how much was moved, how long it took, who burnt the CPU."""

    units: float  # objects or MiB
    wall: float
    server_cpu: float
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.units / self.wall


@dataclass
class PeerResult:
    """Everything measured on one peer, one sample per repetition and workload."""

    ran: bool = False
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {name: [] for name in WORKLOADS})
    peak_rss_before_large: int = 0
    peak_rss_after_large: int = 0
    error: str = ""
    server_log: str = ""

    def rates(self, workload: str) -> list[float]:
        return [sample.rate for sample in self.samples[workload]]

    def median_rate(self, workload: str) -> float | None:
        rates = self.rates(workload)
        return statistics.median(rates) if rates else None

    def server_cpu_per_unit(self, workload: str) -> float | None:
        """Server CPU seconds per object (or per MiB), over every repetition."""
        samples = self.samples[workload]
        units = sum(sample.units for sample in samples)
        return sum(sample.server_cpu for sample in samples) / units if units else None

    def cpu_shares(self, workload: str) -> tuple[float, float] | None:
        """(server, client) CPU seconds per wall second, over every repetition."""
        samples = self.samples[workload]
        wall = sum(sample.wall for sample in samples)
        if not wall:
            return None
        return sum(s.server_cpu for s in samples) / wall, sum(s.client_cpu for s in samples) / wall


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


def measure(peer: Peer, units: float, action: Callable[[], None]) -> Sample:
    """Run ``action``, timing it by the wall clock and by both processes' CPU clocks."""
    server_cpu, client_cpu = peer.cpu_seconds(), time.process_time()
    start = time.perf_counter()
    action()
    wall = time.perf_counter() - start
    return Sample(units, wall, peer.cpu_seconds() - server_cpu, time.process_time() - client_cpu)


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


def put_small(peer: Peer, client: Any, rep: int, payloads: list[bytes]) -> Sample:
    """Sequential ``put_object`` of every payload."""

    def run() -> None:
        for index, body in enumerate(payloads):
            client.put_object(Bucket=BUCKET, Key=small_key(rep, index), Body=body)

    return measure(peer, len(payloads), run)


def get_small(peer: Peer, client: Any, rep: int, payloads: list[bytes]) -> Sample:
    """Sequential ``get_object`` of every key ``put_small`` wrote; bodies compared after."""
    bodies: list[bytes] = []

    def run() -> None:
        for index in range(len(payloads)):
            bodies.append(client.get_object(Bucket=BUCKET, Key=small_key(rep, index))["Body"].read())

    sample = measure(peer, len(payloads), run)
    if bodies != payloads:
        raise AssertionError(f"GET of repetition {rep} returned bodies that differ from what was PUT")
    return sample


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 8 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest()


def upload_large(peer: Peer, client: Any, plan: Plan, rep: int) -> Sample:
    """``upload_file`` of the large file (multipart)."""
    key = f"large/{rep}"
    return measure(
        peer, plan.large_bytes / MIB, lambda: client.upload_file(str(plan.large_file), BUCKET, key, Config=TRANSFER_CONFIG)
    )


def download_large(peer: Peer, client: Any, plan: Plan, rep: int) -> Sample:
    """``download_file`` of the large object, then (untimed) a sha256 check."""
    target = plan.scratch / f"download-{rep}"
    key = f"large/{rep}"
    try:
        sample = measure(
            peer, plan.large_bytes / MIB, lambda: client.download_file(BUCKET, key, str(target), Config=TRANSFER_CONFIG)
        )
        if sha256_of(target) != plan.large_sha256:
            raise AssertionError(f"download_file of {key} is not byte-identical to the uploaded file")
    finally:
        target.unlink(missing_ok=True)
    return sample


def bench_peer(peer: Peer, plan: Plan, result: PeerResult) -> None:
    """Run every workload against one started peer, filling ``result``."""
    client = peer.client()
    client.create_bucket(Bucket=BUCKET)
    warm_up(client)
    payloads = [small_payloads(plan.small_count, rep) for rep in range(plan.small_reps)]
    for rep in range(plan.small_reps):
        result.samples["put"].append(put_small(peer, client, rep, payloads[rep]))
    for rep in range(plan.small_reps):
        result.samples["get"].append(get_small(peer, client, rep, payloads[rep]))
    result.peak_rss_before_large = peer.peak_rss_bytes()
    for rep in range(plan.large_reps):
        os.sync()  # earlier writes are not flushed on this measurement's time
        result.samples["upload"].append(upload_large(peer, client, plan, rep))
        os.sync()
        result.samples["download"].append(download_large(peer, client, plan, rep))
    result.peak_rss_after_large = peer.peak_rss_bytes()


def run_peer(spec: PeerSpec, plan: Plan, workdir: Path) -> PeerResult:
    """Start one peer, bench it, stop it; a failure is recorded, not raised."""
    result = PeerResult(ran=True)
    _progress(f"{spec.label}: starting")
    peer: Peer | None = None
    try:
        with spec.start(spec.label, workdir) as peer:
            banner_end = peer.log_size()
            bench_peer(peer, plan, result)
            if spec.is_shipyard:  # it logs at "warning": anything after its banner deserves a look
                result.server_log = peer.log_since(banner_end)
    except Exception:  # noqa: BLE001 - the report names the failure, the other peers still run
        result.error = traceback.format_exc()
        if peer is not None:
            result.error += f"\n--- {spec.label} server log (tail) ---\n{peer.log_tail()}"
        _progress(f"{spec.label}: FAILED\n{result.error}")
    else:
        _progress(f"{spec.label}: done")
        if result.server_log.strip():
            _progress(f"{spec.label}: the server logged:\n{result.server_log}")
    return result


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


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
            start = time.perf_counter()
            subprocess.run(["cp", str(plan.large_file), str(target)], check=True)
            rates.append(plan.large_bytes / MIB / (time.perf_counter() - start))
        finally:
            target.unlink(missing_ok=True)
    return rates


# ------------------------------------------------------------------------- report


def machine_lines() -> list[str]:
    """A description of where (and on which commit) the figures were taken."""
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
        (f"- Python {platform.python_version()}, boto3 {boto3.__version__}, botocore {botocore.__version__}, "
        f"moto {_version('moto')}"),
        f"- Shipyard commit: {_git_commit()} (at the start of the run)",
    ]


def _version(package: str) -> str:
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


def _workload_label(plan: Plan, workload: str) -> str:
    mib = plan.large_bytes // MIB
    return {
        "put": f"PUT {plan.small_count:,} × 1 KiB, sequential (objects/s)",
        "get": f"GET {plan.small_count:,} × 1 KiB, sequential (objects/s)",
        "upload": f"upload_file {mib} MiB (MiB/s)",
        "download": f"download_file {mib} MiB (MiB/s)",
    }[workload]


def results_table(plan: Plan, label: str, ship: PeerResult, moto: PeerResult, cp: list[float]) -> str:
    """Medians of one Shipyard configuration next to moto and cp, with ratios and targets."""
    cp_median = statistics.median(cp) if cp else None
    rows = [
        f"| workload | {label} | moto | {label} / moto | {label} / cp | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for workload in ("put", "get"):
        s, m = ship.median_rate(workload), moto.median_rate(workload)
        rows.append(
            f"| {_workload_label(plan, workload)} | {_fmt(s)} | {_fmt(m)} | {_ratio(s, m)} | — "
            f"| ≥ {SMALL_TARGET:g}× moto: {_verdict(s, m, SMALL_TARGET)} |"
        )
    for workload in ("upload", "download"):
        s, m = ship.median_rate(workload), moto.median_rate(workload)
        rows.append(
            f"| {_workload_label(plan, workload)} | {_fmt(s, 1)} | {_fmt(m, 1)} | {_ratio(s, m)} "
            f"| {_ratio(s, cp_median)} | ≥ {LARGE_TARGET:.0%} of cp: {_verdict(s, cp_median, LARGE_TARGET)} |"
        )
    rows.append(
        f"| baseline: plain `cp` of the same {plan.large_bytes // MIB} MiB file, same disk (MiB/s) "
        f"| cp: {_fmt(cp_median, 1)} | | | 1.00× | the reference for the rows above |"
    )
    return "\n".join(rows)


def cpu_table(plan: Plan, results: dict[PeerSpec, PeerResult]) -> str:
    """Per peer: server CPU per unit of work, and server / client CPU per wall second."""
    specs = [spec for spec, result in results.items() if result.ran]
    rows = [
        "| workload | " + " | ".join(f"{spec.label}: server CPU per unit (server / client busy)" for spec in specs) + " |",
        "|---|" + "---:|" * len(specs),
    ]
    for workload in WORKLOADS:
        unit = "object" if workload in ("put", "get") else "MiB"
        cells = []
        for spec in specs:
            shares, per_unit = results[spec].cpu_shares(workload), results[spec].server_cpu_per_unit(workload)
            if shares is None or per_unit is None:
                cells.append("n/a")
            else:
                cells.append(f"{per_unit * 1000:.2f} ms / {unit} ({shares[0]:.0%} / {shares[1]:.0%})")
        rows.append(f"| {_workload_label(plan, workload).rsplit(' (', 1)[0]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def client_ceiling_table(plan: Plan, results: dict[PeerSpec, PeerResult], cp: list[float]) -> str:
    """What the bench client alone allows, next to what each target needs.

    The client's CPU per object (or MiB), pooled over every peer, bounds the rate no
    server can beat while the client runs on one core (boto3 is mostly GIL-bound).
    """
    moto = next(result for spec, result in results.items() if spec.key == "moto")
    cp_median = statistics.median(cp) if cp else None
    rows = [
        "| workload | client CPU per unit | client-bound ceiling (one core) | the target needs |",
        "|---|---:|---:|---:|",
    ]
    for workload in WORKLOADS:
        samples = [sample for result in results.values() for sample in result.samples[workload]]
        units, cpu = sum(s.units for s in samples), sum(s.client_cpu for s in samples)
        small = workload in ("put", "get")
        unit, rate_unit = ("object", "objects/s") if small else ("MiB", "MiB/s")
        moto_rate = moto.median_rate(workload)
        if small:
            needs = None if moto_rate is None else SMALL_TARGET * moto_rate
        else:
            needs = None if cp_median is None else LARGE_TARGET * cp_median
        per_unit = f"{cpu / units * 1000:.2f} ms / {unit}" if units and cpu else "n/a"
        ceiling = f"{units / cpu:,.0f} {rate_unit}" if units and cpu else "n/a"
        label = _workload_label(plan, workload).rsplit(" (", 1)[0]
        rows.append(f"| {label} | {per_unit} | {ceiling} | {_fmt(needs)} {rate_unit} |")
    return "\n".join(rows)


def memory_lines(plan: Plan, results: dict[PeerSpec, PeerResult]) -> list[str]:
    """Peak RSS of each server process around the large transfer."""
    lines = []
    for spec, result in results.items():
        if result.peak_rss_after_large:
            before, after = result.peak_rss_before_large / MIB, result.peak_rss_after_large / MIB
            lines.append(
                f"- {spec.label} server peak RSS (VmHWM): {before:,.0f} MiB before the {plan.large_bytes // MIB} MiB "
                f"transfer, {after:,.0f} MiB after: growth {after - before:+,.0f} MiB"
            )
    return lines


def raw_lines(results: dict[PeerSpec, PeerResult], cp: list[float]) -> list[str]:
    """Every repetition's figure, so that the spread can be judged."""
    lines = [
        f"- {spec.label}: PUT {_runs(result.rates('put'), 0)} obj/s; GET {_runs(result.rates('get'), 0)} obj/s; "
        f"upload {_runs(result.rates('upload'), 1)} MiB/s; download {_runs(result.rates('download'), 1)} MiB/s"
        for spec, result in results.items()
        if result.ran
    ]
    lines.append(f"- cp: {_runs(cp, 1)} MiB/s")
    return lines


@dataclass
class RunInfo:
    """What the report says about the run itself."""

    command: str
    started: dt.datetime
    seconds: float
    machine: list[str]


def report(plan: Plan, results: dict[PeerSpec, PeerResult], cp: list[float], info: RunInfo) -> str:
    """The whole generated section: context, tables, memory, raw runs, failures."""
    moto = next(result for spec, result in results.items() if spec.key == "moto")
    parts = [
        f"Run on {info.started.strftime('%Y-%m-%d %H:%M %Z')}, took {info.seconds:.0f} s, with:",
        "",
        "```",
        info.command,
        "```",
        "",
        *info.machine,
        (f"- Medians of {plan.small_reps} repetitions (small objects, distinct keys each) and "
        f"{plan.large_reps} (large object; `cp`: {len(cp)}); each peer warmed up with {WARMUP_REQUESTS} requests "
        "first; `sync` before each large-object measurement, none inside it."),
    ]
    for spec, result in results.items():
        if spec.is_shipyard and result.ran:
            parts += ["", results_table(plan, spec.label, result, moto, cp)]
    parts += [
        "",
        ("CPU: the server process's CPU time per object (or MiB), and in brackets the CPU time of the "
        "server process / of the bench client process per second of wall time (100% = one core busy; "
        f"the machine has {len(os.sched_getaffinity(0))}), over every repetition:"),
        "",
        cpu_table(plan, results),
        "",
        "The bench client's own CPU cost bounds every figure above, whatever the server does:",
        "",
        client_ceiling_table(plan, results, cp),
        "",
        *memory_lines(plan, results),
        "",
        "Every repetition:",
        "",
        *raw_lines(results, cp),
    ]
    logged = [
        f"- {spec.label} server log (tail):\n\n```\n{result.server_log.strip()}\n```"
        for spec, result in results.items()
        if result.server_log.strip()
    ]
    if logged:
        parts += ["", "The Shipyard servers logged during the workloads (at `--log-level warning`):", "", *logged]
    failures = [
        f"- {spec.label} failed:\n\n```\n{result.error.strip()}\n```" for spec, result in results.items() if result.error
    ]
    if failures:
        parts += ["", "**Failures:**", "", *failures]
    return "\n".join(parts)


def write_between_markers(path: Path, body: str, *, start: str = START_MARKER, end: str = END_MARKER) -> None:
    """Replace what lies between the ``start`` and ``end`` markers in ``path`` (append them if missing)."""
    text = path.read_text() if path.exists() else ""
    block = f"{start}\n{body}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = f"{head}{block}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{block}\n" if text else f"{block}\n"
    path.write_text(text)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    keys = ",".join(spec.key for spec in PEERS)
    parser.add_argument("--small-count", type=int, default=2000, help="small objects per repetition (default 2000)")
    parser.add_argument("--small-reps", type=int, default=3, help="repetitions of the small workloads (default 3)")
    parser.add_argument("--large-mib", type=int, default=256, help="size of the large object in MiB (default 256)")
    parser.add_argument("--large-reps", type=int, default=1, help="repetitions of the large workloads (default 1)")
    parser.add_argument("--peers", default=keys, help=f"comma-separated subset of {keys} (default all)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "README.md", help="markdown file to fill")
    parser.add_argument("--no-write", action="store_true", help="print the report only, leave --out alone")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="scratch directory (default: the system temp dir)")
    args = parser.parse_args(argv)
    unknown = set(args.peers.split(",")) - {spec.key for spec in PEERS}
    if unknown:
        parser.error(f"unknown peers {sorted(unknown)}; known: {keys}")
    return args


def prepare(args: argparse.Namespace, scratch: Path) -> Plan:
    """Write the large file and describe the run."""
    large_file = scratch / "large.bin"
    large_bytes = args.large_mib * MIB
    _progress(f"writing {args.large_mib} MiB of seeded random bytes to {large_file}")
    return Plan(
        small_count=args.small_count,
        small_reps=args.small_reps,
        large_reps=args.large_reps,
        large_file=large_file,
        large_bytes=large_bytes,
        large_sha256=write_random_file(large_file, large_bytes),
        scratch=scratch,
    )


def main(argv: list[str] | None = None) -> int:
    """Bench the peers and the cp baseline; 0 when every workload ran on every peer."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", *sys.argv] if argv is None else ["python", "bench/s3.py", *argv])
    started, clock = dt.datetime.now().astimezone(), time.monotonic()
    machine = machine_lines()
    selected = args.peers.split(",")
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-", dir=args.tmp_dir) as tmp:
        scratch = Path(tmp)
        plan = prepare(args, scratch)
        cp = cp_rates(plan)
        results = {
            spec: run_peer(spec, plan, scratch / spec.key) if spec.key in selected else PeerResult() for spec in PEERS
        }
    text = report(plan, results, cp, RunInfo(command, started, time.monotonic() - clock, machine))
    print(text)
    failed = any(result.error for result in results.values())
    if failed:
        _progress(f"a peer failed: {args.out} left unchanged")
    elif not all(result.ran for result in results.values()):
        _progress(f"not every peer ran: {args.out} left unchanged")
    elif not args.no_write:
        write_between_markers(args.out, text)
        _progress(f"results written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
