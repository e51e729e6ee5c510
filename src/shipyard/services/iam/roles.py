"""IAM roles: trust policies, session duration, description, tags."""

from __future__ import annotations

from typing import Any

from shipyard.iam import documents, entities, managed_policies
from shipyard.iam.records import Tx
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.iam import shapes
from shipyard.services.iam.paging import by_position, page

router = ServiceRouter("iam")

#: A role's session limit when CreateRole names none (seconds).
DEFAULT_MAX_SESSION_DURATION = 3600


@router.operation("CreateRole")
async def create_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    trust = params["AssumeRolePolicyDocument"]
    documents.check_trust(trust)
    boundary = params.get("PermissionsBoundary")
    tags = entities.merge_tags({}, params.get("Tags") or [], quota="TagsPerRole")

    def create(tx: Tx) -> Any:
        if boundary is not None:
            managed_policies.attachable(tx, boundary)
        return entities.create(
            tx,
            "role",
            params["RoleName"],
            params.get("Path") or "/",
            trust_policy=trust,
            description=params.get("Description"),
            max_session_duration=params.get("MaxSessionDuration")
            or DEFAULT_MAX_SESSION_DURATION,
            boundary_arn=boundary,
            tags=tags or None,
        )

    role = await ctx.runtime.iam.write(create)
    out = shapes.role(role)
    del out["RoleLastUsed"]  # CreateRole's answer has none
    return {"Role": out}


@router.operation("GetRole")
async def get_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    role = await ctx.runtime.iam.read(
        lambda tx: entities.get(tx, "role", params["RoleName"])
    )
    return {"Role": shapes.role(role)}


@router.operation("ListRoles")
async def list_roles(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    roles = await ctx.runtime.iam.read(
        lambda tx: entities.list_all(tx, "role", params.get("PathPrefix"))
    )
    chosen, paging = page(roles, params, lambda role: role.name.lower())
    return {"Roles": [shapes.role(role, full=False) for role in chosen], **paging}


@router.operation("UpdateRole")
async def update_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    values = {
        column: params[member]
        for member, column in (
            ("Description", "description"),
            ("MaxSessionDuration", "max_session_duration"),
        )
        if params.get(member) is not None
    }
    await ctx.runtime.iam.write(
        lambda tx: entities.update_values(tx, "role", params["RoleName"], **values)
    )
    return {}


@router.operation("UpdateRoleDescription")
async def update_role_description(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    role = await ctx.runtime.iam.write(
        lambda tx: entities.update_values(
            tx, "role", params["RoleName"], description=params["Description"]
        )
    )
    return {"Role": shapes.role(role)}


@router.operation("UpdateAssumeRolePolicy")
async def update_assume_role_policy(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    documents.check_trust(params["PolicyDocument"])
    await ctx.runtime.iam.write(
        lambda tx: entities.update_values(
            tx, "role", params["RoleName"], trust_policy=params["PolicyDocument"]
        )
    )
    return {}


@router.operation("DeleteRole")
async def delete_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: entities.delete_entity(tx, "role", params["RoleName"])
    )
    return {}


@router.operation("TagRole")
async def tag_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: entities.tag(tx, "role", params["RoleName"], params["Tags"])
    )
    return {}


@router.operation("UntagRole")
async def untag_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: entities.untag(tx, "role", params["RoleName"], params["TagKeys"])
    )
    return {}


@router.operation("ListRoleTags")
async def list_role_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    role = await ctx.runtime.iam.read(
        lambda tx: entities.get(tx, "role", params["RoleName"])
    )
    chosen, paging = page(
        by_position(entities.tag_list(role.tags)), params, lambda item: item[0]
    )
    return {"Tags": [tag for _, tag in chosen], **paging}
