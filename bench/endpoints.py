"""InvokeEndpoint latency and throughput next to the same XGBoost model served other ways.

Run from the repository root, with nothing else busy on the machine::

    python bench/endpoints.py [--requests 2000] [--clients 8] [--mlflow /tmp/mlflow-venv/bin/mlflow]
                              [--out bench/README.md]

One seeded XGBoost model (a binary classifier over ``--features`` features, as the built-in
algorithm saves it) answers the same one-row ``text/csv`` request from ``--clients``
concurrent client threads, ``--requests`` timed requests in all after ``--warmup`` untimed
ones per client, through each peer in turn (never two at once):

* **in-process**: ``load_predictor("xgboost", dir).invoke(...)`` called directly: the floor;
* **one-hop**: the same predictor behind a minimal Starlette app (``POST /invocations``
  calls it inline) run by uvicorn with httptools, called over keep-alive HTTP: the limit of
  any server that adds one HTTP hop;
* **MLflow**: ``mlflow models serve --env-manager local`` of the same booster saved with
  ``mlflow.xgboost.save_model`` (needs ``--mlflow``, the ``mlflow`` script of a separate
  virtualenv holding mlflow and xgboost; without it this peer is skipped);
* **Shipyard (boto3)**: a Shipyard server with the model deployed on one ``ml.t2.medium``
  instance, called with boto3 ``sagemaker-runtime`` clients, one per thread;
* **Shipyard (lean client)**: the same requests to a second, identical endpoint, signed with
  botocore's ``SigV4Auth`` and sent over keep-alive ``http.client``: the server's cost
  without boto3's client-side cost.

Every peer predicts with ``OMP_NUM_THREADS=1`` unless the environment sets it (see below).
Reported per peer: p50 and p99 latency, requests/s, and the CPU time per request of the
client (this process) and of the server's process tree; for Shipyard also the server's own
``ModelLatency`` and ``OverheadLatency`` from CloudWatch. Targets: Shipyard's p50 at most
2 ms above the one-hop app's, and Shipyard's throughput at least twice MLflow's.
"""

from __future__ import annotations

import os

# A one-row prediction gains nothing from OpenMP threads, and XGBoost's idle OpenMP workers
# spin on the cores that the clients and servers share (on 2 busy cores they cut the one-hop
# app's rate by more than 30 times in a trial). So every peer (this process, and each server it
# starts, which inherit the environment) predicts on one thread unless the caller says otherwise.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import http.client
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import xgboost
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from s3 import machine_lines, write_between_markers

from shipyard.algorithms.inference import load_predictor
from shipyard.compute.network import free_port
from shipyard.testing.hosting import (
    create_model,
    deploy,
    upload,
    variant,
    wait_for_endpoint,
    xgboost_model,
)
from shipyard.testing.jobs import sagemaker_role
from shipyard.testing.server import RunningServer, cpu_seconds, start_server

START_MARKER = "<!-- endpoints-results:start -->"
END_MARKER = "<!-- endpoints-results:end -->"
PEERS = ("in-process", "one-hop", "mlflow", "shipyard")
#: The targets: Shipyard's p50 over the one-hop app's, and its throughput over MLflow's.
MAX_P50_OVER_ONE_HOP_MS = 2.0
MIN_THROUGHPUT_OVER_MLFLOW = 2.0
#: Where a client's first answer must land: the booster's own prediction, as CSV/JSON prints it.
TOLERANCE = 1e-5

MLFLOW_SAVE = """
    import sys, xgboost, mlflow.xgboost
    booster = xgboost.Booster()
    booster.load_model(bytearray(open(sys.argv[1], "rb").read()))
    mlflow.xgboost.save_model(booster, sys.argv[2])
"""

Call = Callable[[], bytes]


@dataclass
class Result:
    """One peer's timed requests."""

    label: str
    latencies: list[float]
    wall: float
    client_cpu: float
    server_cpu: float | None
    note: str = ""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] * 1e3


@dataclass(frozen=True)
class Workload:
    """What every peer is asked, and what it must answer."""

    body: bytes
    expected: float
    clients: int
    requests: int
    warmup: int


# ------------------------------------------------------------------------- driving


def drive(label: str, work: Workload, make_call: Callable[[], Call], server_pid: int | None = None, note: str = "") -> Result:
    """``work.clients`` threads, each with its own call (client, connection) from ``make_call``,
    share ``work.requests`` timed calls after ``work.warmup`` untimed ones each."""
    calls = [make_call() for _ in range(work.clients)]
    start = threading.Barrier(work.clients + 1)
    tickets = count()  # next() on it is atomic under the GIL
    latencies: list[list[float]] = [[] for _ in calls]

    def client(index: int) -> None:
        call = calls[index]
        check(label, call(), work.expected)
        for _ in range(work.warmup - 1):
            call()
        start.wait()
        own = latencies[index]
        while next(tickets) < work.requests:
            began = time.perf_counter()
            call()
            own.append(time.perf_counter() - began)

    with ThreadPoolExecutor(work.clients) as pool:
        futures = [pool.submit(client, index) for index in range(work.clients)]
        try:
            start.wait(timeout=300)
        except threading.BrokenBarrierError:
            for future in futures:
                future.result()  # a client that failed says why
            raise
        began, cpu, server = time.perf_counter(), time.process_time(), tree_cpu_seconds(server_pid)
        for future in futures:
            future.result()
        wall = time.perf_counter() - began
        client_cpu = time.process_time() - cpu
        server_cpu = None if server is None else tree_cpu_seconds(server_pid) - server
    result = Result(label, [value for own in latencies for value in own], wall, client_cpu, server_cpu, note)
    print(
        f"  {label}: p50 {result.percentile(0.5):.2f} ms, p99 {result.percentile(0.99):.2f} ms, {result.rate:,.0f}/s",
        file=sys.stderr,
        flush=True,
    )
    return result


def check(label: str, answer: bytes, expected: float) -> None:
    """The answer's first number is the model's prediction."""
    found = re.search(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", answer)
    if found is None or abs(float(found.group()) - expected) > TOLERANCE:
        raise RuntimeError(f"{label} answered {answer[:200]!r}; expected {expected}")


def tree_cpu_seconds(pid: int | None) -> float | None:
    """CPU time of ``pid`` and every live process below it (a server and its workers)."""
    if pid is None:
        return None
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += cpu_seconds(current)
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        pending += children.get(current, [])
    return total


def post(connection: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """POST over a keep-alive connection; the answer's body, which must be a 200's."""
    connection.request("POST", path, body, headers)
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
        raise RuntimeError(f"POST {path} answered {response.status}: {answer[:300]!r}")
    return answer


def connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)


def http_call(url: str, body: bytes, headers: dict[str, str]) -> Call:
    """POST ``body`` to ``url``'s ``/invocations`` over one keep-alive connection."""
    connection = connect(url)
    return lambda: post(connection, "/invocations", body, headers)


# --------------------------------------------------------------------------- peers


def in_process(work: Workload, model_dir: Path) -> Result:
    predictor = load_predictor("xgboost", model_dir)
    return drive("in-process", work, lambda: lambda: predictor.invoke(work.body, "text/csv", "text/csv")[0])


def one_hop_app(model_dir: Path) -> Any:
    """The least a server can do: a Starlette app whose ``/invocations`` calls the predictor."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    predictor = load_predictor("xgboost", model_dir)

    async def invocations(request: Request) -> Response:
        body, content_type = predictor.invoke(
            await request.body(), request.headers["content-type"], request.headers.get("accept")
        )
        return Response(body, media_type=content_type)

    async def ping(request: Request) -> Response:
        return Response(b"")

    return Starlette(routes=[Route("/invocations", invocations, methods=["POST"]), Route("/ping", ping)])


def serve_one_hop(model_dir: Path, port: int) -> None:
    import uvicorn

    uvicorn.run(one_hop_app(model_dir), host="127.0.0.1", port=port, http="httptools", access_log=False, log_level="warning")


@contextmanager
def subprocess_server(args: list[str], log_path: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """Run a model server on a free port (``args`` hold ``{port}``) until ``/ping`` answers
    200; its URL and pid. It leads its own process group, which is ended afterwards."""
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [arg.format(port=port) for arg in args], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except (OSError, urllib.error.HTTPError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} did not answer /ping:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def one_hop(work: Workload, model_dir: Path, scratch: Path) -> Result:
    args = [sys.executable, str(Path(__file__).resolve()), "--serve-one-hop", str(model_dir), "--port", "{port}"]
    with subprocess_server(args, scratch / "one-hop.log") as (url, pid):
        headers = {"Content-Type": "text/csv", "Accept": "text/csv"}
        return drive("one-hop", work, lambda: http_call(url, work.body, headers), pid)


def mlflow(work: Workload, model_dir: Path, scratch: Path, script: Path, features: int) -> Result:
    """``mlflow models serve`` of the same booster. MLflow reads ``text/csv`` with pandas, so
    the row goes with a header line (without one, pandas would take the row for the header)."""
    bin_dir = script.parent
    saved = scratch / "mlflow-model"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHIPYARD_", "MLFLOW_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run(
        [str(bin_dir / "python"), "-c", textwrap.dedent(MLFLOW_SAVE), str(model_dir / "xgboost-model"), str(saved)],
        check=True, capture_output=True, env=env,
    )
    args = [str(script), "models", "serve", "-m", str(saved), "--env-manager", "local", "-h", "127.0.0.1", "-p", "{port}"]
    header = ",".join(f"f{index}" for index in range(features)).encode()
    body = header + b"\n" + work.body
    with subprocess_server(args, scratch / "mlflow.log", env) as (url, pid):
        return drive(
            "MLflow", work, lambda: http_call(url, body, {"Content-Type": "text/csv"}), pid,
            note=f"mlflow {_venv_version(bin_dir, 'mlflow')}, 1 uvicorn worker (its default)",
        )


def lean_call(server: RunningServer, endpoint: str, body: bytes) -> Call:
    """InvokeEndpoint signed with botocore's SigV4 signer, sent over keep-alive http.client."""
    access_key, secret_key = server.credentials
    signer = SigV4Auth(Credentials(access_key, secret_key), "sagemaker", server.region)
    path = f"/endpoints/{endpoint}/invocations"
    connection = connect(server.endpoint_url)

    def call() -> bytes:
        request = AWSRequest(
            "POST", f"{server.endpoint_url}{path}", data=body, headers={"Content-Type": "text/csv", "Accept": "text/csv"}
        )
        signer.add_auth(request)
        return post(connection, path, body, dict(request.headers.items()))

    return call


def boto3_call(server: RunningServer, endpoint: str, body: bytes) -> Call:
    runtime = server.client("sagemaker-runtime")

    def call() -> bytes:
        answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Accept="text/csv", Body=body)
        return answer["Body"].read()

    return call


def shipyard(work: Workload, archive: bytes, scratch: Path) -> tuple[list[Result], dict[str, dict[str, Any]]]:
    """Two identical one-instance endpoints, one per client kind, so that CloudWatch keeps
    their metrics apart."""
    with start_server(scratch / "shipyard") as server:
        assert server.process is not None
        sagemaker = server.client("sagemaker")
        server.client("s3").create_bucket(Bucket="bench")
        url = upload(server, "bench", "model/model.tar.gz", archive)
        create_model(sagemaker, "bench-xgboost", sagemaker_role(server), url)
        endpoints = {"boto3": "bench-boto3", "lean": "bench-lean"}
        for endpoint in endpoints.values():
            deploy(sagemaker, endpoint, [variant("AllTraffic", "bench-xgboost")], wait=False)
        for endpoint in endpoints.values():
            status = wait_for_endpoint(sagemaker, endpoint)
            if status["EndpointStatus"] != "InService":
                raise RuntimeError(f"{endpoint}: {status['EndpointStatus']} {status.get('FailureReason', '')}")
        since = datetime.now(UTC) - timedelta(minutes=1)
        pid = server.process.pid
        results = [
            drive("Shipyard (boto3)", work, lambda: boto3_call(server, endpoints["boto3"], work.body), pid),
            drive("Shipyard (lean client)", work, lambda: lean_call(server, endpoints["lean"], work.body), pid),
        ]
        metrics = {kind: endpoint_metrics(server, endpoint, since, work) for kind, endpoint in endpoints.items()}
    return results, metrics


def endpoint_metrics(server: RunningServer, endpoint: str, since: datetime, work: Workload) -> dict[str, Any]:
    """Average, minimum and maximum ModelLatency and OverheadLatency (µs) over every call the
    endpoint answered (warm-up included), once CloudWatch has them all (it is flushed every
    few seconds); an ``error`` instead where CloudWatch cannot answer."""
    cloudwatch = server.client("cloudwatch")
    expected = work.requests + work.clients * work.warmup
    deadline = time.monotonic() + 30
    while True:
        try:
            found = {name: _statistics(cloudwatch, endpoint, name, since) for name in ("ModelLatency", "OverheadLatency")}
        except ClientError as error:  # reported, not fatal: the timings stand without it
            return {"error": f"{type(error).__name__}: {error}"}
        if all(item["count"] >= expected for item in found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(1)


def _statistics(cloudwatch: Any, endpoint: str, metric: str, since: datetime) -> dict[str, float]:
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
        StartTime=since,
        EndTime=datetime.now(UTC) + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum", "SampleCount", "Minimum", "Maximum"],
    )["Datapoints"]
    samples = sum(point["SampleCount"] for point in points)
    return {
        "count": samples,
        "average": sum(point["Sum"] for point in points) / samples if samples else float("nan"),
        "minimum": min((point["Minimum"] for point in points), default=float("nan")),
        "maximum": max((point["Maximum"] for point in points), default=float("nan")),
    }


def _venv_version(bin_dir: Path, package: str) -> str:
    answer = subprocess.run(
        [str(bin_dir / "python"), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
        capture_output=True, text=True, check=True,
    )
    return answer.stdout.strip()


# -------------------------------------------------------------------------- report


def report(
    results: list[Result],
    metrics: dict[str, dict[str, Any]],
    work: Workload,
    args: argparse.Namespace,
    took: float,
    load: tuple[float, float],
) -> str:
    by_label = {result.label: result for result in results}
    lines = [
        (
            f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, took {took:.0f} s (1-minute load average "
            f"{load[0]:.1f} at the start, {load[1]:.1f} at the end), with:"
        ),
        "",
        "```",
        "python bench/endpoints.py " + " ".join(_command_args(args)),
        "```",
        "",
        (
            f"One-row `text/csv` request ({args.features} features), XGBoost `binary:logistic` of {args.rounds} rounds; "
            f"{work.clients} client threads, {work.requests:,} timed requests per peer after {work.warmup} warm-up "
            f"requests per client; `OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}` for every peer."
        ),
        "",
        "| peer | p50 (ms) | p99 (ms) | requests/s | client CPU / request (µs) | server CPU / request (µs) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        server = "" if result.server_cpu is None else f"{result.server_cpu / len(result.latencies) * 1e6:,.0f}"
        lines.append(
            f"| {result.label} | {result.percentile(0.5):.2f} | {result.percentile(0.99):.2f} | {result.rate:,.0f} "
            f"| {result.client_cpu / len(result.latencies) * 1e6:,.0f} | {server} |"
        )
    lines.append("")
    one_hop, mlflow_result = by_label.get("one-hop"), by_label.get("MLflow")
    for kind in ("lean client", "boto3"):
        ours = by_label.get(f"Shipyard ({kind})")
        if ours is None:
            continue
        if one_hop is not None:
            over = ours.percentile(0.5) - one_hop.percentile(0.5)
            met = "met" if over <= MAX_P50_OVER_ONE_HOP_MS else "**not met**"
            lines.append(
                f"- Shipyard ({kind}) p50 − one-hop p50: **{over:+.2f} ms** (goal ≤ {MAX_P50_OVER_ONE_HOP_MS:g} ms: {met})"
            )
        if mlflow_result is not None:
            ratio = ours.rate / mlflow_result.rate
            met = "met" if ratio >= MIN_THROUGHPUT_OVER_MLFLOW else "**not met**"
            lines.append(
                f"- Shipyard ({kind}) / MLflow throughput: **{ratio:.2f}×** (goal ≥ {MIN_THROUGHPUT_OVER_MLFLOW:g}×: {met})"
            )
    for kind, found in metrics.items():
        if "error" in found:
            lines.append(f"- CloudWatch for the {kind} endpoint: not available ({found['error']})")
            continue
        model, overhead = found["ModelLatency"], found["OverheadLatency"]
        lines.append(
            f"- Server-side, {kind} endpoint (CloudWatch, {overhead['count']:,.0f} calls incl. warm-up): "
            f"OverheadLatency average {overhead['average']:,.0f} µs (min {overhead['minimum']:,.0f}, "
            f"max {overhead['maximum']:,.0f}); ModelLatency average {model['average']:,.0f} µs "
            f"(min {model['minimum']:,.0f}, max {model['maximum']:,.0f})"
        )
    for result in results:
        if result.note:
            lines.append(f"- {result.label}: {result.note}")
    if "mlflow" in args.peers and mlflow_result is None:
        lines.append("- MLflow: skipped (no `--mlflow` given)")
    lines += [
        *machine_lines(),
        f"- xgboost {xgboost.__version__}, uvicorn {version('uvicorn')}, starlette {version('starlette')}",
    ]
    return "\n".join(lines)


def _command_args(args: argparse.Namespace) -> list[str]:
    given = [f"--requests {args.requests}", f"--clients {args.clients}"]
    if args.mlflow:
        given.append(f"--mlflow {args.mlflow}")
    if args.peers != list(PEERS):
        given.append(f"--peers {','.join(args.peers)}")
    if args.out:
        given.append(f"--out {args.out}")
    return given


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per peer (default 2000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--warmup", type=int, default=25, help="untimed requests per client first (default 25)")
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--mlflow", type=Path, help="the mlflow script of a virtualenv with mlflow and xgboost")
    parser.add_argument("--peers", type=lambda text: text.split(","), default=list(PEERS), help=f"a subset of {','.join(PEERS)}")
    parser.add_argument("--out", type=Path, help="markdown file to write the results into (between markers)")
    parser.add_argument("--serve-one-hop", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_one_hop:
        serve_one_hop(args.serve_one_hop, args.port)
        return 0
    unknown = set(args.peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    began, load = time.monotonic(), os.getloadavg()[0]
    archive, booster = xgboost_model(features=args.features, rounds=args.rounds)
    row = [f"{value:.6g}" for value in np.random.default_rng(1).normal(size=args.features)]
    work = Workload(
        body=(",".join(row) + "\n").encode(),
        expected=float(booster.predict(xgboost.DMatrix(np.array([row], dtype=np.float32)))[0]),
        clients=args.clients,
        requests=args.requests,
        warmup=max(1, args.warmup),
    )
    results: list[Result] = []
    metrics: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-endpoints-") as directory:
        scratch = Path(directory)
        model_dir = scratch / "model"
        model_dir.mkdir()
        (model_dir / "xgboost-model").write_bytes(bytes(booster.save_raw("ubj")))
        if "in-process" in args.peers:
            results.append(in_process(work, model_dir))
        if "one-hop" in args.peers:
            results.append(one_hop(work, model_dir, scratch))
        if "mlflow" in args.peers:
            if args.mlflow:
                results.append(mlflow(work, model_dir, scratch, args.mlflow, args.features))
            else:
                print("  MLflow: skipped (no --mlflow given)", file=sys.stderr)
        if "shipyard" in args.peers:
            ours, metrics = shipyard(work, archive, scratch)
            results += ours
    text = report(results, metrics, work, args, time.monotonic() - began, (load, os.getloadavg()[0]))
    print(text)
    if args.out:
        write_between_markers(args.out, text, start=START_MARKER, end=END_MARKER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
