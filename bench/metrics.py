"""CloudWatch metrics: PutMetricData ingest rate and GetMetricStatistics latency, next to moto.

Run from the repository root, with nothing else busy on the machine::

    python bench/metrics.py [--values 1000000] [--queries 30] [--out bench/README.md]

One run starts each peer itself, one after the other, on a free loopback port: Shipyard as
configured by default (SQLite, every acknowledged write synced) and moto's standalone server
(``python -m moto.server``, in memory). Both are driven by identically configured boto3
clients (json 1.0, boto3's default gzip request compression, retries off) with the same
pre-built requests:

* **ingest**: ``--values`` values (default 1,000,000) of one metric put with
  ``PutMetricData`` in batches of 1,000 data points of 150 values each (``Values``, seeded
  log-normal latencies); each data point is its own minute, the minutes spread evenly over
  the last 13.5 days (PutMetricData takes nothing older than two weeks), so the metric
  ends with ~1M points over ~6,700 minutes (150 per minute). Timed: the whole sequence of
  requests; reported as values/s (and data points/s), and as values per second of CPU
  the server process used meanwhile (the client's JSON encoding and gzip of 150,000 values
  a request take about as long as the server's work, and are the same for both peers);
* **query**: then, on that metric, ``--queries`` sequential ``GetMetricStatistics`` calls
  (after one warm-up call; at most ``--queries``, and no more once ``--budget`` seconds
  of calls have passed, but at least 5) of each shape: the whole 13.5 days at ``Period=3600`` with the
  five standard statistics (324 datapoints over all 1M values), the same with
  ``ExtendedStatistics=["p99"]``, and the last day at ``Period=60`` (1,440 periods, ~490 with data).
  Reported as p50/p99 latency in ms. moto answers no percentiles (its datapoints come back
  without them), which the table marks.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import numpy as np
from botocore.config import Config
from s3 import machine_lines, moto_peer, shipyard_peer, write_between_markers

from shipyard.testing.server import cpu_seconds

START_MARKER = "<!-- metrics-results:start -->"
END_MARKER = "<!-- metrics-results:end -->"
BATCH = 1000
WARM_UP = 1
#: Timed queries per shape at least, whatever the time budget.
MIN_QUERIES = 5
VALUES_PER_POINT = 150
SPAN = timedelta(days=13.5)
NAMESPACE = "Bench/Metrics"
DIMENSIONS = [{"Name": "Host", "Value": "bench-1"}]


def client(endpoint_url: str, access_key: str, secret_key: str) -> Any:
    return boto3.session.Session().client(
        "cloudwatch",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=2),
    )


def requests(total_values: int, now: datetime) -> list[dict[str, Any]]:
    """The PutMetricData requests: batches of data points, one minute each, over SPAN."""
    points = -(-total_values // VALUES_PER_POINT)
    minutes = int(SPAN.total_seconds() // 60)
    rng = np.random.default_rng(8)
    data = [
        {
            "MetricName": "Latency",
            "Dimensions": DIMENSIONS,
            "Timestamp": now - SPAN + timedelta(minutes=n * minutes // points),
            "Values": rng.lognormal(3, 0.7, VALUES_PER_POINT).round(4).tolist(),
            "Unit": "Milliseconds",
        }
        for n in range(points)
    ]
    return [{"Namespace": NAMESPACE, "MetricData": data[i : i + BATCH]} for i in range(0, points, BATCH)]


def query_shapes(now: datetime) -> dict[str, dict[str, Any]]:
    base = {"Namespace": NAMESPACE, "MetricName": "Latency", "Dimensions": DIMENSIONS}
    standard = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
    return {
        "13.5 days, Period 3600, 5 statistics": {
            **base, "StartTime": now - SPAN, "EndTime": now, "Period": 3600, "Statistics": standard
        },
        "13.5 days, Period 3600, p99": {
            **base, "StartTime": now - SPAN, "EndTime": now, "Period": 3600, "ExtendedStatistics": ["p99"]
        },
        "last day, Period 60, 5 statistics": {
            **base, "StartTime": now - timedelta(days=1), "EndTime": now, "Period": 60, "Statistics": standard
        },
    }


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = call()
    return time.perf_counter() - started, answer


def run_peer(
    cloudwatch: Any,
    server_pid: int,
    batches: list[dict[str, Any]],
    shapes: dict[str, dict[str, Any]],
    queries: int,
    budget: float,
) -> dict[str, Any]:
    values = sum(len(d["Values"]) for batch in batches for d in batch["MetricData"])
    points = sum(len(batch["MetricData"]) for batch in batches)
    cpu_before = cpu_seconds(server_pid)
    seconds, _ = timed(lambda: [cloudwatch.put_metric_data(**batch) for batch in batches])
    result: dict[str, Any] = {
        "values_per_s": values / seconds,
        "points_per_s": points / seconds,
        "values_per_server_cpu_s": values / max(cpu_seconds(server_pid) - cpu_before, 1e-9),
        "ingest_s": seconds,
    }
    for name, shape in shapes.items():
        for _ in range(WARM_UP):
            cloudwatch.get_metric_statistics(**shape)
        latencies, answer = [], None
        deadline = time.monotonic() + budget
        while len(latencies) < queries and (len(latencies) < MIN_QUERIES or time.monotonic() < deadline):
            elapsed, answer = timed(lambda shape=shape: cloudwatch.get_metric_statistics(**shape))
            latencies.append(elapsed * 1000)
        datapoints = answer["Datapoints"] if answer else []
        result[name] = {
            "n": len(latencies),
            "p50": statistics.median(latencies),
            "p99": percentile(latencies, 0.99),
            "datapoints": len(datapoints),
            "samples": sum(p.get("SampleCount", 0) for p in datapoints),
            "percentiles": any(p.get("ExtendedStatistics") for p in datapoints),
        }
    return result


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace, shapes: list[str]) -> str:
    shipyard, moto = results.get("Shipyard"), results.get("moto")
    command = f"python bench/metrics.py --values {args.values} --queries {args.queries} --budget {args.budget:g}"
    lines = [f"Run of `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC:", "", *machine_lines(), ""]
    if not (shipyard and moto):
        return "\n".join([*lines, "(both peers are needed for the table)", repr(results)])
    lines += ["| measure | Shipyard | moto | Shipyard / moto |", "|---|---|---|---|"]
    for unit, key in (
        ("values/s", "values_per_s"),
        ("data points/s", "points_per_s"),
        ("values per second of server CPU", "values_per_server_cpu_s"),
    ):
        ours, theirs = shipyard[key], moto[key]
        lines.append(f"| PutMetricData ingest ({unit}) | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.1f}× |")
    for name in shapes:
        ours, theirs = shipyard[name], moto[name]
        note = " (no percentiles answered)" if "p99" in name and not theirs["percentiles"] else ""
        for stat in ("p50", "p99"):
            lines.append(
                f"| GetMetricStatistics {name}: {stat} ms (calls: {ours['n']} / {theirs['n']}) | {ours[stat]:.1f} |"
                f" {theirs[stat]:.1f}{note} | {theirs[stat] / ours[stat]:.1f}× |"
            )
    differing = [n for n in shapes if "p99" not in n and shipyard[n]["samples"] != moto[n]["samples"]]
    lines += [
        "",
        "Ratios are Shipyard's speed over moto's (ingest: values/s; queries: moto's latency over Shipyard's);",
        "the p99 of few calls is their maximum. "
        + (f"CHECK: sample counts differ on {differing}." if differing else "Both peers answered the same sample counts."),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=1_000_000, help="values to ingest into the queried metric")
    parser.add_argument("--queries", type=int, default=30, help="timed GetMetricStatistics calls per shape, at most")
    parser.add_argument(
        "--budget", type=float, default=15.0, help="seconds of timed calls per shape (at least 5 calls are made)"
    )
    parser.add_argument("--peers", default="shipyard,moto", help="comma-separated subset of shipyard,moto")
    parser.add_argument("--out", type=Path, help="markdown file to write the results into (between markers)")
    args = parser.parse_args(argv)

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    batches = requests(args.values, now)
    shapes = query_shapes(now)
    results: dict[str, dict[str, Any]] = {}
    peers = {"shipyard": ("Shipyard", lambda label, path: shipyard_peer(label, path, fsync=True)), "moto": ("moto", moto_peer)}
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-metrics-") as scratch:
        for key in args.peers.split(","):
            label, start = peers[key]
            with start(label, Path(scratch) / key) as peer:
                cloudwatch = client(peer.endpoint_url, peer.access_key, peer.secret_key)
                print(f"{label}: ingesting {args.values:,} values in {len(batches)} requests ...", file=sys.stderr)
                results[label] = run_peer(cloudwatch, peer.pid, batches, shapes, args.queries, args.budget)
                print(f"{label}: {results[label]}", file=sys.stderr)
    text = report(results, args, list(shapes))
    print(text)
    if args.out:
        write_between_markers(args.out, text, start=START_MARKER, end=END_MARKER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
