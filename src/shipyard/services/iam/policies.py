"""Managed policies, their versions, and attaching them to users, groups and roles."""

from __future__ import annotations

from typing import Any

from shipyard.iam import entities, managed_policies
from shipyard.iam.ids import EntityKind
from shipyard.iam.records import Tx
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.iam import shapes
from shipyard.services.iam.paging import by_position, page

router = ServiceRouter("iam")


@router.operation("CreatePolicy")
async def create_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = await ctx.runtime.iam.write(
        lambda tx: managed_policies.create(
            tx,
            params["PolicyName"],
            params.get("Path") or "/",
            params["PolicyDocument"],
            params.get("Description"),
            params.get("Tags") or [],
        )
    )
    out = shapes.policy(policy)
    del out["Description"]  # CreatePolicy does not echo it, as AWS
    return {"Policy": out}


@router.operation("GetPolicy")
async def get_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = await ctx.runtime.iam.read(
        lambda tx: managed_policies.get(tx, params["PolicyArn"])
    )
    return {"Policy": shapes.policy(policy)}


@router.operation("ListPolicies")
async def list_policies(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    policies = await ctx.runtime.iam.read(
        lambda tx: managed_policies.list_policies(
            tx,
            scope=params.get("Scope") or "All",
            path_prefix=params.get("PathPrefix"),
            only_attached=bool(params.get("OnlyAttached")),
            usage=params.get("PolicyUsageFilter"),
        )
    )
    chosen, paging = page(
        policies, params, lambda policy: f"{policy.name.lower()} {policy.arn}"
    )
    return {
        "Policies": [shapes.policy(policy, full=False) for policy in chosen],
        **paging,
    }


@router.operation("DeletePolicy")
async def delete_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: managed_policies.delete_policy(tx, params["PolicyArn"])
    )
    return {}


@router.operation("TagPolicy")
async def tag_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: managed_policies.set_tags(
            tx, params["PolicyArn"], tags=params["Tags"]
        )
    )
    return {}


@router.operation("UntagPolicy")
async def untag_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: managed_policies.set_tags(
            tx, params["PolicyArn"], remove=params["TagKeys"]
        )
    )
    return {}


@router.operation("ListPolicyTags")
async def list_policy_tags(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    policy = await ctx.runtime.iam.read(
        lambda tx: managed_policies.get(tx, params["PolicyArn"])
    )
    chosen, paging = page(
        by_position(entities.tag_list(policy.tags)), params, lambda item: item[0]
    )
    return {"Tags": [tag for _, tag in chosen], **paging}


# -- versions -----------------------------------------------------------------------------


@router.operation("CreatePolicyVersion")
async def create_policy_version(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    version = await ctx.runtime.iam.write(
        lambda tx: managed_policies.create_version(
            tx,
            params["PolicyArn"],
            params["PolicyDocument"],
            bool(params.get("SetAsDefault")),
        )
    )
    return {"PolicyVersion": shapes.version(version, with_document=False)}


@router.operation("GetPolicyVersion")
async def get_policy_version(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    version = await ctx.runtime.iam.read(
        lambda tx: managed_policies.version(
            tx, params["PolicyArn"], params["VersionId"]
        )
    )
    return {"PolicyVersion": shapes.version(version)}


@router.operation("ListPolicyVersions")
async def list_policy_versions(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    versions = await ctx.runtime.iam.read(
        lambda tx: managed_policies.versions(tx, params["PolicyArn"])
    )
    chosen, paging = page(by_position(versions), params, lambda item: item[0])
    return {
        "Versions": [
            shapes.version(version, with_document=False) for _, version in chosen
        ],
        **paging,
    }


@router.operation("DeletePolicyVersion")
async def delete_policy_version(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: managed_policies.delete_version(
            tx, params["PolicyArn"], params["VersionId"]
        )
    )
    return {}


@router.operation("SetDefaultPolicyVersion")
async def set_default_policy_version(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    await ctx.runtime.iam.write(
        lambda tx: managed_policies.set_default_version(
            tx, params["PolicyArn"], params["VersionId"]
        )
    )
    return {}


# -- attachments --------------------------------------------------------------------------

_NAME_MEMBER: dict[EntityKind, str] = {
    "user": "UserName",
    "group": "GroupName",
    "role": "RoleName",
}


def _attachment_operations(kind: EntityKind, title: str) -> None:
    member = _NAME_MEMBER[kind]

    @router.operation(f"Attach{title}Policy")
    async def attach(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await ctx.runtime.iam.write(
            lambda tx: managed_policies.attach(
                tx, kind, params[member], params["PolicyArn"]
            )
        )
        return {}

    @router.operation(f"Detach{title}Policy")
    async def detach(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await ctx.runtime.iam.write(
            lambda tx: managed_policies.detach(
                tx, kind, params[member], params["PolicyArn"]
            )
        )
        return {}

    @router.operation(f"ListAttached{title}Policies")
    async def list_attached(
        ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        def load(tx: Tx) -> list[Any]:
            entity = entities.fetch_row(tx, kind, params[member])
            return managed_policies.attached(
                tx, kind, entity.id, params.get("PathPrefix")
            )

        policies = await ctx.runtime.iam.read(load)
        chosen, paging = page(by_position(policies), params, lambda item: item[0])
        return {
            "AttachedPolicies": shapes.attached([policy for _, policy in chosen]),
            **paging,
        }


for _kind, _title in (("user", "User"), ("group", "Group"), ("role", "Role")):
    _attachment_operations(_kind, _title)  # type: ignore[arg-type]
