"""IAM groups and their members."""

from __future__ import annotations

from typing import Any

from shipyard.iam import entities
from shipyard.iam.records import Tx
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.iam import shapes
from shipyard.services.iam.paging import page

router = ServiceRouter("iam")


@router.operation("CreateGroup")
async def create_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    group = await ctx.runtime.iam.write(
        lambda tx: entities.create(
            tx, "group", params["GroupName"], params.get("Path") or "/"
        )
    )
    return {"Group": shapes.group(group)}


@router.operation("GetGroup")
async def get_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    def load(tx: Tx) -> tuple[Any, list[Any]]:
        group = entities.get(tx, "group", params["GroupName"])
        return group, entities.members(tx, group.id)

    group, users = await ctx.runtime.iam.read(load)
    chosen, paging = page(users, params, lambda user: user.name.lower())
    return {
        "Group": shapes.group(group),
        "Users": [shapes.user(user, full=False) for user in chosen],
        **paging,
    }


@router.operation("ListGroups")
async def list_groups(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    groups = await ctx.runtime.iam.read(
        lambda tx: entities.list_all(tx, "group", params.get("PathPrefix"))
    )
    chosen, paging = page(groups, params, lambda group: group.name.lower())
    return {"Groups": [shapes.group(group) for group in chosen], **paging}


@router.operation("UpdateGroup")
async def update_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: entities.rename(
            tx,
            "group",
            params["GroupName"],
            params.get("NewGroupName"),
            params.get("NewPath"),
        )
    )
    return {}


@router.operation("DeleteGroup")
async def delete_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: entities.delete_entity(tx, "group", params["GroupName"])
    )
    return {}


@router.operation("AddUserToGroup")
async def add_user_to_group(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: entities.add_member(tx, params["GroupName"], params["UserName"])
    )
    return {}


@router.operation("RemoveUserFromGroup")
async def remove_user_from_group(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: entities.remove_member(tx, params["GroupName"], params["UserName"])
    )
    return {}


@router.operation("ListGroupsForUser")
async def list_groups_for_user(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    def load(tx: Tx) -> list[Any]:
        user = entities.get(tx, "user", params["UserName"])
        return entities.groups_of(tx, user.id)

    groups = await ctx.runtime.iam.read(load)
    chosen, paging = page(groups, params, lambda group: group.name.lower())
    return {"Groups": [shapes.group(group) for group in chosen], **paging}
