"""Train built-in algorithms, for tests, benches and examples.

Data is written in SageMaker's formats (:func:`csv_bytes`, :func:`libsvm_bytes`,
:func:`recordio_bytes`). On a running server, :func:`train_builtin` runs
``CreateTrainingJob`` with the algorithm's image and waits, and :func:`final_metrics` /
:func:`download_model` read the outcome back (:func:`assert_client_error`, that of a job
which failed on its input). In-process, :func:`fit_in_process` runs an algorithm's ``fit``
on channels made with :func:`channel_at` (:func:`training_context` is the context it
gets), and :func:`logged_metrics` reads the metrics it logged.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.algorithms import recordio
from shipyard.algorithms.container import Channel, TrainingContext
from shipyard.algorithms.content_types import ContentType
from shipyard.algorithms.spec import Algorithm
from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import training_request, wait_for_job
from shipyard.testing.server import RunningServer

#: ECR URIs as ``sagemaker.image_uris.retrieve(<framework>, "us-east-1")`` returns them.
IMAGES = {
    "xgboost": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    "linear-learner": "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
    "lightgbm": "lightgbm",
    "kmeans": "382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1",
    "pca": "382416733822.dkr.ecr.us-east-1.amazonaws.com/pca:1",
    "factorization-machines": "382416733822.dkr.ecr.us-east-1.amazonaws.com/factorization-machines:1",
    "knn": "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1",
    "randomcutforest": "382416733822.dkr.ecr.us-east-1.amazonaws.com/randomcutforest:1",
    "forecasting-deepar": "522234722520.dkr.ecr.us-east-1.amazonaws.com/forecasting-deepar:1",
    "image-classification": "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
    "object-detection": "811284229777.dkr.ecr.us-east-1.amazonaws.com/object-detection:1",
}


@dataclass(frozen=True)
class ChannelData:
    """A channel's files (name -> bytes) and content type."""

    files: Mapping[str, bytes]
    content_type: str | None = None


def csv_bytes(features: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    """CSV as SageMaker's algorithms read it: no header, the label first."""
    table = features if labels is None else np.column_stack([labels, features])
    buffer = io.StringIO()
    np.savetxt(buffer, table, delimiter=",", fmt="%.8g")
    return buffer.getvalue().encode()


def libsvm_bytes(features: np.ndarray, labels: np.ndarray) -> bytes:
    """libsvm lines ``label index:value ...`` (zero-based indices, zeros left out)."""
    lines = []
    for label, row in zip(labels, features, strict=True):
        cells = " ".join(f"{index}:{value:.8g}" for index, value in enumerate(row) if value != 0)
        lines.append(f"{label:.8g} {cells}".rstrip())
    return ("\n".join(lines) + "\n").encode()


def recordio_bytes(features: Any, labels: np.ndarray | None = None) -> bytes:
    """RecordIO-protobuf records, dense or sparse, as the SageMaker SDK's ``record_set()`` writes them."""
    buffer = io.BytesIO()
    if hasattr(features, "tocsr"):
        recordio.write_sparse(buffer, features, labels)
    else:
        recordio.write_dense(buffer, np.asarray(features), labels)
    return buffer.getvalue()


def train_builtin(
    server: RunningServer,
    bucket: str,
    role: str,
    algorithm: str,
    hyperparameters: Mapping[str, Any],
    channels: Mapping[str, ChannelData],
    *,
    instance_type: str = "ml.m5.large",
    instance_count: int = 1,
    timeout: float = 300,
    **extra: Any,
) -> dict[str, Any]:
    """Upload ``channels``, train ``algorithm`` (a key of :data:`IMAGES`, or an image URI), wait; the
    job's last DescribeTrainingJob."""
    name = unique_name(algorithm.replace("_", "-")[:20])
    s3 = server.client("s3")
    uris = {}
    for channel, data in channels.items():
        prefix = f"{name}/{channel}"
        for file_name, body in data.files.items():
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{file_name}", Body=body)
        uris[channel] = f"s3://{bucket}/{prefix}/"
    request = training_request(
        name,
        role,
        f"s3://{bucket}/{name}/output",
        image=IMAGES.get(algorithm, algorithm),
        hyperparameters={key: str(value) for key, value in hyperparameters.items()},
        channels=uris,
        instance_type=instance_type,
        instance_count=instance_count,
        **extra,
    )
    for entry in request.get("InputDataConfig", []):
        content_type = channels[entry["ChannelName"]].content_type
        if content_type:
            entry["ContentType"] = content_type
    sagemaker = server.client("sagemaker")
    sagemaker.create_training_job(**request)
    return wait_for_job(sagemaker, name, timeout=timeout)


def final_metrics(description: Mapping[str, Any]) -> dict[str, float]:
    """``FinalMetricDataList`` as name -> value."""
    return {item["MetricName"]: item["Value"] for item in description.get("FinalMetricDataList", [])}


def assert_client_error(description: Mapping[str, Any], pattern: str) -> None:
    """Assert that the job failed on the user's data or settings (``ClientError: ...``) for a
    reason that ``pattern`` (a regular expression) finds."""
    status, reason = description["TrainingJobStatus"], description.get("FailureReason", "")
    assert status == "Failed", f"the job is {status}, not Failed"
    assert reason.startswith("ClientError: "), reason
    assert re.search(pattern, reason), reason


def download_model(server: RunningServer, description: Mapping[str, Any], directory: Path) -> Path:
    """Unpack the job's ``model.tar.gz`` into ``directory``; the directory."""
    uri = description["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = server.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        archive.extractall(directory, filter="data")
    return directory


def channel_at(root: Path, name: str, files: Mapping[str, bytes], content_type: str) -> Channel:
    """A channel directory ``root/data/<name>`` holding ``files``."""
    directory = root / "data" / name
    for file_name, body in files.items():
        path = directory / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return Channel(name, directory, ContentType.parse(content_type))


def training_context(
    algorithm: Algorithm,
    root: Path,
    channels: Iterable[Channel],
    hyperparameters: Mapping[str, Any],
    *,
    num_cpus: int = 1,
) -> TrainingContext:
    """The context the training container would give ``fit`` on one host, with the model at
    ``root/model``."""
    return TrainingContext(
        algorithm=algorithm,
        hyperparameters=algorithm.parse_hyperparameters({key: str(value) for key, value in hyperparameters.items()}),
        channels={channel.name: channel for channel in channels},
        model_dir=root / "model",
        output_data_dir=root / "output",
        host="algo-1",
        hosts=["algo-1"],
        num_cpus=num_cpus,
    )


def fit_in_process(
    algorithm: Algorithm,
    fit: Callable[[TrainingContext], None],
    root: Path,
    channels: Iterable[Channel],
    hyperparameters: Mapping[str, Any],
    *,
    num_cpus: int = 1,
) -> list[str]:
    """Run ``fit`` as the training container would, writing the model to ``root/model``;
    the lines it logged."""
    context = training_context(algorithm, root, channels, hyperparameters, num_cpus=num_cpus)
    (root / "model").mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    context.log = lines.append  # type: ignore[method-assign]
    fit(context)
    return lines


def logged_metrics(algorithm: Algorithm, lines: Iterable[str]) -> dict[str, float]:
    """The algorithm's metrics found in log ``lines``, as its metric definitions read them (the last value wins)."""
    found: dict[str, float] = {}
    patterns = [(metric.name, re.compile(metric.regex)) for metric in algorithm.metrics]
    for line in lines:
        for name, pattern in patterns:
            if match := pattern.search(line):
                found[name] = float(match.group(1))
    return found


def run_container_without_torch(
    module: str, root: Path, hyperparameters: Mapping[str, Any], channels: Mapping[str, ChannelData]
) -> tuple[int, str]:
    """Run algorithm ``module``'s training container in a subprocess where ``import torch``
    fails, over a job tree under ``root``; its exit code and ``output/failure``."""
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps({key: str(value) for key, value in hyperparameters.items()}))
    data_config = {name: {"ContentType": data.content_type} for name, data in channels.items() if data.content_type}
    (config / "inputdataconfig.json").write_text(json.dumps(data_config))
    (config / "resourceconfig.json").write_text(json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}))
    for name, data in channels.items():
        channel_at(root / "input", name, data.files, data.content_type or "")
    env = {
        **os.environ,
        "SM_INPUT_CONFIG_DIR": str(config),
        "SM_INPUT_DIR": str(root / "input"),
        "SM_MODEL_DIR": str(root / "model"),
        "SM_OUTPUT_DIR": str(root / "output"),
        "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
    }
    program = (
        "import sys, runpy; sys.modules['torch'] = None; "
        f"sys.argv[1:] = [{module!r}]; runpy.run_module('shipyard.algorithms.container', run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", program], check=False, env=env, capture_output=True, timeout=120)
    failure = root / "output" / "failure"
    return done.returncode, failure.read_text() if failure.exists() else ""
