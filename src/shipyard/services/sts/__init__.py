"""AWS STS: who am I, and temporary credentials (AssumeRole, GetSessionToken).

The gateway has already checked that an identity-based policy allows the call (for
AssumeRole: ``sts:AssumeRole`` on the role); AssumeRole adds the role's side, its trust
policy. Temporary credentials work only with their session token and only until they
expire; the gateway enforces both.
"""

from __future__ import annotations

import json
import math
from typing import Any

from shipyard.errors import AwsError
from shipyard.iam.policy import PolicyType, parse_policy
from shipyard.iam.sessions import IssuedSession
from shipyard.services.base import RequestContext, ServiceRouter

router = ServiceRouter("sts")

_DEFAULT_ROLE_SECONDS = 3600
_CHAINED_ROLE_MAX_SECONDS = 3600
_DEFAULT_TOKEN_SECONDS = 43200
_ROOT_TOKEN_MAX_SECONDS = 3600
#: Session policies, inline and managed ARNs together, are packed into this many bytes.
_PACKED_POLICY_LIMIT = 2048


@router.operation("GetCallerIdentity")
async def get_caller_identity(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.caller
    return {"UserId": caller.user_id, "Account": ctx.account_id, "Arn": caller.principal.arn}


@router.operation("GetAccessKeyInfo")
async def get_access_key_info(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    # Like AWS, any well-formed key id of this account answers with the account, even a deleted one.
    return {"Account": ctx.account_id}


@router.operation("AssumeRole")
async def assume_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.caller
    role_arn = params["RoleArn"]
    not_authorized = AwsError(
        "AccessDenied",
        f"User: {caller.principal.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        403,
    )
    if caller.is_root:
        raise AwsError("AccessDenied", "Roles may not be assumed by root accounts.", 403)
    role = await ctx.runtime.iam.role_by_name(role_arn.rsplit("/", 1)[-1])
    if role is None or role.arn != role_arn:
        raise not_authorized
    context = _trust_context(params)
    if not await ctx.runtime.authorizer.trust_allows(caller, role, context):
        raise not_authorized

    chained = caller.principal.kind == "assumed-role"
    duration = params.get("DurationSeconds") or _DEFAULT_ROLE_SECONDS
    if chained and duration > _CHAINED_ROLE_MAX_SECONDS:
        raise AwsError(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            400,
        )
    if duration > role.max_session_duration:
        raise AwsError(
            "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400
        )
    policy, policy_arns, packed = await _session_policies(ctx, params)
    tags = {tag["Key"]: tag["Value"] for tag in params.get("Tags") or ()}
    session_name = params["RoleSessionName"]
    issued = await ctx.runtime.sessions.issue(
        kind="assumed-role",
        principal_arn=f"arn:aws:sts::{ctx.account_id}:assumed-role/{role.name}/{session_name}",
        source_arn=caller.principal.arn,
        duration_seconds=duration,
        role_arn=role.arn,
        role_id=role.id,
        session_name=session_name,
        policy=policy,
        policy_arns=policy_arns,
        tags=tags,
        source_identity=params.get("SourceIdentity"),
    )
    output: dict[str, Any] = {
        "Credentials": _credentials(issued),
        "AssumedRoleUser": {"AssumedRoleId": f"{role.id}:{session_name}", "Arn": issued.session.principal_arn},
    }
    if packed is not None:
        output["PackedPolicySize"] = packed
    if params.get("SourceIdentity"):
        output["SourceIdentity"] = params["SourceIdentity"]
    return output


@router.operation("GetSessionToken")
async def get_session_token(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.caller
    if caller.session is not None:
        raise AwsError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
    duration = params.get("DurationSeconds") or _DEFAULT_TOKEN_SECONDS
    if caller.is_root:
        duration = min(duration, _ROOT_TOKEN_MAX_SECONDS)
    issued = await ctx.runtime.sessions.issue(
        kind="session-token",
        principal_arn=caller.principal.arn,
        source_arn=caller.principal.arn,
        duration_seconds=duration,
    )
    return {"Credentials": _credentials(issued)}



def _trust_context(params: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The request's keys a trust policy's conditions may test."""
    context: dict[str, tuple[str, ...]] = {"sts:RoleSessionName": (params["RoleSessionName"],)}
    if params.get("ExternalId"):
        context["sts:ExternalId"] = (params["ExternalId"],)
    if params.get("SourceIdentity"):
        context["sts:SourceIdentity"] = (params["SourceIdentity"],)
    tags = params.get("Tags") or ()
    for tag in tags:
        context[f"aws:RequestTag/{tag['Key']}"] = (tag["Value"],)
    if tags:
        context["aws:TagKeys"] = tuple(tag["Key"] for tag in tags)
    return context


async def _session_policies(ctx: RequestContext, params: dict[str, Any]) -> tuple[str | None, list[str], int | None]:
    """The session policy (validated), the managed policy ARNs, and the packed size in percent."""
    policy = params.get("Policy")
    arns = [entry["arn"] for entry in params.get("PolicyArns") or () if entry.get("arn")]
    if policy is None and not arns:
        return None, [], None
    packed_length = 0
    if policy is not None:
        if len(policy) > _PACKED_POLICY_LIMIT:
            raise AwsError(
                "ValidationError",
                f"1 validation error detected: Value at 'policy' failed to satisfy constraint: "
                f"Member must have length less than or equal to {_PACKED_POLICY_LIMIT}",
                400,
            )
        parse_policy(policy, PolicyType.IDENTITY)  # MalformedPolicyDocument if it is not one
        packed_length += len(json.dumps(json.loads(policy), separators=(",", ":")))
    for arn in arns:
        if await ctx.runtime.iam.managed_policy_document(arn) is None:
            raise AwsError("MalformedPolicyDocument", f"Policy {arn} does not exist or is not attachable.", 400)
        packed_length += len(arn)
    percent = math.ceil(100 * packed_length / _PACKED_POLICY_LIMIT)
    if percent > 100:
        raise AwsError(
            "PackedPolicyTooLarge", f"Packed policy consumes {percent}% of allotted space, please use smaller policy.", 400
        )
    return policy, arns, percent


def _credentials(issued: IssuedSession) -> dict[str, Any]:
    return {
        "AccessKeyId": issued.session.access_key_id,
        "SecretAccessKey": issued.session.secret_access_key,
        "SessionToken": issued.session_token,
        "Expiration": issued.session.expires,
    }
