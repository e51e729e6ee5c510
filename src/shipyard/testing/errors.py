"""Reading AWS errors out of boto3 exceptions in tests."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    """The (AWS error code, HTTP status) a boto3 ``ClientError`` carries."""
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]
