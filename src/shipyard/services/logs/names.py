"""Which log group a request names: ``logGroupName``, ``logGroupIdentifier`` (name or ARN), an ARN."""

from __future__ import annotations

from typing import Any

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext


def group_name(params: dict[str, Any]) -> str:
    """The group named by exactly one of ``logGroupName`` and ``logGroupIdentifier``."""
    name, identifier = params.get("logGroupName"), params.get("logGroupIdentifier")
    if name is not None and identifier is not None:
        raise AwsError(
            "InvalidParameterException",
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            400,
        )
    if name is None and identifier is None:
        raise AwsError("InvalidParameterException", "Either logGroupName or logGroupIdentifier is required.", 400)
    if name is not None:
        return name
    if not identifier.startswith("arn:"):
        return identifier
    if ":log-group:" not in identifier:
        raise AwsError("InvalidParameterException", f"Invalid log group identifier: {identifier}", 400)
    return identifier.split(":log-group:", 1)[1].removesuffix(":*")


def group_of_arn(ctx: RequestContext, arn: str) -> tuple[str, str]:
    """``(region, name)`` of a log-group ARN of this account."""
    parts = arn.split(":", 6)
    if len(parts) != 7 or parts[:3] != ["arn", "aws", "logs"] or parts[5] != "log-group" or not parts[6]:
        raise AwsError("InvalidParameterException", f"Invalid resource arn: {arn}", 400)
    if parts[4] != ctx.account_id:
        raise AwsError("ResourceNotFoundException", "The specified log group does not exist.", 400)
    return parts[3], parts[6]
