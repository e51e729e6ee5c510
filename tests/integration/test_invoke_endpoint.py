"""InvokeEndpoint through boto3's sagemaker-runtime: predictions, the serving contract's headers,
variant weights and TargetVariant, instances in turn, every error SageMaker Runtime answers,
and the invocation metrics read back through CloudWatch."""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import xgboost
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer, start_server
from shipyard.testing.hosting import (
    create_model,
    deploy,
    script_model,
    upload,
    variant,
    xgboost_model,
)
from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import SKLEARN_IMAGE, sagemaker_role

ROW = "0.5,1.0,-0.3,2.0"

#: A script-mode model that answers what it was sent and which process served it.
ECHO = """
import json
import os


def model_fn(model_dir):
    return "echo"


def input_fn(body, content_type, context):
    return body.decode() if isinstance(body, bytes) else body


def predict_fn(data, model, context):
    if data.startswith("raise"):
        raise ValueError("the model cannot take " + data)
    context.set_response_header(0, "X-Amzn-SageMaker-Custom-Attributes", "echo=" + context.custom_attributes)
    return {
        "pid": os.getpid(),
        "size": len(data),
        "content_type": context.get_request_header(0, "content-type"),
        "accept": context.get_request_header(0, "accept"),
        "inference_id": context.get_request_header(0, "x-amzn-sagemaker-inference-id"),
    }


def output_fn(prediction, accept, context):
    return json.dumps(prediction), "application/json"
"""

FAILING_LOAD = """
def model_fn(model_dir):
    raise RuntimeError("no weights")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own: room for this module's instances, metrics stored every half second."""
    env = {"SHIPYARD_CPUS": "32", "SHIPYARD_MEMORY": "131072", "SHIPYARD_METRICS_FLUSH_SECONDS": "0.5"}
    with start_server(tmp_path_factory.mktemp("invoke"), extra_env=env) as running:
        yield running


@pytest.fixture(scope="module")
def models(server: RunningServer) -> dict[str, Any]:
    """Two XGBoost models (and their boosters), the echo model and one that cannot load."""
    sagemaker = server.client("sagemaker")
    bucket = unique_name("invoke")
    server.client("s3").create_bucket(Bucket=bucket)
    role = sagemaker_role(server)
    found: dict[str, Any] = {}
    for label, seed in (("first", 0), ("second", 1)):
        archive, found[f"{label}-booster"] = xgboost_model(seed=seed)
        found[label] = unique_name(label)
        create_model(sagemaker, found[label], role, upload(server, bucket, f"{label}/model.tar.gz", archive))
    for label, code in (("echo", ECHO), ("broken", FAILING_LOAD)):
        url = upload(server, bucket, f"{label}/model.tar.gz", script_model({"inference.py": code}))
        found[label] = unique_name(label)
        create_model(sagemaker, found[label], role, url, image=SKLEARN_IMAGE)
    return found


@pytest.fixture(scope="module")
def ab(server: RunningServer, models: dict[str, Any]) -> str:
    """Variants A (weight 3) and B (weight 1) of the two XGBoost models, and C of weight 0."""
    name = unique_name("ab")
    deploy(
        server.client("sagemaker"),
        name,
        [
            variant("A", models["first"], weight=3.0),
            variant("B", models["second"], weight=1.0),
            variant("C", models["first"], weight=0.0),
        ],
    )
    return name


@pytest.fixture(scope="module")
def echo(server: RunningServer, models: dict[str, Any]) -> str:
    """The echo model on two instances."""
    name = unique_name("echo")
    deploy(server.client("sagemaker"), name, [variant("AllTraffic", models["echo"], count=2)])
    return name


@pytest.fixture(scope="module")
def runtime(server: RunningServer) -> Any:
    return server.client("sagemaker-runtime")


def invoke_echo(runtime: Any, endpoint: str, body: str = "hello", **extra: Any) -> tuple[dict, dict]:
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/plain", Body=body, **extra)
    return answer, json.loads(answer["Body"].read())


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_prediction_is_the_models(runtime: Any, ab: str, models: dict[str, Any]) -> None:
    answer = runtime.invoke_endpoint(EndpointName=ab, TargetVariant="B", ContentType="text/csv", Body=ROW)
    assert answer["InvokedProductionVariant"] == "B"
    assert answer["ContentType"] == "text/csv"
    expected = models["second-booster"].predict(xgboost.DMatrix(np.array([[float(v) for v in ROW.split(",")]])))
    assert float(answer["Body"].read()) == pytest.approx(float(expected[0]), rel=1e-6)


def test_headers_reach_the_model_and_its_custom_attributes_come_back(runtime: Any, echo: str) -> None:
    answer, seen = invoke_echo(
        runtime, echo, Accept="application/json", CustomAttributes="trace=1", InferenceId="inference-42"
    )
    assert seen["content_type"] == "text/plain"
    assert seen["accept"] == "application/json"
    assert seen["inference_id"] == "inference-42"
    assert answer["CustomAttributes"] == "echo=trace=1"
    assert answer["ContentType"] == "application/json"
    assert answer["InvokedProductionVariant"] == "AllTraffic"


def test_requests_take_the_instances_in_turn(runtime: Any, echo: str) -> None:
    pids = [invoke_echo(runtime, echo)[1]["pid"] for _ in range(6)]
    assert len(set(pids)) == 2
    assert all(a != b for a, b in itertools.pairwise(pids))


def test_weights_3_to_1_split_1000_calls_within_5_percent(runtime: Any, ab: str) -> None:
    counts = Counter(
        runtime.invoke_endpoint(EndpointName=ab, ContentType="text/csv", Body=ROW)["InvokedProductionVariant"]
        for _ in range(1000)
    )
    assert set(counts) <= {"A", "B"}  # C has weight 0: only TargetVariant reaches it
    assert abs(counts["A"] / 1000 - 0.75) <= 0.05, counts


def test_target_variant_forces_a_variant(runtime: Any, ab: str) -> None:
    for target in ("A", "B", "C"):
        answer = runtime.invoke_endpoint(EndpointName=ab, TargetVariant=target, ContentType="text/csv", Body=ROW)
        assert answer["InvokedProductionVariant"] == target
    with pytest.raises(runtime.exceptions.ValidationError) as unknown:
        runtime.invoke_endpoint(EndpointName=ab, TargetVariant="Nope", ContentType="text/csv", Body=ROW)
    code, status, message = error_of(unknown)
    assert (code, status) == ("ValidationError", 400)
    assert "Nope" in message


def test_unknown_endpoint_is_not_found(runtime: Any, server: RunningServer) -> None:
    account = server.client("sts").get_caller_identity()["Account"]
    with pytest.raises(runtime.exceptions.ValidationError) as missing:
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="text/csv", Body=ROW)
    assert error_of(missing) == ("ValidationError", 400, f"Endpoint no-such-endpoint of account {account} not found.")


def test_a_failed_endpoint_is_not_found(runtime: Any, server: RunningServer, models: dict[str, Any]) -> None:
    sagemaker = server.client("sagemaker")
    name = unique_name("failed")
    deploy(sagemaker, name, [variant("AllTraffic", models["broken"])])
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Failed"
    with pytest.raises(runtime.exceptions.ValidationError) as refused:
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROW)
    code, status, message = error_of(refused)
    assert (code, status) == ("ValidationError", 400)
    assert message.startswith(f"Endpoint {name} of account ") and message.endswith(" not found.")


def test_bodies_up_to_6_mb(runtime: Any, echo: str) -> None:
    limit = 6 * 1024 * 1024
    assert invoke_echo(runtime, echo, "x" * limit)[1]["size"] == limit
    with pytest.raises(runtime.exceptions.ValidationError) as oversize:
        invoke_echo(runtime, echo, "x" * (limit + 1))
    code, status, message = error_of(oversize)
    assert (code, status) == ("ValidationError", 400)
    assert message.endswith("has oversize body.")


def test_target_model_needs_a_multi_model_endpoint(runtime: Any, echo: str) -> None:
    with pytest.raises(runtime.exceptions.ValidationError) as refused:
        invoke_echo(runtime, echo, TargetModel="model-a.tar.gz")
    code, status, message = error_of(refused)
    assert (code, status) == ("ValidationError", 400)
    assert message == f"Endpoint {echo} is not a multi-model endpoint and does not support target model header."


def test_a_model_that_raises_is_a_model_error(runtime: Any, server: RunningServer, echo: str) -> None:
    account = server.client("sts").get_caller_identity()["Account"]
    with pytest.raises(runtime.exceptions.ModelError) as failed:
        invoke_echo(runtime, echo, "raise please")
    response = failed.value.response
    assert error_of(failed)[:2] == ("ModelError", 424)
    assert response["OriginalStatusCode"] == 500
    assert "the model cannot take raise please" in response["OriginalMessage"]
    assert response["Error"]["Message"].startswith('Received server error (500) from primary with message "')
    assert "the model cannot take raise please" in response["Error"]["Message"]
    prefix = f"arn:aws:logs:us-east-1:{account}:log-group:/aws/sagemaker/Endpoints/{echo}:log-stream:AllTraffic/"
    assert response["LogStreamArn"].startswith(prefix)


def test_a_request_the_model_refuses_is_a_client_model_error(runtime: Any, ab: str) -> None:
    with pytest.raises(runtime.exceptions.ModelError) as refused:
        runtime.invoke_endpoint(EndpointName=ab, TargetVariant="A", ContentType="application/x-unknown", Body=ROW)
    response = refused.value.response
    assert 400 <= response["OriginalStatusCode"] < 500
    assert response["Error"]["Message"].startswith(f"Received client error ({response['OriginalStatusCode']}) from primary")
    assert ":log-stream:A/" in response["LogStreamArn"]


def test_a_dead_instance_costs_no_failed_call(runtime: Any, echo: str) -> None:
    victim = invoke_echo(runtime, echo)[1]["pid"]
    os.kill(victim, signal.SIGKILL)
    served = [invoke_echo(runtime, echo)[1]["pid"] for _ in range(4)]
    assert victim not in served


def test_no_reachable_instance_is_service_unavailable(
    runtime: Any, server: RunningServer, models: dict[str, Any]
) -> None:
    name = unique_name("solo")
    deploy(server.client("sagemaker"), name, [variant("AllTraffic", models["echo"])])
    os.kill(invoke_echo(runtime, name)[1]["pid"], signal.SIGKILL)
    with pytest.raises(runtime.exceptions.ServiceUnavailable) as unavailable:
        invoke_echo(runtime, name)
    assert error_of(unavailable)[:2] == ("ServiceUnavailable", 503)


def statistics(server: RunningServer, endpoint: str, variant_name: str, metric: str, **extra: Any) -> list[dict]:
    """The last hour of a variant's metric in one period: the five standard statistics, or ``extra``'s."""
    now = datetime.now(UTC)
    return server.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant_name}],
        # One period from an hour ago to an hour ahead: periods start at StartTime rounded down
        # to the minute, so a one-hour window would put the current minute in a second one.
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
        Period=7200,
        **(extra or {"Statistics": ["SampleCount", "Sum", "Average", "Minimum", "Maximum"]}),
    )["Datapoints"]


def eventually(read: Any, check: Any, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if check(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_invocation_metrics_reach_cloudwatch(server: RunningServer, runtime: Any, models: dict[str, Any]) -> None:
    name = unique_name("metered")
    deploy(server.client("sagemaker"), name, [variant("AllTraffic", models["echo"])])
    longest = waited = 0.0
    for body in ("a", "b", "c", "raise"):
        began = time.perf_counter()
        try:
            invoke_echo(runtime, name, body)
        except runtime.exceptions.ModelError:
            pass
        longest = max(longest, time.perf_counter() - began)
        waited += time.perf_counter() - began

    def total(metric: str) -> float:
        points = statistics(server, name, "AllTraffic", metric)
        return sum(point["Sum"] for point in points)

    assert eventually(lambda: total("Invocations"), lambda value: value == 4) == 4
    (invocations,) = statistics(server, name, "AllTraffic", "Invocations")
    assert invocations["Unit"] == "None" and invocations["SampleCount"] == 4
    assert total("Invocation5XXErrors") == 1
    assert total("Invocation4XXErrors") == 0
    assert total("InvocationModelErrors") == 1
    (latency,) = statistics(server, name, "AllTraffic", "ModelLatency")
    assert latency["Unit"] == "Microseconds" and latency["SampleCount"] == 4
    assert 0 < latency["Minimum"] <= latency["Average"] <= latency["Maximum"] < longest * 1e6  # within the client's wait
    (percentiles,) = statistics(server, name, "AllTraffic", "ModelLatency", ExtendedStatistics=["p0", "p50", "p100"])
    assert percentiles["ExtendedStatistics"]["p0"] == latency["Minimum"]
    assert percentiles["ExtendedStatistics"]["p100"] == latency["Maximum"]
    assert latency["Minimum"] <= percentiles["ExtendedStatistics"]["p50"] <= latency["Maximum"]
    (overhead,) = statistics(server, name, "AllTraffic", "OverheadLatency")
    assert overhead["SampleCount"] == 4 and overhead["Minimum"] > 0
    assert latency["Sum"] + overhead["Sum"] < waited * 1e6  # each call's share is within its own wait

    cloudwatch = server.client("cloudwatch")
    listed = cloudwatch.list_metrics(
        Namespace="AWS/SageMaker", Dimensions=[{"Name": "EndpointName", "Value": name}]
    )["Metrics"]
    assert {metric["MetricName"] for metric in listed} == {
        "Invocations",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "InvocationModelErrors",
        "ModelLatency",
        "OverheadLatency",
    }
    assert all(
        metric["Dimensions"] == [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": "AllTraffic"}]
        for metric in listed
    )
    now = datetime.now(UTC)
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "calls",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SageMaker",
                        "MetricName": "Invocations",
                        "Dimensions": [
                            {"Name": "EndpointName", "Value": name},
                            {"Name": "VariantName", "Value": "AllTraffic"},
                        ],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
    )["MetricDataResults"]
    assert [(result["Id"], result["Label"], result["StatusCode"]) for result in data] == [
        ("calls", "Invocations", "Complete")
    ]
    assert sum(data[0]["Values"]) == 4 and len(data[0]["Timestamps"]) == len(data[0]["Values"])
    assert data[0]["Timestamps"] == sorted(data[0]["Timestamps"], reverse=True)

    def whole(query_id: str, metric: str) -> dict[str, Any]:
        """The metric's sum over the whole range below, in one period."""
        dimensions = [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": "AllTraffic"}]
        stat = {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": dimensions}, "Period": 7200, "Stat": "Sum"}
        return {"Id": query_id, "MetricStat": stat, "ReturnData": False}

    (rate,) = cloudwatch.get_metric_data(
        MetricDataQueries=[
            whole("errors", "Invocation5XXErrors"),
            whole("calls", "Invocations"),
            {"Id": "rate", "Expression": "100 * errors / calls", "Label": "5XX rate"},
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
    )["MetricDataResults"]
    assert (rate["Id"], rate["Label"], rate["Values"]) == ("rate", "5XX rate", [25.0])


def test_cloudwatch_errors(server: RunningServer) -> None:
    cloudwatch = server.client("cloudwatch")
    now = datetime.now(UTC)
    base = {"Namespace": "AWS/SageMaker", "MetricName": "Invocations", "StartTime": now - timedelta(hours=1), "EndTime": now}
    cases = [
        ({**base, "Period": 90, "Statistics": ["Sum"]}, "InvalidParameterValue"),
        ({**base, "Period": 60, "Statistics": ["Sum"], "StartTime": now, "EndTime": now - timedelta(hours=1)}, "InvalidParameterValue"),
        ({**base, "Period": 60}, "InvalidParameterCombination"),
        ({**base, "Period": 60, "Statistics": ["Sum"], "ExtendedStatistics": ["p99"]}, "InvalidParameterCombination"),
        ({**base, "Period": 60, "ExtendedStatistics": ["p101"]}, "InvalidParameterValue"),
        ({**base, "Period": 60, "Statistics": ["Sum"], "StartTime": now - timedelta(days=2)}, "InvalidParameterCombination"),
    ]
    for params, code in cases:
        with pytest.raises(ClientError) as refused:
            cloudwatch.get_metric_statistics(**params)
        assert error_of(refused)[:2] == (code, 400), params
    with pytest.raises(ClientError) as bad_token:
        cloudwatch.list_metrics(NextToken="not-a-token")
    assert error_of(bad_token)[:2] == ("InvalidParameterValue", 400)
