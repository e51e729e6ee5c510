"""IAM users: create, get (the caller's own too), list, rename, delete, tags."""

from __future__ import annotations

from typing import Any

from shipyard.iam import entities, managed_policies
from shipyard.iam.records import Tx
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.iam import shapes
from shipyard.services.iam.caller import root_arn, target_user
from shipyard.services.iam.paging import by_position, page

router = ServiceRouter("iam")


@router.operation("CreateUser")
async def create_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    boundary = params.get("PermissionsBoundary")
    tags = entities.merge_tags({}, params.get("Tags") or [], quota="TagsPerUser")

    def create(tx: Tx) -> Any:
        if boundary is not None:
            managed_policies.attachable(tx, boundary)
        return entities.create(
            tx,
            "user",
            params["UserName"],
            params.get("Path") or "/",
            boundary_arn=boundary,
            tags=tags or None,
        )

    return {"User": shapes.user(await ctx.runtime.iam.write(create))}


@router.operation("GetUser")
async def get_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = target_user(ctx, params.get("UserName"))
    if name is None:
        account = await ctx.runtime.accounts.ensure_account()
        return {
            "User": {
                "UserId": ctx.account_id,
                "Arn": root_arn(ctx),
                "CreateDate": account.created,
            }
        }
    user = await ctx.runtime.iam.read(lambda tx: entities.get(tx, "user", name))
    return {"User": shapes.user(user)}


@router.operation("ListUsers")
async def list_users(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    users = await ctx.runtime.iam.read(
        lambda tx: entities.list_all(tx, "user", params.get("PathPrefix"))
    )
    chosen, paging = page(users, params, lambda user: user.name.lower())
    return {"Users": [shapes.user(user, full=False) for user in chosen], **paging}


@router.operation("UpdateUser")
async def update_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.rename_user(
        params["UserName"], params.get("NewUserName"), params.get("NewPath")
    )
    return {}


@router.operation("DeleteUser")
async def delete_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: entities.delete_entity(tx, "user", params["UserName"])
    )
    return {}


@router.operation("TagUser")
async def tag_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: entities.tag(tx, "user", params["UserName"], params["Tags"])
    )
    return {}


@router.operation("UntagUser")
async def untag_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: entities.untag(tx, "user", params["UserName"], params["TagKeys"])
    )
    return {}


@router.operation("ListUserTags")
async def list_user_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    user = await ctx.runtime.iam.read(
        lambda tx: entities.get(tx, "user", params["UserName"])
    )
    chosen, paging = page(
        by_position(entities.tag_list(user.tags)), params, lambda item: item[0]
    )
    return {"Tags": [tag for _, tag in chosen], **paging}
