"""Permissions boundaries, and the account-wide views: GetAccountAuthorizationDetails and
ListEntitiesForPolicy."""

from __future__ import annotations

from typing import Any

from shipyard.iam import entities, inline, managed_policies
from shipyard.iam.ids import EntityKind
from shipyard.iam.records import Tx
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.iam import shapes
from shipyard.services.iam.paging import page

router = ServiceRouter("iam")


def _boundary_operations(kind: EntityKind, title: str) -> None:
    member = f"{title}Name"

    @router.operation(f"Put{title}PermissionsBoundary")
    async def put(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def set_boundary(tx: Tx) -> None:
            arn = params["PermissionsBoundary"]
            entities.fetch_row(tx, kind, params[member])
            managed_policies.attachable(tx, arn)
            entities.update_values(tx, kind, params[member], boundary_arn=arn)

        await ctx.runtime.iam.write(set_boundary)
        return {}

    @router.operation(f"Delete{title}PermissionsBoundary")
    async def remove(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await ctx.runtime.iam.write(
            lambda tx: entities.update_values(
                tx, kind, params[member], boundary_arn=None
            )
        )
        return {}


for _kind, _title in (("user", "User"), ("role", "Role")):
    _boundary_operations(_kind, _title)  # type: ignore[arg-type]


# -- GetAccountAuthorizationDetails ---------------------------------------------------

_FILTERS = ("User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy")


def _inline_list(tx: Tx, kind: EntityKind, entity_id: str) -> list[dict[str, str]]:
    return [
        {"PolicyName": policy.name, "PolicyDocument": shapes.encoded(policy.document)}
        for policy in inline.policies_of(tx, kind, entity_id)
    ]


def _details(tx: Tx, wanted: set[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(sort key, output list, detail) of everything ``wanted`` names, in listing order."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    if "User" in wanted:
        for user in entities.list_all(tx, "user"):
            detail = shapes.user(user)
            detail["UserPolicyList"] = _inline_list(tx, "user", user.id)
            detail["GroupList"] = [
                group.name for group in entities.groups_of(tx, user.id)
            ]
            detail["AttachedManagedPolicies"] = shapes.attached(
                managed_policies.attached(tx, "user", user.id)
            )
            found.append((f"1{user.name.lower()}", "UserDetailList", detail))
    if "Group" in wanted:
        for group in entities.list_all(tx, "group"):
            detail = shapes.group(group)
            detail["GroupPolicyList"] = _inline_list(tx, "group", group.id)
            detail["AttachedManagedPolicies"] = shapes.attached(
                managed_policies.attached(tx, "group", group.id)
            )
            found.append((f"2{group.name.lower()}", "GroupDetailList", detail))
    if "Role" in wanted:
        for role in entities.list_all(tx, "role"):
            detail = shapes.role(role)
            detail["InstanceProfileList"] = []
            detail["RolePolicyList"] = _inline_list(tx, "role", role.id)
            detail["AttachedManagedPolicies"] = shapes.attached(
                managed_policies.attached(tx, "role", role.id)
            )
            found.append((f"3{role.name.lower()}", "RoleDetailList", detail))
    for policy in managed_policies.list_policies(tx):
        kind = "AWSManagedPolicy" if policy.aws_managed else "LocalManagedPolicy"
        # AWS managed policies appear only where the account uses them.
        if kind not in wanted or (
            policy.aws_managed
            and not (policy.attachment_count or policy.boundary_count)
        ):
            continue
        detail = shapes.policy(policy)
        del detail["Tags"]
        detail["PolicyVersionList"] = [
            shapes.version(v) for v in managed_policies.versions(tx, policy.arn)
        ]
        found.append((f"4{policy.name.lower()} {policy.arn}", "Policies", detail))
    return found


@router.operation("GetAccountAuthorizationDetails")
async def get_account_authorization_details(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    wanted = set(params.get("Filter") or _FILTERS)
    details = await ctx.runtime.iam.read(lambda tx: _details(tx, wanted))
    chosen, paging = page(details, params, lambda item: item[0])
    out: dict[str, Any] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    for _, output_list, detail in chosen:
        out[output_list].append(detail)
    return {**out, **paging}


# -- ListEntitiesForPolicy --------------------------------------------------------------

_ENTITY_LISTS: dict[EntityKind, tuple[str, str, str]] = {
    "group": ("PolicyGroups", "GroupName", "GroupId"),
    "user": ("PolicyUsers", "UserName", "UserId"),
    "role": ("PolicyRoles", "RoleName", "RoleId"),
}


def _using(
    tx: Tx,
    arn: str,
    kinds: list[EntityKind],
    usage: str | None,
    path_prefix: str | None,
) -> list[Any]:
    managed_policies.get(tx, arn)
    attached = (
        set(managed_policies.entities_for(tx, arn))
        if usage != "PermissionsBoundary"
        else set()
    )
    found = []
    for kind in kinds:
        for entity in entities.list_all(tx, kind, path_prefix):
            bounded = (
                usage != "PermissionsPolicy"
                and getattr(entity, "boundary_arn", None) == arn
            )
            if (kind, entity.id) in attached or bounded:
                found.append((f"{kind} {entity.name.lower()}", kind, entity))
    return found


@router.operation("ListEntitiesForPolicy")
async def list_entities_for_policy(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    entity_filter = params.get("EntityFilter")
    kinds: list[EntityKind] = ["group", "role", "user"]
    if entity_filter is not None:
        kinds = [kind for kind in kinds if kind.title() == entity_filter]
    found = await ctx.runtime.iam.read(
        lambda tx: _using(
            tx,
            params["PolicyArn"],
            kinds,
            params.get("PolicyUsageFilter"),
            params.get("PathPrefix"),
        )
    )
    chosen, paging = page(found, params, lambda item: item[0])
    out: dict[str, Any] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
    for _, kind, entity in chosen:
        output_list, name_member, id_member = _ENTITY_LISTS[kind]
        out[output_list].append({name_member: entity.name, id_member: entity.id})
    return {**out, **paging}
