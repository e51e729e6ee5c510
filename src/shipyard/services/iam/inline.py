"""Inline policies of users, groups and roles: Put/Get/List/Delete{User,Group,Role}Policy."""

from __future__ import annotations

from typing import Any

from shipyard.iam import entities, inline
from shipyard.iam.ids import EntityKind
from shipyard.iam.records import Tx
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.iam import shapes
from shipyard.services.iam.paging import page

router = ServiceRouter("iam")


def _inline_operations(kind: EntityKind, title: str) -> None:
    member = f"{title}Name"

    @router.operation(f"Put{title}Policy")
    async def put(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await ctx.runtime.iam.write(
            lambda tx: inline.put(
                tx, kind, params[member], params["PolicyName"], params["PolicyDocument"]
            )
        )
        return {}

    @router.operation(f"Get{title}Policy")
    async def get(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def load(tx: Tx) -> tuple[str, Any]:
            entity = entities.fetch_row(tx, kind, params[member])
            return entity.name, inline.get(tx, kind, entity.name, params["PolicyName"])

        name, policy = await ctx.runtime.iam.read(load)
        return {
            member: name,
            "PolicyName": policy.name,
            "PolicyDocument": shapes.encoded(policy.document),
        }

    @router.operation(f"List{title}Policies")
    async def list_names(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def load(tx: Tx) -> list[str]:
            entity = entities.fetch_row(tx, kind, params[member])
            return [policy.name for policy in inline.policies_of(tx, kind, entity.id)]

        names = await ctx.runtime.iam.read(load)
        chosen, paging = page(names, params, lambda name: name)
        return {"PolicyNames": chosen, **paging}

    @router.operation(f"Delete{title}Policy")
    async def remove(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await ctx.runtime.iam.write(
            lambda tx: inline.remove(tx, kind, params[member], params["PolicyName"])
        )
        return {}


for _kind, _title in (("user", "User"), ("group", "Group"), ("role", "Role")):
    _inline_operations(_kind, _title)  # type: ignore[arg-type]
