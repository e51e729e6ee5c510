"""The endpoint worker, started directly for a WorkerSpec: model data from S3 through the
server, each container kind, Serial and Direct pipelines, errors, load failures, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest
import xgboost
from sklearn.linear_model import LogisticRegression

from shipyard.compute.network import free_port
from shipyard.jobs.spec import Image, Resources
from shipyard.serving.failures import read_failure
from shipyard.serving.launch import start_worker, wait_ready
from shipyard.serving.spec import OUTPUT_LOG, ContainerSpec, InferenceMode, WorkerSpec
from shipyard.testing import RunningServer
from shipyard.testing.hosting import model_tar

XGBOOST = Image(uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", kind="builtin", algorithm="xgboost")
SKLEARN = Image(uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3", kind="script", framework="sklearn")
READY_TIMEOUT = 60.0

INFERENCE = """
import joblib
import numpy as np

def model_fn(model_dir):
    return joblib.load(f"{model_dir}/model.joblib")

def predict_fn(data, model, context):
    data = np.atleast_2d(data)
    if data[0, 0] == -999:
        raise ValueError("the sentinel -999 is not a feature value")
    context.set_response_header(0, "X-Amzn-SageMaker-Custom-Attributes", "seen=" + context.custom_attributes)
    return model.predict_proba(data)[:, 1]
"""

DOUBLER = """
import numpy as np

def model_fn(model_dir):
    return 2.0

def predict_fn(data, model):
    return np.atleast_2d(data) * model
"""

SERVE = """#!{python}
import http.server, os, pathlib

GREETING = (pathlib.Path(os.environ["SM_MODEL_DIR"]) / "data" / "greeting.txt").read_text().strip()

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/ping" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if body == b"fail":
            answer, status = b"the serve script refuses 'fail'", 422
        else:
            answer, status = f"{{GREETING}} {{body.decode().upper()}} as {{self.headers['Accept']}}".encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass

print("serve: listening", flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["SAGEMAKER_BIND_TO_PORT"])), Handler).serve_forever()
"""


def csv(rows: np.ndarray) -> bytes:
    return "".join(",".join(repr(float(value)) for value in row) + "\n" for row in rows).encode()


class Worker:
    """A started worker: its process, instance directory and URL."""

    def __init__(self, process: subprocess.Popen[bytes], instance_dir: Path, url: str) -> None:
        self.process, self.instance_dir, self.url = process, instance_dir, url

    def invoke(self, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        request = urllib.request.Request(f"{self.url}/invocations", data=body, headers=headers or {}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read(), dict(answer.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def log(self) -> str:
        return (self.instance_dir / OUTPUT_LOG).read_text()


@pytest.fixture(scope="module")
def bucket(sqlite_server: RunningServer) -> str:
    name = f"serving-{uuid.uuid4().hex[:12]}"
    sqlite_server.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def put(sqlite_server: RunningServer, bucket: str) -> Callable[[str, bytes], str]:
    s3 = sqlite_server.client("s3")

    def put(key: str, data: bytes) -> str:
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        return f"s3://{bucket}/{key}"

    return put


@pytest.fixture(scope="module")
def launch(sqlite_server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Worker]]:
    """Start workers (not waiting for them); every one is killed when the module ends."""
    access_key, secret_key = sqlite_server.credentials
    started: list[subprocess.Popen[bytes]] = []

    def launch(containers: list[ContainerSpec], mode: InferenceMode = "Serial") -> Worker:
        instance_dir = tmp_path_factory.mktemp("instance")
        port = free_port()
        spec = WorkerSpec(
            endpoint_name="test-endpoint",
            variant_name="AllTraffic",
            instance_id=f"i-{uuid.uuid4().hex[:17]}",
            region="us-east-1",
            containers=containers,
            mode=mode,
            port=port,
            resources=Resources("ml.m5.large", 2, sorted(os.sched_getaffinity(0)), 8192),
            endpoint_url=sqlite_server.endpoint_url,
            credentials={"AccessKeyId": access_key, "SecretAccessKey": secret_key},
            venv_cache=str(tmp_path_factory.mktemp("venvs")),
        )
        process = start_worker(spec, instance_dir)
        started.append(process)
        return Worker(process, instance_dir, f"http://127.0.0.1:{port}")

    yield launch
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def ready(worker: Worker) -> Worker:
    try:
        wait_ready(worker.url, READY_TIMEOUT, worker.process)
    except Exception:
        print(worker.log())
        raise
    return worker


@pytest.fixture(scope="module")
def dataset() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    features = rng.normal(size=(200, 4))
    labels = (features[:, 0] + 0.5 * features[:, 1] > 0).astype(np.float64)
    return features, labels


@pytest.fixture(scope="module")
def booster(dataset: tuple[np.ndarray, np.ndarray]) -> xgboost.Booster:
    features, labels = dataset
    return xgboost.train({"objective": "binary:logistic", "max_depth": 2}, xgboost.DMatrix(features, labels), 10)


@pytest.fixture(scope="module")
def xgboost_model(booster: xgboost.Booster, put: Callable[[str, bytes], str]) -> str:
    return put("xgboost/model.tar.gz", model_tar({"xgboost-model": booster.save_raw("ubj")}))


@pytest.fixture(scope="module")
def classifier(dataset: tuple[np.ndarray, np.ndarray]) -> LogisticRegression:
    return LogisticRegression().fit(*dataset)


@pytest.fixture(scope="module")
def joblib_bytes(classifier: LogisticRegression, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("sklearn") / "model.joblib"
    joblib.dump(classifier, path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def xgboost_worker(launch: Callable[..., Worker], xgboost_model: str) -> Worker:
    return ready(launch([ContainerSpec(image=XGBOOST, model_data_url=xgboost_model)]))


@pytest.fixture(scope="module")
def direct_worker(launch: Callable[..., Worker], put: Callable[[str, bytes], str], joblib_bytes: bytes) -> Worker:
    """Two script-mode scikit-learn containers: the code repacked into model.tar.gz as the
    SDK does it, and the code in a sourcedir.tar.gz named by SAGEMAKER_SUBMIT_DIRECTORY."""
    packed = put(
        "sklearn/packed/model.tar.gz", model_tar({"model.joblib": joblib_bytes, "code/inference.py": INFERENCE.encode()})
    )
    model_only = put("sklearn/plain/model.tar.gz", model_tar({"model.joblib": joblib_bytes}))
    source = put("sklearn/source/sourcedir.tar.gz", model_tar({"serve_model.py": INFERENCE.encode()}))
    containers = [
        ContainerSpec(
            image=SKLEARN,
            model_data_url=packed,
            environment={"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
            hostname="packed",
        ),
        ContainerSpec(
            image=SKLEARN,
            model_data_url=model_only,
            environment={"SAGEMAKER_PROGRAM": "serve_model.py", "SAGEMAKER_SUBMIT_DIRECTORY": source},
            hostname="sourced",
        ),
    ]
    return ready(launch(containers, "Direct"))


def test_builtin_xgboost_answers_ping_and_predicts_csv_and_json(
    xgboost_worker: Worker, booster: xgboost.Booster, dataset: tuple[np.ndarray, np.ndarray]
) -> None:
    with urllib.request.urlopen(f"{xgboost_worker.url}/ping", timeout=5) as answer:
        assert answer.status == 200
    rows = dataset[0][:5]
    expected = booster.predict(xgboost.DMatrix(rows))

    status, body, headers = xgboost_worker.invoke(csv(rows), {"Content-Type": "text/csv"})
    assert status == 200 and headers["content-type"] == "text/csv"
    assert np.allclose(np.array(body.decode().split(","), dtype=np.float64), expected, atol=1e-6)

    status, body, headers = xgboost_worker.invoke(
        csv(rows), {"Content-Type": "text/csv", "Accept": "application/json"}
    )
    assert status == 200 and headers["content-type"] == "application/json"
    assert np.allclose(json.loads(body), expected, atol=1e-6)


def test_builtin_refusals_answer_their_status_and_message(xgboost_worker: Worker) -> None:
    status, body, headers = xgboost_worker.invoke(b"\x00\x01", {"Content-Type": "image/png"})
    assert status == 415 and headers["content-type"].startswith("text/plain")
    assert "image/png" in body.decode() and "not supported" in body.decode()

    status, body, _ = xgboost_worker.invoke(b"1,2\n3,4,5\n", {"Content-Type": "text/csv"})
    assert status == 400 and "column counts" in body.decode()

    status, _, _ = xgboost_worker.invoke(b"1,2,3,4", {"Content-Type": "text/csv", "Accept": "image/png"})
    assert status == 406


def test_unknown_paths_and_methods(xgboost_worker: Worker) -> None:
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{xgboost_worker.url}/nothing", timeout=5)
    assert missing.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as wrong:
        urllib.request.urlopen(f"{xgboost_worker.url}/invocations", timeout=5)
    assert wrong.value.code == 405


def test_worker_logs_its_milestones(xgboost_worker: Worker, xgboost_model: str) -> None:
    log = xgboost_worker.log()
    for milestone in (f"Downloading the model data of container 0 from {xgboost_model}", "Loaded", "Listening on"):
        assert milestone in log


@pytest.mark.parametrize("hostname", ["packed", "sourced"])
def test_script_mode_sklearn_both_ways_in_direct_mode(
    direct_worker: Worker, classifier: LogisticRegression, dataset: tuple[np.ndarray, np.ndarray], hostname: str
) -> None:
    rows = dataset[0][:3]
    headers = {
        "Content-Type": "application/json",
        "X-Amzn-SageMaker-Target-Container-Hostname": hostname,
        "X-Amzn-SageMaker-Custom-Attributes": "trace=42",
    }
    status, body, answer_headers = direct_worker.invoke(json.dumps(rows.tolist()).encode(), headers)
    assert status == 200, body
    assert answer_headers["content-type"] == "application/json"
    assert np.allclose(json.loads(body), classifier.predict_proba(rows)[:, 1])
    assert answer_headers["x-amzn-sagemaker-custom-attributes"] == "seen=trace=42"

    status, body, answer_headers = direct_worker.invoke(
        csv(rows[:1]), {**headers, "Content-Type": "text/csv", "Accept": "text/csv"}
    )
    assert status == 200 and answer_headers["content-type"] == "text/csv"
    assert float(body) == pytest.approx(classifier.predict_proba(rows[:1])[0, 1])


def test_direct_mode_needs_a_known_target(direct_worker: Worker) -> None:
    status, body, _ = direct_worker.invoke(b"[[1, 2, 3, 4]]", {"Content-Type": "application/json"})
    assert status == 400 and "TargetContainerHostname" in body.decode() and "packed, sourced" in body.decode()
    status, body, _ = direct_worker.invoke(
        b"[[1, 2, 3, 4]]",
        {"Content-Type": "application/json", "X-Amzn-SageMaker-Target-Container-Hostname": "other"},
    )
    assert status == 400 and "'other'" in body.decode()


def test_an_exception_of_predict_fn_is_a_500_with_its_message(direct_worker: Worker) -> None:
    status, body, _ = direct_worker.invoke(
        b"[[-999, 0, 0, 0]]",
        {"Content-Type": "application/json", "X-Amzn-SageMaker-Target-Container-Hostname": "packed"},
    )
    assert status == 500 and body.decode() == "the sentinel -999 is not a feature value"
    assert "Traceback" in direct_worker.log() and "ValueError: the sentinel -999" in direct_worker.log()
    # The worker serves on.
    status, _, _ = direct_worker.invoke(
        b"[[1, 0, 0, 0]]",
        {"Content-Type": "application/json", "X-Amzn-SageMaker-Target-Container-Hostname": "packed"},
    )
    assert status == 200


def test_serial_pipeline_passes_each_answer_to_the_next_container_in_the_codes_venv(
    launch: Callable[..., Worker],
    xgboost_model: str,
    booster: xgboost.Booster,
    dataset: tuple[np.ndarray, np.ndarray],
    tmp_path: Path,
) -> None:
    code = tmp_path / "doubler"
    code.mkdir()
    (code / "inference.py").write_text(DOUBLER)
    # Already installed here: pip resolves it from the server's packages, without a network.
    (code / "requirements.txt").write_text("numpy\n")
    doubler = ContainerSpec(
        image=SKLEARN,
        environment={"SAGEMAKER_SUBMIT_DIRECTORY": f"file://{code}", "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"},
    )
    worker = ready(launch([doubler, ContainerSpec(image=XGBOOST, model_data_url=xgboost_model)]))
    rows = dataset[0][:4] / 2
    status, body, headers = worker.invoke(csv(rows), {"Content-Type": "text/csv", "Accept": "application/json"})
    assert status == 200 and headers["content-type"] == "application/json", body
    expected = booster.predict(xgboost.DMatrix(rows * 2))
    assert np.allclose(json.loads(body), expected, atol=1e-5)
    assert "Restarting in the virtualenv" in worker.log()

    status, body, _ = worker.invoke(csv(rows), {"Content-Type": "text/csv", "X-Amzn-SageMaker-Target-Container-Hostname": "1"})
    assert status == 400 and "Direct" in body.decode()


def test_local_image_serve_is_proxied_and_sigterm_stops_the_worker(
    launch: Callable[..., Worker], put: Callable[[str, bytes], str], tmp_path: Path
) -> None:
    image = tmp_path / "image"
    image.mkdir()
    (image / "serve").write_text(SERVE.format(python=sys.executable))
    (image / "serve").chmod(0o755)
    prefix = put("local/uncompressed/data/greeting.txt", b"hello\n").removesuffix("data/greeting.txt")
    container = ContainerSpec(
        image=Image(uri="my-image:latest", kind="local", path=str(image)), model_data_url=prefix, compressed=False
    )
    worker = ready(launch([container]))
    assert (worker.instance_dir / "model" / "0" / "data" / "greeting.txt").read_text() == "hello\n"

    status, body, headers = worker.invoke(b"world", {"Content-Type": "text/plain", "Accept": "text/plain"})
    assert (status, body) == (200, b"hello WORLD as text/plain")
    assert headers["content-type"] == "text/plain"
    status, body, _ = worker.invoke(b"fail", {"Content-Type": "text/plain"})
    assert (status, body) == (422, b"the serve script refuses 'fail'")

    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=15) == 0
    log = worker.log()
    assert "serve: listening" in log and log.rstrip().endswith("[shipyard] Stopped")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{worker.url}/ping", timeout=2)


def test_a_model_fn_that_raises_ends_the_worker_with_the_reason(
    launch: Callable[..., Worker], put: Callable[[str, bytes], str]
) -> None:
    failing = "def model_fn(model_dir):\n    raise RuntimeError('cannot read the weights')\n"
    model = put("broken/model.tar.gz", model_tar({"code/inference.py": failing.encode()}))
    worker = launch([ContainerSpec(image=SKLEARN, model_data_url=model)])
    assert worker.process.wait(timeout=READY_TIMEOUT) == 1
    reason = read_failure(worker.instance_dir)
    assert reason == "The model failed to load: RuntimeError: cannot read the weights"
    log = worker.log()
    assert "Traceback" in log
    assert log.rstrip().splitlines()[-1] == f"[shipyard] Failed: {reason}"


@pytest.mark.parametrize(
    ("container", "reason"),
    [
        (ContainerSpec(image=SKLEARN, environment={"SAGEMAKER_SUBMIT_DIRECTORY": "/nonexistent/code"}),
         'The submit directory "/nonexistent/code" does not exist.'),
        (ContainerSpec(image=XGBOOST, model_data_url="s3://no-such-bucket-here/model.tar.gz"),
         "Failed to download model data from s3://no-such-bucket-here/model.tar.gz: NoSuchBucket"),
    ],
    ids=["missing-code", "missing-model-data"],
)
def test_load_failures_name_what_is_missing(launch: Callable[..., Worker], container: ContainerSpec, reason: str) -> None:
    worker = launch([container])
    assert worker.process.wait(timeout=READY_TIMEOUT) == 1
    assert read_failure(worker.instance_dir).startswith(reason)
