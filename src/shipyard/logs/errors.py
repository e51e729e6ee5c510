"""The log store's errors, in CloudWatch Logs' codes and words."""

from __future__ import annotations

from shipyard.errors import AwsError


def group_not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log group does not exist.", 400)


def stream_not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log stream does not exist.", 400)


def group_exists() -> AwsError:
    return AwsError("ResourceAlreadyExistsException", "The specified log group already exists", 400)


def stream_exists() -> AwsError:
    return AwsError("ResourceAlreadyExistsException", "The specified log stream already exists", 400)
