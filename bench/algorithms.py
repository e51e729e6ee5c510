"""What a built-in algorithm job costs over calling the library directly, on the same data.

Starts one Shipyard server itself (default settings, in a temporary directory), writes one
seeded CSV table (label first, no header, as SageMaker's algorithms read it), uploads it,
and then, alternating, ``--reps`` times each:

- **direct**: a fresh ``python`` process that reads the CSV with pandas, trains with the
  library (``xgboost.train``; scikit-learn's ``KMeans``) with the same parameters and thread
  count, and saves the model: the script a user would write on this machine;
- **job**: ``CreateTrainingJob`` with the built-in image on ``ml.m5.large`` (2 vCPUs, the
  same threads), from just before the call to the job's ``TrainingEndTime`` (the server's
  clock, the same as this one): the S3 download of the table, the process start, reading,
  training, and packing and uploading ``model.tar.gz``. ``DescribeTrainingJob`` is polled
  every 0.5 s to see the end, as the SDK polls every few seconds; polling every 50 ms took
  enough of the 2 cores from the job to slow XGBoost by about 15%.

Also reported: the job's own ``Training`` phase (from ``SecondaryStatusTransitions``).

    python bench/algorithms.py                      # 1M rows x 20 features
    python bench/algorithms.py --rows 100000 --reps 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shipyard.testing import start_server
from shipyard.testing.algorithms import IMAGES
from shipyard.testing.jobs import sagemaker_role, training_request

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.5
THREADS = 2  # ml.m5.large's vCPUs: the job gets as many

XGBOOST = {"num_round": 50, "max_depth": 6, "eta": 0.3, "objective": "reg:squarederror", "seed": 0}
KMEANS = {"k": 10, "init_method": "kmeans++", "local_lloyd_max_iter": 100, "local_lloyd_tol": 0.0001, "local_lloyd_num_trials": 1}

DIRECT = {
    "xgboost": """
        import sys, pandas as pd, numpy as np, xgboost as xgb
        table = pd.read_csv(sys.argv[1], header=None, dtype=np.float32).to_numpy()
        train = xgb.DMatrix(table[:, 1:], label=table[:, 0], nthread={threads})
        params = {{"max_depth": 6, "eta": 0.3, "objective": "reg:squarederror", "seed": 0, "nthread": {threads}}}
        booster = xgb.train(params, train, num_boost_round=50, evals=[(train, "train")], verbose_eval=True)
        booster.save_model(sys.argv[2] + "/xgboost-model")
    """,
    "kmeans": """
        import sys, pandas as pd, numpy as np
        from threadpoolctl import threadpool_limits
        from sklearn.cluster import KMeans
        table = pd.read_csv(sys.argv[1], header=None, dtype=np.float32).to_numpy()
        with threadpool_limits({threads}):
            model = KMeans(n_clusters=10, init="k-means++", n_init=1, max_iter=100, tol=1e-4, random_state=0).fit(table)
        np.savez(sys.argv[2] + "/model.npz", centroids=model.cluster_centers_)
    """,
}


def write_table(path: Path, rows: int, features: int) -> None:
    """A seeded regression table: label = X @ w + noise, then X."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(rows, features)).astype(np.float32)
    labels = data @ rng.normal(size=features).astype(np.float32) + rng.normal(scale=0.1, size=rows).astype(np.float32)
    pd.DataFrame(np.column_stack([labels, data])).to_csv(path, header=False, index=False, float_format="%.6g")


def run_direct(algorithm: str, table: Path, work: Path, unlabelled: Path) -> float:
    script = textwrap.dedent(DIRECT[algorithm]).format(threads=THREADS)
    out = Path(tempfile.mkdtemp(dir=work))
    source = unlabelled if algorithm == "kmeans" else table
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, str(source), str(out)], check=True, capture_output=True)
    return time.perf_counter() - started


def run_job(server: Any, algorithm: str, role: str, uri: str, features: int) -> tuple[float, float]:
    """End-to-end seconds and the Training phase's seconds of one job."""
    sagemaker = server.client("sagemaker")
    name = f"bench-{algorithm}-{uuid.uuid4().hex[:8]}"
    hyperparameters = dict(XGBOOST) if algorithm == "xgboost" else {**KMEANS, "feature_dim": features}
    request = training_request(
        name, role, uri.rsplit("/", 2)[0] + "/output", image=IMAGES[algorithm],
        hyperparameters={key: str(value) for key, value in hyperparameters.items()}, channels={"train": uri},
        instance_type="ml.m5.large", max_runtime=3600,
    )
    request["InputDataConfig"][0]["ContentType"] = "text/csv" if algorithm == "xgboost" else "text/csv;label_size=0"
    started = time.time()
    sagemaker.create_training_job(**request)
    while True:
        found = sagemaker.describe_training_job(TrainingJobName=name)
        if found["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(POLL)
    if found["TrainingJobStatus"] != "Completed":
        raise RuntimeError(f"{name}: {found.get('FailureReason')}")
    total = found["TrainingEndTime"].timestamp() - started
    phases = {item["Status"]: item for item in found["SecondaryStatusTransitions"]}
    training = phases["Training"]
    return total, (training["EndTime"] - training["StartTime"]).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--algorithms", default="xgboost,kmeans")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "algorithms.json")
    args = parser.parse_args()
    chosen = args.algorithms.split(",")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as scratch:
        work = Path(scratch)
        table, unlabelled = work / "table.csv", work / "features.csv"
        write_table(table, args.rows, args.features)
        pd.read_csv(table, header=None).iloc[:, 1:].to_csv(unlabelled, header=False, index=False)
        print(f"table: {args.rows} rows x {args.features} features, {table.stat().st_size / 2**20:.0f} MiB", flush=True)
        with start_server(work / "server") as server:
            s3 = server.client("s3")
            s3.create_bucket(Bucket="bench")
            s3.upload_file(str(table), "bench", "labelled/table.csv")
            s3.upload_file(str(unlabelled), "bench", "unlabelled/features.csv")
            role = sagemaker_role(server)
            for algorithm in chosen:
                uri = "s3://bench/labelled/" if algorithm == "xgboost" else "s3://bench/unlabelled/"
                direct, job, training = [], [], []
                for rep in range(args.reps):
                    direct.append(run_direct(algorithm, table, work, unlabelled))
                    total, phase = run_job(server, algorithm, role, uri, args.features)
                    job.append(total)
                    training.append(phase)
                    print(f"{algorithm} rep {rep + 1}: direct {direct[-1]:.2f} s, job {total:.2f} s (Training phase {phase:.2f} s)", flush=True)
                results[algorithm] = {
                    "direct_s": statistics.median(direct),
                    "job_s": statistics.median(job),
                    "training_phase_s": statistics.median(training),
                    "job_over_direct": statistics.median(job) / statistics.median(direct),
                    "runs": {"direct": direct, "job": job, "training_phase": training},
                }
    print()
    print(f"{'algorithm':<10} {'direct (s)':>11} {'job (s)':>9} {'Training phase (s)':>19} {'job / direct':>13}")
    for algorithm, result in results.items():
        print(
            f"{algorithm:<10} {result['direct_s']:>11.2f} {result['job_s']:>9.2f} "
            f"{result['training_phase_s']:>19.2f} {result['job_over_direct']:>13.3f}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "rows": args.rows,
                "features": args.features,
                "reps": args.reps,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
