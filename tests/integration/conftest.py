"""Fixtures shared by integration tests: the built-in algorithms' jobs on the SQLite
server, and a webhook receiver for alarm actions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shipyard.testing import RunningServer
from shipyard.testing.jobs import sagemaker_role
from shipyard.testing.webhook import Webhook


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


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A webhook receiver on loopback for the test's alarm actions."""
    hook = Webhook()
    yield hook
    hook.close()
