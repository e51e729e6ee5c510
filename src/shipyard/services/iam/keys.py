"""Access keys of IAM users (and of the root, for a root caller that names no user)."""

from __future__ import annotations

from typing import Any

from shipyard.iam import entities
from shipyard.iam.ids import parse_entity_arn
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.iam.caller import root_arn, target_user
from shipyard.services.iam.paging import by_position, page
from shipyard.store.accounts import no_such_key

router = ServiceRouter("iam")


async def _owner(ctx: RequestContext, params: dict[str, Any]) -> tuple[str | None, str]:
    """(user name or None for the root, principal ARN) whose keys the request is about."""
    name = target_user(ctx, params.get("UserName"))
    if name is None:
        return None, root_arn(ctx)
    user = await ctx.runtime.iam.read(lambda tx: entities.get(tx, "user", name))
    return user.name, user.arn


@router.operation("CreateAccessKey")
async def create_access_key(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    name, arn = await _owner(ctx, params)
    key = await ctx.runtime.iam.create_access_key(arn, name)
    return {
        "AccessKey": {
            "UserName": name,
            "AccessKeyId": key.access_key_id,
            "Status": key.status,
            "SecretAccessKey": key.secret_access_key,
            "CreateDate": key.created,
        }
    }


@router.operation("ListAccessKeys")
async def list_access_keys(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    name, arn = await _owner(ctx, params)
    keys = await ctx.runtime.accounts.list_access_keys(arn)
    chosen, paging = page(by_position(keys), params, lambda item: item[0])
    return {
        "AccessKeyMetadata": [
            {
                "UserName": name,
                "AccessKeyId": key.access_key_id,
                "Status": key.status,
                "CreateDate": key.created,
            }
            for _, key in chosen
        ],
        **paging,
    }


@router.operation("UpdateAccessKey")
async def update_access_key(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    _, arn = await _owner(ctx, params)
    await ctx.runtime.iam.set_access_key_status(
        params["AccessKeyId"], arn, params["Status"]
    )
    return {}


@router.operation("DeleteAccessKey")
async def delete_access_key(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    _, arn = await _owner(ctx, params)
    await ctx.runtime.iam.delete_access_key(params["AccessKeyId"], arn)
    return {}


@router.operation("GetAccessKeyLastUsed")
async def get_access_key_last_used(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    key = await ctx.runtime.accounts.get_access_key(params["AccessKeyId"])
    if key is None:
        raise no_such_key(params["AccessKeyId"])
    parts = parse_entity_arn(key.principal_arn)
    user_name = parts[3] if parts is not None and parts[1] == "user" else "root"
    # Shipyard does not record when a key was last used: AWS's answer for a key never used.
    return {
        "UserName": user_name,
        "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"},
    }
