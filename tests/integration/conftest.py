"""Fixtures of the built-in algorithms' integration tests: jobs on the SQLite server."""

from __future__ import annotations

import uuid

import pytest

from shipyard.testing import RunningServer
from shipyard.testing.jobs import sagemaker_role


@pytest.fixture(scope="module")
def algorithm_role(sqlite_server: RunningServer) -> str:
    """A role SageMaker may assume on ``sqlite_server``, for the module's training jobs."""
    return sagemaker_role(sqlite_server)


@pytest.fixture(scope="module")
def algorithm_bucket(sqlite_server: RunningServer) -> str:
    """A fresh bucket on ``sqlite_server`` for the module's data and models."""
    name = f"algorithms-{uuid.uuid4().hex[:12]}"
    sqlite_server.client("s3").create_bucket(Bucket=name)
    return name
