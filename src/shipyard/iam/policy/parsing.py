"""``parse_policy``: validate a policy document and compile it for fast evaluation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shipyard.errors import AwsError
from shipyard.iam.policy import malformed as m
from shipyard.iam.policy.conditions import compile_conditions
from shipyard.iam.policy.document import (
    Policy,
    PolicyType,
    Position,
    ResourceMatcher,
    Statement,
)
from shipyard.iam.policy.patterns import WildcardSet
from shipyard.iam.policy.positions import statement_spans
from shipyard.iam.policy.principals import PrincipalSpec, parse_principal
from shipyard.iam.policy.validation import CURRENT_VERSION, entries, validate
from shipyard.iam.policy.variables import Template, parse_template

_DEFAULT_VERSION = "2008-10-17"


def parse_policy(document: str | Mapping[str, Any], policy_type: PolicyType) -> Policy:
    """Validate ``document`` as IAM does and compile it.

    Raises ``AwsError("MalformedPolicyDocument", <AWS's message>, 400)``. Wildcard
    patterns are compiled here, once; statement positions are recorded when the document
    is text.
    """
    spans: list[tuple[Position, Position]] = []
    if isinstance(document, str):
        try:
            decoded = json.loads(document)
        except ValueError:
            raise m.malformed(m.SYNTAX) from None
        statements = validate(decoded, policy_type)
        spans = statement_spans(document)
    else:
        decoded = document
        statements = validate(decoded, policy_type)
    version = decoded.get("Version", _DEFAULT_VERSION)
    variables = version == CURRENT_VERSION
    empty_principal = m.malformed(
        m.TRUST_WITHOUT_PRINCIPAL
        if policy_type is PolicyType.TRUST
        else m.MISSING_PRINCIPAL
    )
    compiled = []
    for index, raw in enumerate(statements):
        start, end = spans[index] if len(spans) == len(statements) else (None, None)
        compiled.append(_statement(raw, index, variables, empty_principal, start, end))
    return Policy(version, decoded.get("Id"), tuple(compiled), policy_type)


def _statement(
    raw: Mapping[str, Any],
    index: int,
    variables: bool,
    empty_principal: AwsError,
    start: Position | None,
    end: Position | None,
) -> Statement:
    not_action = "NotAction" in raw
    actions = entries(raw, "NotAction" if not_action else "Action")
    not_resource = "NotResource" in raw
    resource_key = "NotResource" if not_resource else "Resource"
    resources = (
        _resources(entries(raw, resource_key), variables)
        if resource_key in raw
        else None
    )
    not_principal = "NotPrincipal" in raw
    principal_key = "NotPrincipal" if not_principal else "Principal"
    principal: PrincipalSpec | None = None
    if principal_key in raw:
        principal = parse_principal(raw[principal_key], empty_principal)
    return Statement(
        sid=raw.get("Sid"),
        effect=raw["Effect"],
        actions=WildcardSet.build(action.lower() for action in actions),
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        principal=principal,
        not_principal=not_principal,
        conditions=compile_conditions(raw.get("Condition", {}), variables),
        index=index,
        start=start,
        end=end,
    )


def _resources(values: list[str], variables: bool) -> ResourceMatcher:
    fixed: list[str] = []
    templates: list[Template] = []
    for value in values:
        template = parse_template(value) if variables else None
        if template is None:
            fixed.append(value)
        else:
            templates.append(template)
    return ResourceMatcher(WildcardSet.build(fixed), tuple(templates))
