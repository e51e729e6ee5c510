"""Batch transform through boto3: a built-in XGBoost model and a script-mode model over CSV
and JSON lines, batching, concurrency, gzip and manifest inputs, DataProcessing, failures,
stop, logs, and the API's errors."""

from __future__ import annotations

import gzip
import io
import json
import time
import uuid
from typing import Any

import joblib
import numpy as np
import pytest
import xgboost
from botocore.exceptions import ClientError
from sklearn.linear_model import LogisticRegression

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.hosting import create_model, script_model, upload, xgboost_model
from shipyard.testing.jobs import SKLEARN_IMAGE, log_messages, wait_for_job

GROUP = "/aws/sagemaker/TransformJobs"
FEATURES = 32
#: Every job of this module has it in its name (ListTransformJobs is checked with it).
TOKEN = f"tfm{uuid.uuid4().hex[:6]}"

INFERENCE = """
import io
import os
import time

import joblib
import numpy as np

def model_fn(model_dir):
    assert os.environ["SAGEMAKER_BATCH"] == "true"
    return joblib.load(f"{model_dir}/model.joblib")

def input_fn(body, content_type):
    return np.atleast_2d(np.loadtxt(io.StringIO(body), delimiter=","))

def predict_fn(data, model):
    time.sleep(float(os.environ.get("DELAY", "0")))
    if (data[:, 0] == -999).any():
        raise ValueError("the sentinel -999 is not a feature value")
    return model.predict_proba(data)[:, 1] * float(os.environ["SCALE"]) + float(os.environ["OFFSET"])

def output_fn(prediction, accept):
    return "".join(f"{value:.10f}\\n" for value in prediction), "text/csv"
"""


def job_name(label: str) -> str:
    return f"{TOKEN}-{label}-{uuid.uuid4().hex[:4]}"


def csv_lines(rows: np.ndarray) -> list[str]:
    return [",".join(f"{value:.8g}" for value in row) for row in rows]


def as_float32(lines: list[str]) -> np.ndarray:
    """The feature rows as the model server reads them."""
    return np.array([line.split(",") for line in lines], dtype=np.float32)


def transform_request(name: str, model: str, source: str, output: str, **extra: Any) -> dict[str, Any]:
    """CreateTransformJob's parameters, as the SageMaker SDK's Transformer sends them."""
    given = extra.pop("TransformInput", {})
    data_type = given.pop("S3DataType", "S3Prefix")
    return {
        "TransformJobName": name,
        "ModelName": model,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": data_type, "S3Uri": source}},
            "ContentType": "text/csv",
            "SplitType": "Line",
            **given,
        },
        "TransformOutput": {"S3OutputPath": output, "AssembleWith": "Line", **extra.pop("TransformOutput", {})},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        **extra,
    }


def run_job(sagemaker: Any, request: dict[str, Any]) -> dict[str, Any]:
    sagemaker.create_transform_job(**request)
    return wait_for_job(sagemaker, request["TransformJobName"], kind="transform", timeout=240)


def read_text(s3: Any, uri: str) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def scores(text: str) -> np.ndarray:
    return np.array(text.splitlines(), dtype=np.float64)


@pytest.fixture(scope="module")
def sagemaker(sqlite_server: RunningServer) -> Any:
    return sqlite_server.client("sagemaker")


@pytest.fixture(scope="module")
def s3(sqlite_server: RunningServer) -> Any:
    return sqlite_server.client("s3")


@pytest.fixture(scope="module")
def xgb(sqlite_server: RunningServer, sagemaker: Any, algorithm_bucket: str, algorithm_role: str) -> tuple[str, Any]:
    """A built-in XGBoost model over FEATURES features: its name and its booster."""
    archive, booster = xgboost_model(features=FEATURES, rounds=8)
    name = job_name("xgb-model")
    create_model(sagemaker, name, algorithm_role, upload(sqlite_server, algorithm_bucket, f"{name}/model.tar.gz", archive))
    return name, booster


@pytest.fixture(scope="module")
def script(sqlite_server: RunningServer, sagemaker: Any, algorithm_bucket: str, algorithm_role: str) -> tuple[str, Any]:
    """A scikit-learn model in script mode (inference.py): its name and the estimator."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 4))
    estimator = LogisticRegression().fit(x, (x[:, 0] - x[:, 2] > 0).astype(int))
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    archive = script_model({"inference.py": INFERENCE}, {"model.joblib": buffer.getvalue()})
    name = job_name("sk-model")
    url = upload(sqlite_server, algorithm_bucket, f"{name}/model.tar.gz", archive)
    create_model(sagemaker, name, algorithm_role, url, image=SKLEARN_IMAGE, Environment={"OFFSET": "10"})
    return name, estimator


@pytest.fixture(scope="module")
def multi_record(sqlite_server, sagemaker, s3, algorithm_bucket, xgb) -> dict[str, Any]:
    """10,000 CSV lines in three objects through two instances, MultiRecord in 1 MB
    requests, four at a time: the job's description, inputs and output prefix."""
    rows = np.random.default_rng(7).normal(size=(10_000, FEATURES))
    lines = csv_lines(rows)
    name = job_name("multi")
    parts = {"part-a.csv": lines[:5000], "part-b.csv": lines[5000:8000], "sub/part-c.csv": lines[8000:]}
    for key, part in parts.items():
        upload(sqlite_server, algorithm_bucket, f"{name}/input/{key}", ("\n".join(part) + "\n").encode())
    output = f"s3://{algorithm_bucket}/{name}/output"
    request = transform_request(
        name,
        xgb[0],
        f"s3://{algorithm_bucket}/{name}/input/",
        output,
        BatchStrategy="MultiRecord",
        MaxPayloadInMB=1,
        MaxConcurrentTransforms=4,
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 2},
        Environment={"LOG_LEVEL": "info"},
        Tags=[{"Key": "team", "Value": "scoring"}],
    )
    return {"job": run_job(sagemaker, request), "parts": parts, "output": output}


@pytest.fixture(scope="module")
def single_record(sqlite_server, sagemaker, algorithm_bucket, xgb) -> dict[str, Any]:
    """1,000 gzipped CSV lines named by a manifest, SingleRecord, four at a time."""
    lines = csv_lines(np.random.default_rng(8).normal(size=(1000, FEATURES)))
    name = job_name("single")
    upload(sqlite_server, algorithm_bucket, f"{name}/data/one.csv.gz", gzip.compress(("\n".join(lines) + "\n").encode()))
    manifest = json.dumps([{"prefix": f"s3://{algorithm_bucket}/{name}/data/"}, "one.csv.gz"]).encode()
    source = upload(sqlite_server, algorithm_bucket, f"{name}/input.manifest", manifest)
    output = f"s3://{algorithm_bucket}/{name}/output/"
    request = transform_request(
        name,
        xgb[0],
        source,
        output,
        TransformInput={"S3DataType": "ManifestFile", "CompressionType": "Gzip"},
        BatchStrategy="SingleRecord",
        MaxConcurrentTransforms=4,
    )
    return {"job": run_job(sagemaker, request), "lines": lines, "output": output}


def test_multi_record_keeps_every_record_in_order(multi_record, s3, xgb) -> None:
    job = multi_record["job"]
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    _, booster = xgb
    for key, lines in multi_record["parts"].items():
        written = scores(read_text(s3, f"{multi_record['output']}/{key}.out"))
        expected = booster.predict(xgboost.DMatrix(as_float32(lines)))
        assert len(written) == len(lines)
        np.testing.assert_allclose(written, expected, rtol=1e-6)


def test_describe_echoes_the_request_with_defaults(multi_record, sagemaker, xgb) -> None:
    job = multi_record["job"]
    assert job["TransformJobArn"].endswith(f":transform-job/{job['TransformJobName'].lower()}")
    assert job["ModelName"] == xgb[0]
    assert (job["BatchStrategy"], job["MaxPayloadInMB"], job["MaxConcurrentTransforms"]) == ("MultiRecord", 1, 4)
    assert job["TransformInput"]["CompressionType"] == "None" and job["TransformInput"]["SplitType"] == "Line"
    assert job["TransformOutput"]["AssembleWith"] == "Line"
    assert job["TransformResources"] == {"InstanceType": "ml.m5.large", "InstanceCount": 2}
    assert job["DataProcessing"] == {"InputFilter": "$", "OutputFilter": "$", "JoinSource": "None"}
    assert job["Environment"] == {"LOG_LEVEL": "info"}
    assert job["CreationTime"] <= job["TransformStartTime"] <= job["TransformEndTime"]
    assert "FailureReason" not in job
    assert sagemaker.list_tags(ResourceArn=job["TransformJobArn"])["Tags"] == [{"Key": "team", "Value": "scoring"}]


def test_each_instance_logs_its_objects_and_the_model_server(multi_record, sqlite_server) -> None:
    name = multi_record["job"]["TransformJobName"]
    logs = sqlite_server.client("logs")
    streams = [stream["logStreamName"] for stream in logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=f"{name}/")["logStreams"]]
    assert sorted(stream.rsplit("-", 1)[0] for stream in streams) == [f"{name}/algo-1", f"{name}/algo-2"]
    messages = log_messages(sqlite_server, name, group=GROUP)
    transformed = sorted(message.split()[2] for message in messages if message.startswith("[shipyard] Transformed "))
    output = multi_record["output"]
    assert transformed == sorted(f"{output.rsplit('/', 1)[0]}/input/{key}" for key in multi_record["parts"])
    assert any("Listening on http://127.0.0.1:" in message for message in messages)


def test_single_record_gzip_manifest_input(single_record, s3, xgb) -> None:
    job = single_record["job"]
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    written = scores(read_text(s3, f"{single_record['output']}one.csv.gz.out"))
    expected = xgb[1].predict(xgboost.DMatrix(as_float32(single_record["lines"])))
    assert len(written) == 1000
    np.testing.assert_allclose(written, expected, rtol=1e-6)


def test_csv_input_filter_join_and_output_filter(sqlite_server, sagemaker, s3, algorithm_bucket, xgb) -> None:
    rows = np.random.default_rng(9).normal(size=(300, FEATURES))
    lines = csv_lines(rows)
    name = job_name("csvjoin")
    body = "".join(f"id-{index},{line}\n" for index, line in enumerate(lines))
    source = upload(sqlite_server, algorithm_bucket, f"{name}/rows.csv", body.encode())
    job = run_job(
        sagemaker,
        transform_request(
            name,
            xgb[0],
            source,
            f"s3://{algorithm_bucket}/{name}/out",
            DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
        ),
    )
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert job["DataProcessing"] == {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}
    written = [line.split(",") for line in read_text(s3, f"s3://{algorithm_bucket}/{name}/out/rows.csv.out").splitlines()]
    assert [row[0] for row in written] == [f"id-{index}" for index in range(300)]
    assert {len(row) for row in written} == {2}
    expected = xgb[1].predict(xgboost.DMatrix(as_float32(lines)))
    np.testing.assert_allclose(np.array([row[1] for row in written], dtype=np.float64), expected, rtol=1e-6)


def test_json_lines_input_filter_join_and_output_filter(sqlite_server, sagemaker, s3, algorithm_bucket, xgb) -> None:
    rows = np.random.default_rng(10).normal(size=(200, FEATURES)).astype(np.float32)
    name = job_name("jsonjoin")
    body = "".join(json.dumps({"id": index, "features": row.tolist(), "note": "x"}) + "\n" for index, row in enumerate(rows))
    source = upload(sqlite_server, algorithm_bucket, f"{name}/rows.jsonl", body.encode())
    job = run_job(
        sagemaker,
        transform_request(
            name,
            xgb[0],
            source,
            f"s3://{algorithm_bucket}/{name}/out",
            TransformInput={"ContentType": "application/jsonlines"},
            TransformOutput={"Accept": "application/jsonlines"},
            DataProcessing={"InputFilter": "$.features", "JoinSource": "Input", "OutputFilter": "$['id','SageMakerOutput']"},
        ),
    )
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    written = [json.loads(line) for line in read_text(s3, f"s3://{algorithm_bucket}/{name}/out/rows.jsonl.out").splitlines()]
    assert [sorted(record) for record in written] == [["SageMakerOutput", "id"]] * 200
    assert [record["id"] for record in written] == list(range(200))
    expected = xgb[1].predict(xgboost.DMatrix(rows))
    np.testing.assert_allclose([record["SageMakerOutput"] for record in written], expected, rtol=1e-6)


def test_a_script_mode_model_gets_the_model_and_job_environment(sqlite_server, sagemaker, s3, algorithm_bucket, script) -> None:
    rows = np.random.default_rng(11).normal(size=(120, 4))
    name = job_name("script")
    source = upload(sqlite_server, algorithm_bucket, f"{name}/in/rows.csv", ("\n".join(csv_lines(rows)) + "\n").encode())
    job = run_job(
        sagemaker,
        transform_request(
            name, script[0], source, f"s3://{algorithm_bucket}/{name}/out", Environment={"SCALE": "2"}, MaxPayloadInMB=1
        ),
    )
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    written = scores(read_text(s3, f"s3://{algorithm_bucket}/{name}/out/rows.csv.out"))
    expected = script[1].predict_proba(as_float32(csv_lines(rows)).astype(np.float64))[:, 1] * 2 + 10
    np.testing.assert_allclose(written, expected, atol=1e-6)


def test_a_record_the_model_refuses_fails_the_job_with_its_message(sqlite_server, sagemaker, s3, algorithm_bucket, script) -> None:
    name = job_name("refused")
    upload(sqlite_server, algorithm_bucket, f"{name}/in/a-good.csv", b"0.1,0.2,0.3,0.4\n0.5,0.6,0.7,0.8\n")
    upload(sqlite_server, algorithm_bucket, f"{name}/in/b-bad.csv", b"0.1,0.2,0.3,0.4\n-999,0,0,0\n")
    job = run_job(
        sagemaker,
        transform_request(
            name,
            script[0],
            f"s3://{algorithm_bucket}/{name}/in/",
            f"s3://{algorithm_bucket}/{name}/out",
            Environment={"SCALE": "1"},
            BatchStrategy="SingleRecord",
            ModelClientConfig={"InvocationsTimeoutInSeconds": 30, "InvocationsMaxRetries": 0},
        ),
    )
    assert job["TransformJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith(f"ClientError: s3://{algorithm_bucket}/{name}/in/b-bad.csv: the model answered 500 to record 2")
    assert "the sentinel -999 is not a feature value" in reason
    assert job["ModelClientConfig"] == {"InvocationsTimeoutInSeconds": 30, "InvocationsMaxRetries": 0}
    listed = s3.list_objects_v2(Bucket=algorithm_bucket, Prefix=f"{name}/out/").get("Contents", [])
    assert [item["Key"] for item in listed] == [f"{name}/out/a-good.csv.out"]
    assert any("ValueError: the sentinel -999" in message for message in log_messages(sqlite_server, name, group=GROUP))


def test_a_model_that_cannot_load_fails_the_job(sqlite_server, sagemaker, algorithm_bucket, algorithm_role) -> None:
    model = job_name("broken-model")
    url = upload(sqlite_server, algorithm_bucket, f"{model}/model.tar.gz", script_model({"inference.py": "import no_such_module\n"}))
    create_model(sagemaker, model, algorithm_role, url, image=SKLEARN_IMAGE)
    name = job_name("noload")
    source = upload(sqlite_server, algorithm_bucket, f"{name}/rows.csv", b"1,2\n")
    job = run_job(sagemaker, transform_request(name, model, source, f"s3://{algorithm_bucket}/{name}/out"))
    assert job["TransformJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: The model server did not start")
    assert "no_such_module" in job["FailureReason"]


def test_stop_a_transform_job(sqlite_server, sagemaker, s3, algorithm_bucket, script) -> None:
    name = job_name("halt")
    source = upload(sqlite_server, algorithm_bucket, f"{name}/rows.csv", b"0.1,0.2,0.3,0.4\n")
    request = transform_request(name, script[0], source, f"s3://{algorithm_bucket}/{name}/out", Environment={"SCALE": "1", "DELAY": "60"})
    sagemaker.create_transform_job(**request)
    wait_for_log(sqlite_server, name, "Listening on")
    sagemaker.stop_transform_job(TransformJobName=name)
    assert sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in ("Stopping", "Stopped")
    job = wait_for_job(sagemaker, name, kind="transform", timeout=60)
    assert job["TransformJobStatus"] == "Stopped"
    assert "FailureReason" not in job
    assert s3.list_objects_v2(Bucket=algorithm_bucket, Prefix=f"{name}/out").get("KeyCount") == 0
    with pytest.raises(ClientError) as again:
        sagemaker.stop_transform_job(TransformJobName=name)
    assert error_of(again) == ("ValidationException", 400)


def wait_for_log(server: RunningServer, name: str, text: str, timeout: float = 60) -> None:
    """Wait until a line of the job's log holds ``text`` (the log group may not exist yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if any(text in message for message in log_messages(server, name, group=GROUP)):
                return
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        assert time.monotonic() < deadline, f"{name} never logged {text!r}"
        time.sleep(0.2)


def test_list_transform_jobs_filters_sorts_and_pages(sagemaker, multi_record, single_record) -> None:
    names = sorted(fixture["job"]["TransformJobName"] for fixture in (multi_record, single_record))
    found = sagemaker.list_transform_jobs(NameContains=TOKEN, StatusEquals="Completed", SortBy="Name", SortOrder="Ascending")
    listed = [summary["TransformJobName"] for summary in found["TransformJobSummaries"]]
    assert set(names) <= set(listed) and listed == sorted(listed)
    summary = next(item for item in found["TransformJobSummaries"] if item["TransformJobName"] == names[0])
    assert summary["TransformJobStatus"] == "Completed"
    assert summary["CreationTime"] <= summary["TransformEndTime"] <= summary["LastModifiedTime"]
    first = sagemaker.list_transform_jobs(NameContains=TOKEN, MaxResults=1, SortBy="Name")
    second = sagemaker.list_transform_jobs(NameContains=TOKEN, MaxResults=1, SortBy="Name", NextToken=first["NextToken"])
    assert first["TransformJobSummaries"][0]["TransformJobName"] > second["TransformJobSummaries"][0]["TransformJobName"]
    paged = sagemaker.get_paginator("list_transform_jobs").paginate(NameContains=TOKEN, PaginationConfig={"PageSize": 1})
    assert {item["TransformJobName"] for page in paged for item in page["TransformJobSummaries"]} >= set(names)


def refused(sagemaker: Any, request: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        sagemaker.create_transform_job(**request)
    code, status = error_of(raised)
    assert status == 400
    return code, raised.value.response["Error"]["Message"]


def test_create_transform_job_errors(sagemaker, algorithm_bucket, xgb, multi_record) -> None:
    def request(**extra: Any) -> dict[str, Any]:
        source, output = f"s3://{algorithm_bucket}/in/", f"s3://{algorithm_bucket}/out"
        return transform_request(extra.pop("name", job_name("bad")), extra.pop("model", xgb[0]), source, output, **extra)

    code, message = refused(sagemaker, request(model="no-such-model"))
    assert code == "ValidationException" and "Could not find model" in message
    code, message = refused(sagemaker, request(name=multi_record["job"]["TransformJobName"]))
    assert code == "ResourceInUse" and "already exists" in message
    assert refused(sagemaker, request(MaxPayloadInMB=101))[0] == "ValidationException"
    code, message = refused(sagemaker, request(MaxPayloadInMB=30, MaxConcurrentTransforms=4))
    assert code == "ValidationException" and "MaxConcurrentTransforms x MaxPayloadInMB" in message
    code, message = refused(sagemaker, request(TransformInput={"SplitType": "RecordIO"}))
    assert code == "ValidationException" and "RecordIO" in message
    assert refused(sagemaker, request(TransformInput={"SplitType": "Paragraph"}))[0] == "ValidationException"
    assert refused(sagemaker, request(TransformInput={"S3DataType": "AugmentedManifestFile"}))[0] == "ValidationException"
    code, message = refused(sagemaker, request(DataProcessing={"InputFilter": "$[1:"}))
    assert code == "ValidationException" and "InputFilter" in message
    assert refused(sagemaker, request(DataProcessing={"JoinSource": "Output"}))[0] == "ValidationException"
    assert refused(sagemaker, request(TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 50}))[0] == "ResourceLimitExceeded"
    assert refused(sagemaker, request(TransformResources={"InstanceType": "ml.x9.huge", "InstanceCount": 1}))[0] == "ValidationException"
    code, message = refused(sagemaker, request(TransformOutput={"S3OutputPath": "https://example.com/out"}))
    assert code == "ValidationException" and "S3OutputPath" in message
    code, message = refused(sagemaker, request(DataCaptureConfig={"DestinationS3Uri": f"s3://{algorithm_bucket}/capture"}))
    assert code == "ValidationException" and "DataCaptureConfig" in message


def test_a_model_without_an_execution_role_cannot_transform(sagemaker, algorithm_bucket) -> None:
    model = job_name("roleless")
    local_code = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "file:///nonexistent/code"}
    sagemaker.create_model(ModelName=model, PrimaryContainer={"Image": SKLEARN_IMAGE, "Environment": local_code})
    request = transform_request(job_name("roleless"), model, f"s3://{algorithm_bucket}/in/", f"s3://{algorithm_bucket}/out")
    code, message = refused(sagemaker, request)
    assert code == "ValidationException" and "ExecutionRoleArn" in message


def test_describe_and_stop_of_a_missing_job(sagemaker) -> None:
    for call in (sagemaker.describe_transform_job, sagemaker.stop_transform_job):
        with pytest.raises(ClientError) as missing:
            call(TransformJobName="no-such-transform-job")
        assert error_of(missing) == ("ValidationException", 400)
        assert "Could not find" in missing.value.response["Error"]["Message"]
