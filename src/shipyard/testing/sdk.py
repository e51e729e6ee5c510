"""The SageMaker Python SDK (v2), unchanged, pointed at a running server.

Only the endpoint changes (``AWS_ENDPOINT_URL`` and the server's profile); the session's
default bucket is given by name, as the SDK would otherwise ask AWS's regional STS endpoint
for the account id, and telemetry is turned off through the SDK's config file, as it would
otherwise try to reach an AWS host.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from shipyard.testing.server import RunningServer

SDK_CONFIG = """\
SchemaVersion: "1.0"
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


@contextmanager
def sagemaker_session(server: RunningServer, workdir: Path) -> Iterator[Any]:
    """A ``sagemaker.Session`` whose every client reaches ``server``; the process environment
    points at the server until the block ends."""
    config = workdir / "sagemaker-config.yaml"
    config.write_text(SDK_CONFIG)
    with pytest.MonkeyPatch.context() as env:
        for name in [name for name in os.environ if name.startswith(("AWS_", "SAGEMAKER_"))]:
            env.delenv(name)
        for name, value in server.client_env().items():
            env.setenv(name, value)
        env.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(config))
        env.setenv("SAGEMAKER_ADMIN_CONFIG_OVERRIDE", str(config))
        env.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

        import boto3
        import sagemaker

        # The SDK also calls boto3.client(), whose default session caches the environment it
        # first saw (perhaps another test's server): make it read this one.
        env.setattr(boto3, "DEFAULT_SESSION", None)
        boto_session = boto3.session.Session()
        account = boto_session.client("sts").get_caller_identity()["Account"]
        yield sagemaker.Session(boto_session=boto_session, default_bucket=f"sagemaker-us-east-1-{account}")
