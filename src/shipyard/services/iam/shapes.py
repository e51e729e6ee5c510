"""IAM's output structures (User, Group, Role, Policy, PolicyVersion) from store records.

Listing operations return a subset of an entity's members, as AWS's do (no tags, no
permissions boundary); ``full`` selects the complete form of Get*/Create*. Policy
documents go out URL-encoded, as IAM sends them (botocore decodes them into dicts).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shipyard.iam.entities import tag_list
from shipyard.iam.records import Group, ManagedPolicy, PolicyVersion, Role, User


def encoded(document: str) -> str:
    """A policy document as IAM answers it: URL-encoded."""
    return quote(document, safe="")


def boundary(arn: str | None) -> dict[str, Any] | None:
    """The ``PermissionsBoundary`` member for a boundary ARN (None: omitted)."""
    if arn is None:
        return None
    return {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": arn,
    }


def user(entity: User, *, full: bool = True) -> dict[str, Any]:
    """An IAM ``User`` structure."""
    out: dict[str, Any] = {
        "Path": entity.path,
        "UserName": entity.name,
        "UserId": entity.id,
        "Arn": entity.arn,
        "CreateDate": entity.created,
    }
    if full:
        out["PermissionsBoundary"] = boundary(entity.boundary_arn)
        out["Tags"] = tag_list(entity.tags) or None
    return out


def group(entity: Group) -> dict[str, Any]:
    """An IAM ``Group`` structure."""
    return {
        "Path": entity.path,
        "GroupName": entity.name,
        "GroupId": entity.id,
        "Arn": entity.arn,
        "CreateDate": entity.created,
    }


def role(entity: Role, *, full: bool = True) -> dict[str, Any]:
    """An IAM ``Role`` structure."""
    out: dict[str, Any] = {
        "Path": entity.path,
        "RoleName": entity.name,
        "RoleId": entity.id,
        "Arn": entity.arn,
        "CreateDate": entity.created,
        "AssumeRolePolicyDocument": encoded(entity.trust_policy),
        "Description": entity.description,
        "MaxSessionDuration": entity.max_session_duration,
    }
    if full:
        out["PermissionsBoundary"] = boundary(entity.boundary_arn)
        out["Tags"] = tag_list(entity.tags) or None
        out["RoleLastUsed"] = {}
    return out


def policy(entity: ManagedPolicy, *, full: bool = True) -> dict[str, Any]:
    """An IAM ``Policy`` (managed policy) structure."""
    out: dict[str, Any] = {
        "PolicyName": entity.name,
        "PolicyId": entity.id,
        "Arn": entity.arn,
        "Path": entity.path,
        "DefaultVersionId": entity.default_version,
        "AttachmentCount": entity.attachment_count,
        "PermissionsBoundaryUsageCount": entity.boundary_count,
        "IsAttachable": True,
        "CreateDate": entity.created,
        "UpdateDate": entity.updated,
    }
    if full:
        out["Description"] = entity.description
        out["Tags"] = tag_list(entity.tags) or None
    return out


def version(entity: PolicyVersion, *, with_document: bool = True) -> dict[str, Any]:
    """An IAM ``PolicyVersion`` structure."""
    return {
        "Document": encoded(entity.document) if with_document else None,
        "VersionId": entity.version_id,
        "IsDefaultVersion": entity.is_default,
        "CreateDate": entity.created,
    }


def attached(policies: list[ManagedPolicy]) -> list[dict[str, str]]:
    """``AttachedPolicy`` structures: name and ARN."""
    return [{"PolicyName": p.name, "PolicyArn": p.arn} for p in policies]
