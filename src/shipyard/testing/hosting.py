"""Build models and endpoints on a running server, for tests, benches and examples."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from shipyard.testing.jobs import sourcedir_tar
from shipyard.testing.server import RunningServer

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def model_tar(files: Mapping[str, bytes]) -> bytes:
    """A ``model.tar.gz`` holding ``files`` (name -> bytes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def xgboost_model(features: int = 4, rounds: int = 5, seed: int = 0) -> tuple[bytes, Any]:
    """A small binary classifier trained with the ``xgboost`` library: the ``model.tar.gz``
    the built-in algorithm would write, and the booster (to compare predictions with)."""
    import xgboost

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, features))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(float)
    booster = xgboost.train({"objective": "binary:logistic", "seed": seed}, xgboost.DMatrix(x, label=y), rounds)
    return model_tar({"xgboost-model": bytes(booster.save_raw("ubj"))}), booster


def script_model(code: Mapping[str, str], artifacts: Mapping[str, bytes] | None = None) -> bytes:
    """A ``model.tar.gz`` as the SageMaker SDK repacks it for script mode: ``artifacts`` at
    the top and the inference code (name -> text) under ``code/``."""
    files = dict(artifacts or {})
    with tarfile.open(fileobj=io.BytesIO(sourcedir_tar(code)), mode="r:gz") as archive:
        for member in archive.getmembers():
            extracted = archive.extractfile(member)
            assert extracted is not None
            files[f"code/{member.name}"] = extracted.read()
    return model_tar(files)


def upload(server: RunningServer, bucket: str, key: str, body: bytes) -> str:
    """Put ``body`` at ``key``; its ``s3://`` URI."""
    server.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def create_model(
    sagemaker: Any, name: str, role: str, model_data_url: str, *, image: str = XGBOOST_IMAGE, **container: Any
) -> None:
    """CreateModel with one container."""
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=role,
        PrimaryContainer={"Image": image, "ModelDataUrl": model_data_url, **container},
    )


def variant(name: str, model: str, *, count: int = 1, weight: float = 1.0, instance_type: str = "ml.t2.medium") -> dict[str, Any]:
    """A ``ProductionVariant``."""
    return {
        "VariantName": name,
        "ModelName": model,
        "InstanceType": instance_type,
        "InitialInstanceCount": count,
        "InitialVariantWeight": weight,
    }


def deploy(sagemaker: Any, endpoint: str, variants: list[dict[str, Any]], *, wait: bool = True, **config: Any) -> str:
    """Create an endpoint config named after the endpoint, and the endpoint; wait until it is
    InService (or Failed) unless ``wait`` is false. The config's name."""
    config_name = f"{endpoint}-config-{time.monotonic_ns() % 10**8}"
    sagemaker.create_endpoint_config(EndpointConfigName=config_name, ProductionVariants=variants, **config)
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config_name)
    if wait:
        wait_for_endpoint(sagemaker, endpoint)
    return config_name


def wait_for_endpoint(sagemaker: Any, endpoint: str, *, timeout: float = 120) -> dict[str, Any]:
    """DescribeEndpoint once the endpoint is neither Creating, Updating nor RollingBack."""
    deadline = time.monotonic() + timeout
    while True:
        description = sagemaker.describe_endpoint(EndpointName=endpoint)
        if description["EndpointStatus"] not in ("Creating", "Updating", "RollingBack", "SystemUpdating"):
            return description
        if time.monotonic() > deadline:
            raise TimeoutError(f"endpoint {endpoint} is still {description['EndpointStatus']}")
        time.sleep(0.1)


def delete_endpoint(sagemaker: Any, endpoint: str) -> None:
    """DeleteEndpoint and wait until it is gone (its capacity is free then)."""
    sagemaker.delete_endpoint(EndpointName=endpoint)
    sagemaker.get_waiter("endpoint_deleted").wait(EndpointName=endpoint, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})


def model_server_log(server: RunningServer, endpoint: str, *, until: str = "", timeout: float = 10) -> list[str]:
    """Every line the endpoint's instances logged, in order per stream; with ``until``, once
    a line contains it (the server ships the workers' output every second or so)."""
    logs = server.client("logs")
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    deadline = time.monotonic() + timeout
    while True:
        lines: list[str] = []
        for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True)
            lines += [event["message"] for event in events["events"]]
        if not until or any(until in line for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)
