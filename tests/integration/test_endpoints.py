"""Endpoints through boto3: create, describe, list, wait, update (blue/green, weights and
capacity, rollback), delete, failures, capacity, and recovery after a server restart."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, WaiterError

from shipyard.testing import RunningServer, start_server
from shipyard.testing.hosting import (
    create_model,
    delete_endpoint,
    deploy,
    model_server_log,
    model_tar,
    script_model,
    upload,
    variant,
    wait_for_endpoint,
    xgboost_model,
)
from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import SKLEARN_IMAGE, sagemaker_role, sourcedir_tar

ROW = "0.5,1.0,-0.3,2.0"

FAILING_LOAD = """
def model_fn(model_dir):
    raise RuntimeError("the weights are corrupt")
"""


@pytest.fixture(scope="module")
def hosting(sqlite_server: RunningServer) -> dict[str, str]:
    """A bucket, a role, and two XGBoost models (different seeds) ready to deploy."""
    sagemaker = sqlite_server.client("sagemaker")
    bucket = unique_name("endpoints")
    sqlite_server.client("s3").create_bucket(Bucket=bucket)
    role = sagemaker_role(sqlite_server)
    names = {"bucket": bucket, "role": role}
    for label, seed in (("first", 0), ("second", 1)):
        archive, _ = xgboost_model(seed=seed, rounds=3 + seed)
        url = upload(sqlite_server, bucket, f"{label}/model.tar.gz", archive)
        names[label] = unique_name(label)
        create_model(sagemaker, names[label], role, url)
    broken = upload(sqlite_server, bucket, "broken/model.tar.gz", script_model({"inference.py": FAILING_LOAD}))
    names["broken"] = unique_name("broken")
    create_model(sagemaker, names["broken"], role, broken, image=SKLEARN_IMAGE)
    return names


def invoke(server: RunningServer, endpoint: str, **extra: object) -> dict:
    runtime = server.client("sagemaker-runtime")
    return runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=ROW, **extra)


def test_endpoint_lifecycle_through_the_waiters(sqlite_server: RunningServer, hosting: dict[str, str]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    name = unique_name("life")
    config = deploy(sagemaker, name, [variant("AllTraffic", hosting["first"])], wait=False)
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Creating"
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointConfigName"] == config
    assert described["EndpointArn"].endswith(f":endpoint/{name.lower()}")
    (summary,) = described["ProductionVariants"]
    assert summary["VariantName"] == "AllTraffic"
    assert (summary["CurrentWeight"], summary["DesiredWeight"]) == (1.0, 1.0)
    assert (summary["CurrentInstanceCount"], summary["DesiredInstanceCount"]) == (1, 1)
    assert summary["DeployedImages"][0]["SpecifiedImage"].endswith("sagemaker-xgboost:1.7-1")
    assert "FailureReason" not in described

    listed = sagemaker.list_endpoints(NameContains=name)["Endpoints"]
    assert [(item["EndpointName"], item["EndpointStatus"]) for item in listed] == [(name, "InService")]
    answer = invoke(sqlite_server, name)
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert 0.0 <= float(answer["Body"].read()) <= 1.0
    assert any("passed its health check" in line for line in model_server_log(sqlite_server, name))
    printed = subprocess.run(
        [sys.executable, "-m", "shipyard", "logs", name, "--kind", "endpoint", "--json"],
        env=sqlite_server.client_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = [json.loads(line) for line in printed.stdout.splitlines()]
    assert {record["host"].split("/")[0] for record in records} == {"AllTraffic"}
    assert any("passed its health check" in record["message"] for record in records)

    delete_endpoint(sagemaker, name)
    with pytest.raises(ClientError) as gone:
        sagemaker.describe_endpoint(EndpointName=name)
    assert gone.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not find endpoint" in gone.value.response["Error"]["Message"]


def test_a_model_that_cannot_load_fails_the_endpoint_with_its_error(
    sqlite_server: RunningServer, hosting: dict[str, str]
) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    name = unique_name("broken")
    deploy(sagemaker, name, [variant("AllTraffic", hosting["broken"])], wait=False)
    with pytest.raises(WaiterError):
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "Failed"
    assert "the weights are corrupt" in described["FailureReason"]
    with pytest.raises(ClientError) as refused:
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=described["EndpointConfigName"])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    delete_endpoint(sagemaker, name)


def test_create_errors(sqlite_server: RunningServer, hosting: dict[str, str]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    with pytest.raises(ClientError) as missing:
        sagemaker.create_endpoint(EndpointName=unique_name("none"), EndpointConfigName="no-such-config")
    assert missing.value.response["Error"]["Code"] == "ValidationException"
    assert 'Could not find endpoint configuration "arn:aws:sagemaker:' in missing.value.response["Error"]["Message"]

    name = unique_name("dup")
    config = deploy(sagemaker, name, [variant("AllTraffic", hosting["first"])], wait=False)
    with pytest.raises(ClientError) as duplicate:
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    assert duplicate.value.response["Error"]["Code"] == "ValidationException"
    assert "Cannot create already existing endpoint" in duplicate.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as busy:
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=config)
    assert busy.value.response["Error"]["Code"] == "ValidationException"
    assert "Cannot update in-progress endpoint" in busy.value.response["Error"]["Message"]
    wait_for_endpoint(sagemaker, name)
    with pytest.raises(ClientError) as unknown_variant:
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=name, DesiredWeightsAndCapacities=[{"VariantName": "Nope", "DesiredWeight": 2.0}]
        )
    assert unknown_variant.value.response["Error"]["Code"] == "ValidationException"
    assert "Nope" in unknown_variant.value.response["Error"]["Message"]
    delete_endpoint(sagemaker, name)
    for call, kwargs in (
        (sagemaker.describe_endpoint, {}),
        (sagemaker.delete_endpoint, {}),
        (sagemaker.update_endpoint, {"EndpointConfigName": config}),
    ):
        with pytest.raises(ClientError) as absent:
            call(EndpointName=name, **kwargs)
        assert absent.value.response["Error"]["Code"] == "ValidationException"
        assert "Could not find endpoint" in absent.value.response["Error"]["Message"]


def test_weights_and_capacities_scale_an_endpoint(sqlite_server: RunningServer, hosting: dict[str, str]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    name = unique_name("scale")
    deploy(sagemaker, name, [variant("A", hosting["first"]), variant("B", hosting["second"])])
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredInstanceCount": 2}, {"VariantName": "B", "DesiredWeight": 0.0}],
    )
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Updating"
    described = wait_for_endpoint(sagemaker, name)
    assert described["EndpointStatus"] == "InService"
    counts = {v["VariantName"]: (v["CurrentInstanceCount"], v["CurrentWeight"]) for v in described["ProductionVariants"]}
    assert counts == {"A": (2, 1.0), "B": (1, 0.0)}
    seen = {invoke(sqlite_server, name)["InvokedProductionVariant"] for _ in range(20)}
    assert seen == {"A"}
    streams = {line for line in model_server_log(sqlite_server, name) if "passed its health check" in line}
    assert len(streams) == 3
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name, DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredInstanceCount": 1}]
    )
    described = wait_for_endpoint(sagemaker, name)
    assert {v["VariantName"]: v["CurrentInstanceCount"] for v in described["ProductionVariants"]} == {"A": 1, "B": 1}
    delete_endpoint(sagemaker, name)


def test_update_switches_configs_with_no_failed_call(sqlite_server: RunningServer, hosting: dict[str, str]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    name = unique_name("bluegreen")
    old = deploy(sagemaker, name, [variant("Old", hosting["first"])])
    before = invoke(sqlite_server, name)["Body"].read()
    new = f"{name}-next"
    sagemaker.create_endpoint_config(EndpointConfigName=new, ProductionVariants=[variant("New", hosting["second"])])

    results: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            try:
                results.append(invoke(sqlite_server, name)["InvokedProductionVariant"])
            except Exception as error:  # noqa: BLE001 - every failure is what the test counts
                failures.append(error)

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        time.sleep(0.3)
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=new)
        pending = sagemaker.describe_endpoint(EndpointName=name)
        assert pending["EndpointStatus"] == "Updating"
        assert pending["EndpointConfigName"] == old
        assert pending["PendingDeploymentSummary"]["EndpointConfigName"] == new
        described = wait_for_endpoint(sagemaker, name)
        time.sleep(3)  # past the old instance's drain and stop
    finally:
        stop.set()
        worker.join()
    assert failures == []
    assert described["EndpointConfigName"] == new
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["New"]
    assert results[0] == "Old" and results[-1] == "New"
    assert results == sorted(results, key=lambda variant_name: variant_name == "New")  # one switch, never back
    assert invoke(sqlite_server, name)["Body"].read() != before
    delete_endpoint(sagemaker, name)


def test_a_failed_update_rolls_back_to_the_serving_config(sqlite_server: RunningServer, hosting: dict[str, str]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    name = unique_name("rollback")
    old = deploy(sagemaker, name, [variant("AllTraffic", hosting["first"])])
    bad = f"{name}-bad"
    sagemaker.create_endpoint_config(EndpointConfigName=bad, ProductionVariants=[variant("AllTraffic", hosting["broken"])])
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=bad)
    described = wait_for_endpoint(sagemaker, name)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == old
    assert "rolled back" in described["FailureReason"] and "the weights are corrupt" in described["FailureReason"]
    assert "PendingDeploymentSummary" not in described
    assert invoke(sqlite_server, name)["InvokedProductionVariant"] == "AllTraffic"
    delete_endpoint(sagemaker, name)


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server with room for two ml.t2.medium instances only."""
    with start_server(tmp_path, extra_env={"SHIPYARD_CPUS": "4", "SHIPYARD_MEMORY": "16384"}) as server:
        yield server


def test_endpoints_take_capacity(small_server: RunningServer) -> None:
    sagemaker = small_server.client("sagemaker")
    bucket = unique_name("capacity")
    small_server.client("s3").create_bucket(Bucket=bucket)
    role = sagemaker_role(small_server)
    archive, _ = xgboost_model()
    create_model(sagemaker, "model", role, upload(small_server, bucket, "model.tar.gz", archive))
    with pytest.raises(ClientError) as never:
        deploy(sagemaker, "huge", [variant("AllTraffic", "model", count=3)], wait=False)
    assert never.value.response["Error"]["Code"] == "ResourceLimitExceeded"
    with pytest.raises(ClientError) as together:
        deploy(sagemaker, "pair", [variant("A", "model", count=2), variant("B", "model")], wait=False)
    assert together.value.response["Error"]["Code"] == "ResourceLimitExceeded"
    assert "together" in together.value.response["Error"]["Message"]

    deploy(sagemaker, "first", [variant("AllTraffic", "model", count=2)])
    deploy(sagemaker, "second", [variant("AllTraffic", "model")], wait=False)
    described = wait_for_endpoint(sagemaker, "second")
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"].startswith("InsufficientCapacity")
    assert "0 vCPUs" in described["FailureReason"]
    delete_endpoint(sagemaker, "first")
    delete_endpoint(sagemaker, "second")
    deploy(sagemaker, "third", [variant("AllTraffic", "model", count=2)])
    assert sagemaker.describe_endpoint(EndpointName="third")["EndpointStatus"] == "InService"


@pytest.mark.parametrize("kill", [True, False], ids=["kill-9", "graceful"])
def test_endpoints_serve_again_after_a_server_restart(tmp_path: Path, kill: bool) -> None:
    with start_server(tmp_path) as server:
        sagemaker = server.client("sagemaker")
        bucket = unique_name("restart")
        server.client("s3").create_bucket(Bucket=bucket)
        role = sagemaker_role(server)
        archive, _ = xgboost_model()
        create_model(sagemaker, "model", role, upload(server, bucket, "model.tar.gz", archive))
        deploy(sagemaker, "survivor", [variant("AllTraffic", "model")])
        before = invoke(server, "survivor")["Body"].read()
        server.restart(kill=kill)
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = invoke(server, "survivor")
                break
            except ClientError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert answer["Body"].read() == before
        assert server.client("sagemaker").describe_endpoint(EndpointName="survivor")["EndpointStatus"] == "InService"


def test_a_model_archive_without_the_model_file_fails(sqlite_server: RunningServer, hosting: dict[str, str]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    empty = upload(sqlite_server, hosting["bucket"], "empty/model.tar.gz", model_tar({"README": b"no model here"}))
    model = unique_name("empty")
    create_model(sagemaker, model, hosting["role"], empty)
    name = unique_name("empty")
    deploy(sagemaker, name, [variant("AllTraffic", model)])
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "Failed"
    assert "xgboost" in described["FailureReason"].lower()
    delete_endpoint(sagemaker, name)


SKLEARN_INFERENCE = """
import joblib
import numpy as np

def model_fn(model_dir):
    return joblib.load(f"{model_dir}/model.joblib")

def predict_fn(data, model):
    data = np.atleast_2d(data)
    if np.isnan(data).any():
        raise ValueError("missing values are not allowed: impute them first")
    return model.predict_proba(data)[:, 1]
"""


def test_a_script_mode_scikit_learn_model_predicts_and_reports_its_errors(
    sqlite_server: RunningServer, hosting: dict[str, str], tmp_path: Path
) -> None:
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    features = rng.normal(size=(120, 4))
    classifier = LogisticRegression().fit(features, (features[:, 0] - features[:, 2] > 0).astype(int))
    joblib.dump(classifier, tmp_path / "model.joblib")
    archive = model_tar({"model.joblib": (tmp_path / "model.joblib").read_bytes()})
    bucket = hosting["bucket"]
    model_url = upload(sqlite_server, bucket, "sklearn/model.tar.gz", archive)
    code_url = upload(sqlite_server, bucket, "sklearn/sourcedir.tar.gz", sourcedir_tar({"inference.py": SKLEARN_INFERENCE}))
    sagemaker = sqlite_server.client("sagemaker")
    model = unique_name("sklearn")
    environment = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": code_url}
    create_model(sagemaker, model, hosting["role"], model_url, image=SKLEARN_IMAGE, Environment=environment)
    name = unique_name("sklearn")
    deploy(sagemaker, name, [variant("AllTraffic", model)])
    rows = features[:3]
    body = "\n".join(",".join(repr(float(value)) for value in row) for row in rows)
    runtime = sqlite_server.client("sagemaker-runtime")
    answer = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Accept="application/json", Body=body)
    assert answer["ContentType"] == "application/json"
    assert np.allclose(json.loads(answer["Body"].read()), classifier.predict_proba(rows)[:, 1])

    with pytest.raises(runtime.exceptions.ModelError) as refused:
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1.0,nan,0.5,0.1")
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 500
    assert "missing values are not allowed" in error["OriginalMessage"]
    assert error["LogStreamArn"].endswith(f":log-group:/aws/sagemaker/Endpoints/{name}:log-stream:AllTraffic/" + error["LogStreamArn"].rsplit("/", 1)[-1])
    logged = model_server_log(sqlite_server, name, until="missing values are not allowed")
    assert any("missing values are not allowed" in line for line in logged)
    delete_endpoint(sagemaker, name)


def test_a_serverless_variant_serves(sqlite_server: RunningServer, hosting: dict[str, str]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    name = unique_name("serverless")
    serverless = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    deploy(sagemaker, name, [{"VariantName": "AllTraffic", "ModelName": hosting["first"], "ServerlessConfig": serverless}])
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "InService"
    (summary,) = described["ProductionVariants"]
    assert summary["CurrentServerlessConfig"] == serverless
    assert summary["DesiredServerlessConfig"] == serverless
    assert invoke(sqlite_server, name)["InvokedProductionVariant"] == "AllTraffic"
    delete_endpoint(sagemaker, name)


def test_an_endpoint_on_postgresql_metadata(postgresql_server: RunningServer) -> None:
    sagemaker = postgresql_server.client("sagemaker")
    bucket = unique_name("postgres")
    postgresql_server.client("s3").create_bucket(Bucket=bucket)
    archive, _ = xgboost_model()
    model = unique_name("model")
    create_model(sagemaker, model, sagemaker_role(postgresql_server), upload(postgresql_server, bucket, "model.tar.gz", archive))
    name = unique_name("postgres")
    deploy(sagemaker, name, [variant("A", model), variant("B", model, weight=0.0)])
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name, DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredWeight": 0.0}, {"VariantName": "B", "DesiredWeight": 1.0}]
    )
    assert wait_for_endpoint(sagemaker, name)["EndpointStatus"] == "InService"
    assert invoke(postgresql_server, name)["InvokedProductionVariant"] == "B"
    delete_endpoint(sagemaker, name)
