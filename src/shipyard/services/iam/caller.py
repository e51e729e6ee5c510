"""Operations that act on the caller when no ``UserName`` is given (GetUser, access keys)."""

from __future__ import annotations

from shipyard.errors import AwsError
from shipyard.iam.ids import parse_entity_arn
from shipyard.services.base import RequestContext


def target_user(ctx: RequestContext, user_name: str | None) -> str | None:
    """``user_name`` if given, else the calling user's name, or None for the root.

    Any other caller (an assumed role) must name the user, as IAM requires.
    """
    if user_name is not None:
        return user_name
    arn = ctx.principal_arn or ""
    if arn == root_arn(ctx):
        return None
    parts = parse_entity_arn(arn)
    if parts is not None and parts[1] == "user":
        return parts[3]
    raise AwsError(
        "ValidationError",
        "Must specify userName when calling with non-User credentials",
        400,
    )


def root_arn(ctx: RequestContext) -> str:
    """The account root's ARN."""
    return f"arn:aws:iam::{ctx.account_id}:root"
