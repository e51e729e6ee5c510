"""How fast a training job starts and ends: create -> first line of user code -> Completed.

Starts one Shipyard server itself (default settings, in a temporary directory), creates a
bucket, a role and a no-op script-mode training job whose first statement prints
``time.time()``, then measures, against the same clock on the same machine:

- (a) create -> first line: from just before ``CreateTrainingJob`` is sent to the ``t0``
  the user code printed (read back from the job's CloudWatch log);
- (b) create -> Completed: from the same instant to the first ``DescribeTrainingJob``
  (polled every 10 ms) that answers ``Completed``;
- (c) a batch of concurrent no-op jobs on ``ml.t3.medium``: from the first create to the
  moment every one of them is seen ``Completed``.

    python bench/jobs.py --runs 20          # prints a table, writes bench/results/jobs.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore

from shipyard.testing import start_server
from shipyard.testing.jobs import (
    log_messages,
    sagemaker_role,
    script_hyperparameters,
    training_request,
    upload_sourcedir,
)

ROOT = Path(__file__).resolve().parent.parent
NOOP = """\
import time; print("t0", time.time(), flush=True)
print("no-op training done", flush=True)
"""
POLL = 0.010
ENDED = {"Completed", "Failed", "Stopped"}


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "p90": percentile(values, 0.9),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def first_line_time(server: Any, name: str, timeout: float = 10.0) -> float:
    """The ``t0`` job ``name`` printed first, from its log (waiting briefly for the log)."""
    deadline = time.monotonic() + timeout
    while True:
        for message in log_messages(server, name):
            if message.startswith("t0 "):
                return float(message.split()[1])
        if time.monotonic() > deadline:
            raise RuntimeError(f"no t0 line in the log of {name}")
        time.sleep(0.05)


def poll_until_ended(sagemaker: Any, names: list[str]) -> dict[str, tuple[float, dict[str, Any]]]:
    """Describe every pending job each 10 ms; name -> (time.time() it was first seen ended, description)."""
    pending, ended = list(names), {}
    deadline = time.monotonic() + 300
    while pending:
        for name in list(pending):
            job = sagemaker.describe_training_job(TrainingJobName=name)
            if job["TrainingJobStatus"] in ENDED:
                ended[name] = (time.time(), job)
                pending.remove(name)
        if time.monotonic() > deadline:
            raise TimeoutError(f"jobs still running after 300 s: {pending}")
        if pending:
            time.sleep(POLL)
    return ended


def phases(job: dict[str, Any]) -> dict[str, float]:
    """Seconds in each secondary status, from the job's own SecondaryStatusTransitions."""
    result = {}
    for item in job["SecondaryStatusTransitions"]:
        if "EndTime" in item and item["Status"] not in ENDED:
            result[item["Status"]] = (item["EndTime"] - item["StartTime"]).total_seconds()
    return result


def one_job(server: Any, sagemaker: Any, role: str, bucket: str, source: str) -> dict[str, Any]:
    name = f"noop-{uuid.uuid4().hex[:10]}"
    request = training_request(
        name, role, f"s3://{bucket}/out", instance_type="ml.t3.medium", hyperparameters=script_hyperparameters("train.py", source)
    )
    before = time.time()
    sagemaker.create_training_job(**request)
    answered = time.time()
    (seen, job), = poll_until_ended(sagemaker, [name]).values()
    if job["TrainingJobStatus"] != "Completed":
        raise RuntimeError(f"{name} ended {job['TrainingJobStatus']}: {job.get('FailureReason')}")
    t0 = first_line_time(server, name)
    return {
        "name": name,
        "create_call_s": answered - before,
        "first_line_s": t0 - before,
        "first_line_after_response_s": t0 - answered,
        "completed_s": seen - before,
        "phases_s": phases(job),
    }


def batch(server: Any, sagemaker: Any, role: str, bucket: str, source: str, count: int) -> dict[str, Any]:
    names = [f"batch-{uuid.uuid4().hex[:10]}" for _ in range(count)]
    requests = [
        training_request(
            name, role, f"s3://{bucket}/out", instance_type="ml.t3.medium", hyperparameters=script_hyperparameters("train.py", source)
        )
        for name in names
    ]
    busy_before, _ = machine_busy_seconds()
    start = time.time()
    created = []
    for request in requests:
        sagemaker.create_training_job(**request)
        created.append(time.time())
    ended = poll_until_ended(sagemaker, names)
    failed = {name: job.get("FailureReason") for name, (_, job) in ended.items() if job["TrainingJobStatus"] != "Completed"}
    if failed:
        raise RuntimeError(f"batch jobs did not complete: {failed}")
    last = max(seen for seen, _ in ended.values())
    busy = machine_busy_seconds()[0] - busy_before
    first_lines = [first_line_time(server, name) - start for name in names]
    return {
        "jobs": count,
        "all_completed_s": last - start,
        "machine_cpu_busy_s": busy,
        "machine_cpu_busy_per_wall": busy / (time.time() - start),
        "creates_s": created[-1] - start,
        "first_line_s": sorted(first_lines),
        "completed_s": sorted(seen - start for seen, _ in ended.values()),
    }


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = "unknown"
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "commit": commit,
    }


def ms(value: float) -> str:
    return f"{value * 1000:,.0f} ms"


def row(label: str, stats: dict[str, float], target: str = "") -> str:
    return f"| {label} | {ms(stats['median'])} | {ms(stats['p90'])} | {ms(stats['min'])} | {ms(stats['max'])} | {target} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="sequential no-op jobs measured (after --warmup)")
    parser.add_argument("--warmup", type=int, default=2, help="no-op jobs run first and not counted")
    parser.add_argument("--concurrent", type=int, default=10, help="jobs in the concurrent batch")
    parser.add_argument("--batch-reps", type=int, default=3, help="how many concurrent batches")
    parser.add_argument(
        "--memory-mib", type=int, default=None,
        help="SHIPYARD_MEMORY for the server (default: 4 GiB per concurrent job; 0: this machine's memory)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "jobs.json")
    args = parser.parse_args()

    # 2 vCPUs and 4 GiB per ml.t3.medium host: room for the whole batch at once.
    memory = 4096 * args.concurrent if args.memory_mib is None else args.memory_mib
    capacity = {"SHIPYARD_CPUS": str(2 * args.concurrent), "SHIPYARD_MEMORY": str(memory)}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-jobs-") as tmp, start_server(Path(tmp), extra_env=capacity) as server:
        sagemaker, s3 = server.client("sagemaker"), server.client("s3")
        bucket = f"bench-{uuid.uuid4().hex[:10]}"
        s3.create_bucket(Bucket=bucket)
        role = sagemaker_role(server)
        source = upload_sourcedir(server, bucket, "noop", {"train.py": NOOP})

        for _ in range(args.warmup):
            one_job(server, sagemaker, role, bucket, source)
        cpu_before = server.cpu_seconds()
        runs = []
        for index in range(args.runs):
            runs.append(one_job(server, sagemaker, role, bucket, source))
            print(
                f"run {index + 1:>2}: first line {ms(runs[-1]['first_line_s'])}, Completed {ms(runs[-1]['completed_s'])}",
                file=sys.stderr,
            )
        server_cpu_per_job = (server.cpu_seconds() - cpu_before) / max(1, args.runs)
        batches = []
        for _ in range(args.batch_reps):
            batches.append(batch(server, sagemaker, role, bucket, source, args.concurrent))
            done = batches[-1]
            print(
                f"batch of {args.concurrent}: all Completed {ms(done['all_completed_s'])}, "
                f"machine CPU busy {done['machine_cpu_busy_per_wall']:.0%} of one core",
                file=sys.stderr,
            )

    phase_names = list(dict.fromkeys(name for run in runs for name in run["phases_s"]))
    results = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python bench/jobs.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "settings": {**vars(args), "out": str(args.out), "poll_s": POLL, "instance_type": "ml.t3.medium", **capacity},
        "create_call": summary([run["create_call_s"] for run in runs]),
        "first_line": summary([run["first_line_s"] for run in runs]),
        "first_line_after_response": summary([run["first_line_after_response_s"] for run in runs]),
        "completed": summary([run["completed_s"] for run in runs]),
        "phases": {name: summary([run["phases_s"][name] for run in runs if name in run["phases_s"]]) for name in phase_names},
        "server_cpu_per_job_s": server_cpu_per_job,
        "concurrent": summary([item["all_completed_s"] for item in batches]),
        "concurrent_first_line": summary([line for item in batches for line in item["first_line_s"]]),
        "concurrent_machine_cpu_busy_per_wall": statistics.median(item["machine_cpu_busy_per_wall"] for item in batches),
        "runs": runs,
        "batches": batches,
        "took_s": time.monotonic() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")

    print(f"\n{args.runs} sequential no-op training jobs (ml.t3.medium, script mode), after {args.warmup} warm-up jobs:\n")
    print("| measure | median | p90 | min | max | target |")
    print("|---|---:|---:|---:|---:|---|")
    first, done = results["first_line"], results["completed"]
    print(row("CreateTrainingJob call (request -> response)", results["create_call"]))
    verdict = "met" if first["median"] < 0.5 else "**missed**"
    print(row("create -> first line of user code", first, f"< 500 ms: {verdict}"))
    print(row("response -> first line of user code", results["first_line_after_response"]))
    verdict = "met" if done["median"] < 1.5 else "**missed**"
    print(row("create -> `Completed` (DescribeTrainingJob every 10 ms)", done, f"< 1,500 ms: {verdict}"))
    for name, stats in results["phases"].items():
        print(row(f"in secondary status {name} (the job's own transitions)", stats))
    print(row(f"{args.concurrent} concurrent jobs: first create -> all `Completed` ({args.batch_reps} batches)", results["concurrent"]))
    print(row(f"{args.concurrent} concurrent jobs: first create -> each job's first line (all batches)", results["concurrent_first_line"]))
    print(
        f"\nwhole machine CPU busy during the concurrent batches: {results['concurrent_machine_cpu_busy_per_wall']:.0%} "
        f"of one core (median; {os.cpu_count()} cores = {os.cpu_count() * 100}%)"
    )
    print(f"server CPU per sequential job: {ms(server_cpu_per_job)}; took {results['took_s']:.0f} s; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
