"""The SageMaker Python SDK (v2), unchanged, against a Shipyard server.

A user's estimator and processor code with only the endpoint changed: ``AWS_ENDPOINT_URL``
sends every boto3 client the SDK makes to Shipyard. What the SDK does on its own is what
is tested: it uploads the source directory to its default bucket, creates the job, follows
its status, streams its logs from CloudWatch Logs and reads the final description.

One thing is configured rather than changed: the SDK v2 builds its STS client with a
hard-coded ``https://sts.<region>.amazonaws.com`` endpoint (``sts_regional_endpoint``) to
name its default bucket ``sagemaker-<region>-<account>``, ignoring ``AWS_ENDPOINT_URL``; so
the session is given that same bucket name (``Session(default_bucket=...)``, which users
set through the SDK's config file just as well). Telemetry is opted out of through the
SDK's config file, as it would otherwise try to reach an AWS host.
"""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipyard.testing import RunningServer, start_server
from shipyard.testing.jobs import sagemaker_role
from shipyard.testing.sdk import sagemaker_session

TRAIN = """
    import argparse, json, os
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    train = os.environ["SM_CHANNEL_TRAIN"]
    rows = []
    for name in sorted(os.listdir(train)):
        with open(os.path.join(train, name)) as handle:
            rows += [line for line in handle.read().splitlines() if line]
    print(f"read {len(rows)} rows", flush=True)
    for epoch in range(args.epochs):
        print(f"epoch={epoch} train_loss={1.0 / (epoch + 1):.4f}", flush=True)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as handle:
        json.dump({"rows": len(rows), "epochs": args.epochs, "program": os.environ["SM_USER_ENTRY_POINT"]}, handle)
"""

FAILING_TRAIN = """
    print("checking the hyperparameters", flush=True)
    raise SystemExit("learning rate must be positive")
"""

PREPROCESS = """
    import os
    source, target = "/opt/ml/processing/input/raw", "/opt/ml/processing/output/features"
    os.makedirs(target, exist_ok=True)
    count = 0
    for name in sorted(os.listdir(source)):
        with open(os.path.join(source, name)) as fin, open(os.path.join(target, name), "w") as fout:
            for line in fin.read().splitlines():
                fout.write(line.upper() + "\\n")
                count += 1
    print(f"preprocessed {count} lines", flush=True)
"""

class Sdk:
    """The server, the SDK session pointed at it and what the tests share."""

    def __init__(self, server: RunningServer, session: Any, role: str, bucket: str, workdir: Path) -> None:
        self.server = server
        self.session = session
        self.role = role
        self.bucket = bucket
        self.workdir = workdir

    def source_dir(self, name: str, files: dict[str, str]) -> str:
        directory = self.workdir / name
        directory.mkdir(parents=True, exist_ok=True)
        for file_name, text in files.items():
            (directory / file_name).write_text(textwrap.dedent(text))
        return str(directory)

    def s3_object(self, uri: str) -> bytes:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        return self.server.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sdk]:
    workdir = tmp_path_factory.mktemp("sagemaker-sdk")
    with start_server(workdir / "server") as server, sagemaker_session(server, workdir) as session:
        bucket = session.default_bucket()  # created by the SDK: HeadBucket 404, then CreateBucket
        s3 = server.client("s3")
        s3.head_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="datasets/train/part-0.csv", Body=b"1,2\n3,4\n")
        s3.put_object(Bucket=bucket, Key="datasets/train/part-1.csv", Body=b"5,6\n")
        s3.put_object(Bucket=bucket, Key="datasets/raw/rows.csv", Body=b"a,b\nc,d\n")
        yield Sdk(server, session, sagemaker_role(server), bucket, workdir)


def _sklearn(sdk: Sdk, source_dir: str, **kwargs: Any):
    from sagemaker.sklearn.estimator import SKLearn

    return SKLearn(
        entry_point="train.py",
        source_dir=source_dir,
        framework_version="1.2-1",
        instance_type="ml.m5.large",
        instance_count=1,
        role=sdk.role,
        sagemaker_session=sdk.session,
        **kwargs,
    )


@pytest.fixture(scope="module")
def fitted(sdk: Sdk):
    """An SKLearn estimator fitted with ``wait=True, logs=True``, and what it printed."""
    estimator = _sklearn(
        sdk,
        sdk.source_dir("train-src", {"train.py": TRAIN}),
        hyperparameters={"epochs": 2},
        metric_definitions=[{"Name": "train:loss", "Regex": r"train_loss=([0-9.]+)"}],
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        estimator.fit({"train": f"s3://{sdk.bucket}/datasets/train"}, wait=True, logs=True)
    return estimator, printed.getvalue()


def test_sklearn_estimator_fit_completes_with_model_and_logs(sdk, fitted):
    estimator, printed = fitted
    job = estimator.latest_training_job.name
    description = sdk.session.describe_training_job(job)
    assert description["TrainingJobStatus"] == "Completed"
    assert description["SecondaryStatus"] == "Completed"

    # The SDK uploaded the source directory to its default bucket and passed it in script mode.
    source = f"s3://{sdk.bucket}/{job}/source/sourcedir.tar.gz"
    assert json.loads(description["HyperParameters"]["sagemaker_submit_directory"]) == source
    with tarfile.open(fileobj=io.BytesIO(sdk.s3_object(source))) as archive:
        assert "train.py" in archive.getnames()

    # The model the script wrote is where the SDK says it is.
    assert estimator.model_data == f"s3://{sdk.bucket}/{job}/output/model.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(sdk.s3_object(estimator.model_data))) as archive:
        model = json.load(archive.extractfile("model.json"))
    assert model == {"rows": 3, "epochs": 2, "program": "train.py"}

    # The SDK streamed the job's log from CloudWatch Logs and printed its status and billing.
    assert "read 3 rows" in printed
    assert "epoch=1 train_loss=0.5000" in printed
    assert "Completed - Training job completed" in printed
    assert "Billable seconds:" in printed

    metrics = {item["MetricName"]: item["Value"] for item in description["FinalMetricDataList"]}
    assert metrics == {"train:loss": 0.5}


def test_sklearn_estimator_fit_of_a_failing_script_raises_with_the_reason(sdk):
    from sagemaker.exceptions import UnexpectedStatusException

    estimator = _sklearn(sdk, sdk.source_dir("failing-src", {"train.py": FAILING_TRAIN}))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), pytest.raises(UnexpectedStatusException) as raised:
        estimator.fit({"train": f"s3://{sdk.bucket}/datasets/train"}, wait=True, logs=True)
    assert "learning rate must be positive" in str(raised.value)
    assert raised.value.actual_status == "Failed"
    assert "checking the hyperparameters" in printed.getvalue()


def test_sklearn_estimator_attaches_to_a_finished_job(sdk, fitted):
    from sagemaker.sklearn.estimator import SKLearn

    estimator, _ = fitted
    attached = SKLearn.attach(estimator.latest_training_job.name, sagemaker_session=sdk.session)
    assert attached.model_data == estimator.model_data
    assert attached.entry_point == "train.py"
    assert attached.framework_version == "1.2-1"


def test_sklearn_processor_run_writes_outputs_to_s3(sdk):
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.sklearn.processing import SKLearnProcessor

    processor = SKLearnProcessor(
        framework_version="1.2-1",
        role=sdk.role,
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=sdk.session,
    )
    code = Path(sdk.source_dir("processing-src", {"preprocess.py": PREPROCESS})) / "preprocess.py"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        processor.run(
            code=str(code),
            inputs=[ProcessingInput(source=f"s3://{sdk.bucket}/datasets/raw", destination="/opt/ml/processing/input/raw")],
            outputs=[ProcessingOutput(output_name="features", source="/opt/ml/processing/output/features")],
            wait=True,
            logs=True,
        )
    description = processor.latest_job.describe()
    job = description["ProcessingJobName"]
    assert description["ProcessingJobStatus"] == "Completed"
    assert description["AppSpecification"]["ContainerEntrypoint"] == ["python3", "/opt/ml/processing/input/code/preprocess.py"]

    destination = processor.latest_job.outputs[0].destination
    assert destination == f"s3://{sdk.bucket}/{job}/output/features"
    assert sdk.s3_object(f"{destination}/rows.csv") == b"A,B\nC,D\n"
    assert "preprocessed 2 lines" in printed.getvalue()
