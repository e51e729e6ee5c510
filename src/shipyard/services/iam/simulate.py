"""IAM's policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy and the context-key
listings, answered by the same engine that authorizes every request."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shipyard.errors import AwsError
from shipyard.iam import entities, inline, managed_policies
from shipyard.iam.documents import parsed
from shipyard.iam.ids import parse_entity_arn
from shipyard.iam.policy import (
    AuthorizationRequest,
    Decision,
    MatchedStatement,
    NamedPolicy,
    PolicySet,
    PolicyType,
    Principal,
    evaluate,
)
from shipyard.iam.principals import entity_policies, role_record, user_record
from shipyard.iam.records import Tx
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.iam.paging import by_position, page

router = ServiceRouter("iam")

_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _input_policies(
    texts: Iterable[str], source: str, policy_type: PolicyType
) -> list[NamedPolicy]:
    """Policies given in the request, named as AWS reports them (``PolicyInputList.1``...)."""
    found = []
    for index, text in enumerate(texts, 1):
        try:
            policy = parsed(text, policy_type)
        except AwsError as error:
            raise AwsError("InvalidInput", error.message, 400) from error
        found.append(
            NamedPolicy(
                policy,
                f"{source}.{index}",
                "none" if source != "ResourcePolicy" else "resource",
            )
        )
    return found


@dataclass(frozen=True)
class _Subject:
    """Who is simulated: principal, identity policies, boundary and context keys."""

    principal: Principal
    identity: list[NamedPolicy]
    boundary: NamedPolicy | None
    context: dict[str, list[str]]


def _source_entity(tx: Tx, source_arn: str) -> tuple[str, Any]:
    """The user, group or role a ``PolicySourceArn`` names, with its kind."""
    parts = parse_entity_arn(source_arn)
    if parts is None or parts[0] != tx.account_id or parts[1] not in ("user", "group", "role"):
        raise AwsError("InvalidInput", f"Invalid ARN: {source_arn}", 400)
    kind, name = parts[1], parts[3]
    entity = entities.find(tx, kind, name)
    if entity is None:
        raise entities.no_such_entity(kind, name)
    return kind, entity


def _principal_subject(tx: Tx, source_arn: str) -> _Subject:
    kind, entity = _source_entity(tx, source_arn)
    if kind == "group":
        return _Subject(
            Principal(entity.arn, tx.account_id, "user"),
            entity_policies(tx, "group", entity.id),
            None,
            {},
        )
    record = user_record(tx, entity) if kind == "user" else role_record(tx, entity)
    if kind == "user":
        principal = Principal(record.arn, tx.account_id, "user")
        context = {"aws:username": [record.name], "aws:userid": [record.id]}
    else:
        principal = Principal(
            record.arn, tx.account_id, "assumed-role", role_arn=record.arn
        )
        context = {}
    context["aws:PrincipalArn"] = [record.arn]
    context["aws:PrincipalAccount"] = [tx.account_id]
    context.update(
        {f"aws:PrincipalTag/{key}": [value] for key, value in record.tags.items()}
    )
    return _Subject(principal, record.identity, record.boundary, context)


def _statement(matched: MatchedStatement) -> dict[str, Any]:
    out: dict[str, Any] = {
        "SourcePolicyId": matched.source_id,
        "SourcePolicyType": matched.source_type,
    }
    if matched.start is not None and matched.end is not None:
        out["StartPosition"] = {
            "Line": matched.start.line,
            "Column": matched.start.column,
        }
        out["EndPosition"] = {"Line": matched.end.line, "Column": matched.end.column}
    return out


def _simulate(subject: _Subject, params: dict[str, Any]) -> list[dict[str, Any]]:
    identity = subject.identity + _input_policies(
        params.get("PolicyInputList") or [], "PolicyInputList", PolicyType.IDENTITY
    )
    boundaries = _input_policies(
        params.get("PermissionsBoundaryPolicyInputList") or [],
        "PermissionsBoundaryPolicyInputList",
        PolicyType.IDENTITY,
    )
    boundary = boundaries[0] if boundaries else subject.boundary
    resource_policy = None
    if params.get("ResourcePolicy"):
        resource_policy = _input_policies(
            [params["ResourcePolicy"]], "ResourcePolicy", PolicyType.RESOURCE
        )[0]
    principal = subject.principal
    if params.get("CallerArn"):
        principal = Principal(params["CallerArn"], principal.account_id, "user")
    context = dict(subject.context)
    for entry in params.get("ContextEntries") or []:
        context[entry["ContextKeyName"]] = list(entry.get("ContextKeyValues") or [])
    policies = PolicySet(
        identity=tuple(identity), resource=resource_policy, boundary=boundary
    )
    results = []
    for action in params["ActionNames"]:
        for resource in params.get("ResourceArns") or ["*"]:
            request = AuthorizationRequest(principal, action, resource, context)
            decision = evaluate(request, policies)
            detail = _detail(decision)
            if boundary is not None:
                by_boundary = evaluate(request, PolicySet(identity=(boundary,)))
                detail["PermissionsBoundaryDecisionDetail"] = {
                    "AllowedByPermissionsBoundary": by_boundary.allowed
                }
            results.append(
                {
                    "EvalActionName": action,
                    "EvalResourceName": resource,
                    "EvalDecision": decision.effect.value,
                    **detail,
                    "ResourceSpecificResults": [
                        {
                            "EvalResourceName": resource,
                            "EvalResourceDecision": decision.effect.value,
                            **detail,
                        }
                    ],
                }
            )
    return results


def _detail(decision: Decision) -> dict[str, Any]:
    return {
        "MatchedStatements": [_statement(matched) for matched in decision.matched],
        "MissingContextValues": list(decision.missing_context_keys),
    }


def _answer(results: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    chosen, paging = page(by_position(results), params, lambda item: item[0])
    return {"EvaluationResults": [result for _, result in chosen], **paging}


@router.operation("SimulatePrincipalPolicy")
async def simulate_principal_policy(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    subject = await ctx.runtime.iam.read(
        lambda tx: _principal_subject(tx, params["PolicySourceArn"])
    )
    return _answer(_simulate(subject, params), params)


@router.operation("SimulateCustomPolicy")
async def simulate_custom_policy(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    caller = Principal(f"arn:aws:iam::{ctx.account_id}:root", ctx.account_id, "user")
    return _answer(_simulate(_Subject(caller, [], None, {}), params), params)


# -- context keys ---------------------------------------------------------------------------


def context_keys(texts: Iterable[str]) -> list[str]:
    """The condition keys and policy variables the documents use, each once (first spelling)."""
    found: dict[str, str] = {}

    def add(key: str) -> None:
        found.setdefault(key.lower(), key)

    for text in texts:
        try:
            document = json.loads(text)
        except ValueError as error:
            raise AwsError("InvalidInput", "Syntax errors in policy.", 400) from error
        statements = document.get("Statement", []) if isinstance(document, dict) else []
        for statement in statements if isinstance(statements, list) else [statements]:
            if not isinstance(statement, dict):
                continue
            for block in (statement.get("Condition") or {}).values():
                for key in block if isinstance(block, dict) else ():
                    add(key)
            for variable in _VARIABLE.findall(
                json.dumps(
                    [
                        statement.get("Resource"),
                        statement.get("NotResource"),
                        statement.get("Condition"),
                    ]
                )
            ):
                name = variable.split(",", 1)[0].strip()
                if name not in ("*", "?", "$"):
                    add(name)
    return list(found.values())


@router.operation("GetContextKeysForCustomPolicy")
async def get_context_keys_for_custom_policy(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    return {"ContextKeyNames": context_keys(params["PolicyInputList"])}


def _principal_documents(tx: Tx, source_arn: str) -> list[str]:
    kind, entity = _source_entity(tx, source_arn)
    owners = [(kind, entity.id)]
    if kind == "user":
        owners += [("group", group.id) for group in entities.groups_of(tx, entity.id)]
    texts: list[str] = []
    for owner_kind, owner_id in owners:
        texts += [
            policy.document for policy in inline.policies_of(tx, owner_kind, owner_id)
        ]
        texts += [
            t
            for arn in managed_policies.attached_arns(tx, owner_kind, owner_id)
            if (t := managed_policies.document(tx, arn)) is not None
        ]
    return texts


@router.operation("GetContextKeysForPrincipalPolicy")
async def get_context_keys_for_principal_policy(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    texts = await ctx.runtime.iam.read(
        lambda tx: _principal_documents(tx, params["PolicySourceArn"])
    )
    return {
        "ContextKeyNames": context_keys(
            [*texts, *(params.get("PolicyInputList") or [])]
        )
    }
