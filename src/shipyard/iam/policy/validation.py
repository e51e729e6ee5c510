"""Policy document validation in IAM's order, raising IAM's MalformedPolicyDocument messages.

IAM checks a document in phases and reports the first phase that fails: the grammar
("Syntax errors in policy."), then the legacy parser (exact-case Effect, dates, ARN
shapes), unique Sids, actions, resource ARN formats, action vendors, and finally what the
kind of policy requires (no Principal in identity policies, one in resource and trust
policies, no Resource in trust policies).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shipyard.iam.policy import malformed as m
from shipyard.iam.policy.conditions import condition_text, split_operator
from shipyard.iam.policy.document import PolicyType
from shipyard.iam.policy.operators import parse_date

VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
CURRENT_VERSION = "2012-10-17"
_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal"}
    | {"NotPrincipal", "Condition"}
)
_EXCLUSIVE = (
    ("Action", "NotAction"),
    ("Resource", "NotResource"),
    ("Principal", "NotPrincipal"),
)
_PARTITIONS = frozenset(
    {
        "aws",
        "aws-cn",
        "aws-us-gov",
        "aws-iso",
        "aws-iso-b",
        "aws-iso-e",
        "aws-iso-f",
        "aws-eusc",
    }
)
_IAM_PATHS = (
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
)
_VENDOR = re.compile(r"[A-Za-z0-9.-]+\Z")


def entries(statement: Mapping[str, Any], key: str) -> list[str]:
    """The string-or-list element ``key`` of a statement as a list (empty if absent)."""
    value = statement.get(key)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def validate(document: Any, policy_type: PolicyType) -> list[Mapping[str, Any]]:
    """Check ``document`` (decoded JSON); return its statements as a list."""
    statements = _syntax(document)
    variables = document.get("Version") == CURRENT_VERSION
    resource_error: str | None = None
    for statement in statements:
        _legacy_statement(statement, variables)
    for statement in statements:
        for key in ("Resource", "NotResource"):
            for resource in entries(statement, key):
                resource_error = resource_error or _resource_format_error(resource)
            if resource_error is None:
                _legacy_resources(entries(statement, key))
    _unique_sids(statements)
    for statement in statements:
        if not (entries(statement, "Action") or entries(statement, "NotAction")):
            raise m.malformed(m.NO_ACTIONS)
    if resource_error is not None:
        raise m.malformed(resource_error)
    for statement in statements:
        for action in entries(statement, "Action") + entries(statement, "NotAction"):
            _vendor(action)
    for statement in statements:
        _policy_type_rules(statement, policy_type)
    return statements


def _syntax(document: Any) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping) or not set(document) <= _TOP_LEVEL:
        raise m.malformed(m.SYNTAX)
    if "Version" in document and document["Version"] not in VERSIONS:
        raise m.malformed(m.SYNTAX)
    if "Id" in document and not isinstance(document["Id"], str):
        raise m.malformed(m.SYNTAX)
    raw = document.get("Statement")
    statements = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(statements, list) or not statements:
        raise m.malformed(m.SYNTAX)
    for statement in statements:
        if not _statement_syntax_ok(statement):
            raise m.malformed(m.SYNTAX)
    return statements


def _statement_syntax_ok(statement: Any) -> bool:
    if not isinstance(statement, Mapping) or not set(statement) <= _STATEMENT_KEYS:
        return False
    if any(a in statement and b in statement for a, b in _EXCLUSIVE):
        return False
    effect = statement.get("Effect")
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        return False
    if "Sid" in statement and not isinstance(statement["Sid"], str):
        return False
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        value = statement.get(key, "")
        if not isinstance(value, str | list) or not all(
            isinstance(v, str) for v in value
        ):
            return False
    return _condition_syntax_ok(statement.get("Condition", {}))


def _condition_syntax_ok(block: Any) -> bool:
    if not isinstance(block, Mapping):
        return False
    for name, keys in block.items():
        if not isinstance(keys, Mapping):
            return False
        if keys and split_operator(name).operator is None:
            return False
        for value in keys.values():
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str | bool | int | float) for v in values):
                return False
    return True


def _legacy_statement(statement: Mapping[str, Any], variables: bool) -> None:
    if statement["Effect"] not in ("Allow", "Deny"):
        raise m.malformed(m.LEGACY)
    for name, keys in statement.get("Condition", {}).items():
        operator = split_operator(name).operator
        if operator is None or not operator.name.startswith("Date"):
            continue
        for value in keys.values():
            for text in map(
                condition_text, value if isinstance(value, list) else [value]
            ):
                if not (variables and "${" in text) and parse_date(text) is None:
                    raise m.malformed(m.LEGACY)


def _legacy_resources(resources: list[str]) -> None:
    for resource in resources:
        if resource == "*":
            continue
        parts = resource.split(":")
        if ("::" in resource and len(parts) < 6) or len(parts) < 3 or parts[2] == "":
            raise m.malformed(m.LEGACY)


def _resource_format_error(resource: str) -> str | None:
    if resource == "*":
        return None
    _, colon, rest = resource.partition(":")
    if not colon:
        return f'Resource {resource} must be in ARN format or "*".'
    partition, colon, rest = rest.partition(":")
    if partition != "*" and partition not in _PARTITIONS:
        fields = rest.split(":") if rest else []
        fields += ["*"] * (4 - len(fields))
        shown = ":".join([*fields[:3], ":".join(fields[3:])])
        return f'Partition "{partition}" is not valid for resource "arn:{partition}:{shown}".'
    if not colon:
        return m.VENDOR_NOT_FULLY_QUALIFIED
    service, _, rest = rest.partition(":")
    region, _, rest = rest.partition(":")
    _, _, path = rest.partition(":")
    if region and service == "iam":
        return f"IAM resource {resource} cannot contain region information."
    if region and service == "s3" and not path.startswith("accesspoint/"):
        return f"Resource {resource} can not contain region information."
    if service == "iam" and path != "*" and not path.startswith(_IAM_PATHS):
        return m.IAM_PATH
    return None


def _unique_sids(statements: list[Mapping[str, Any]]) -> None:
    seen: set[str] = set()
    for statement in statements:
        sid = statement.get("Sid")
        if sid:
            if sid in seen:
                raise m.malformed(m.DUPLICATE_SID)
            seen.add(sid)


def _vendor(action: str) -> None:
    if action == "*":
        return
    parts = action.split(":")
    if len(parts) == 1:
        raise m.malformed(m.NO_VENDOR)
    if len(parts) > 2:
        raise m.malformed(m.TWO_COLONS)
    if parts[0] != "*" and not _VENDOR.match(parts[0]):
        raise m.malformed(f"Vendor {parts[0]} is not valid")


def _policy_type_rules(statement: Mapping[str, Any], policy_type: PolicyType) -> None:
    has_principal = "Principal" in statement or "NotPrincipal" in statement
    has_resource = "Resource" in statement or "NotResource" in statement
    if policy_type is PolicyType.IDENTITY and has_principal:
        raise m.malformed(m.HAS_PRINCIPAL)
    if policy_type is PolicyType.TRUST:
        if has_resource:
            raise m.malformed(m.TRUST_WITH_RESOURCE)
        if not has_principal:
            raise m.malformed(m.TRUST_WITHOUT_PRINCIPAL)
        return
    if not (entries(statement, "Resource") or entries(statement, "NotResource")):
        raise m.malformed(m.NO_RESOURCES)
    if policy_type is PolicyType.RESOURCE and not has_principal:
        raise m.malformed(m.MISSING_PRINCIPAL)
