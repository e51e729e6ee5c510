"""IAM: actions are ``iam:<Operation>``; the resource is the user, group, role or policy named.

ARNs are built without paths (``arn:aws:iam::<account>:user/<name>``); the authorizer puts
an existing entity's path back. Operations whose ``UserName`` is optional act on the caller
when it is left out, so the caller's own ARN is their resource.

Workload identity providers and templates are named by their ARNs
(``arn:aws:iam::<account>:workload-identity-provider/<name>``,
``...:workload-identity-template/<name>``, as the IAM API reference shows them); a provider
being created is named after its ``ProviderName``. An ``ORGANIZATION``-scoped one carries the
organization id in place of the account, which a request does not say: it is built with the
account's.
"""

from __future__ import annotations

from typing import Any

from shipyard.iam.actions.base import ArnBuilder, Request, RequiredAction, passthrough
from shipyard.iam.actions.generic import ConditionKey, ServiceTable


def global_arn(kind: str) -> ArnBuilder:
    """``arn:aws:iam::<account>:<kind>/<value>`` (an ARN value passes)."""

    def build(value: Any, request: Request) -> str | None:
        if not isinstance(value, str) or not value:
            return None
        return (
            value
            if value.startswith("arn:")
            else f"arn:aws:iam::{request.account_id}:{kind}/{value}"
        )

    return build


_named_user = global_arn("user")


def _user(value: Any, request: Request) -> str | None:
    """The user named, or the calling user where the name is left out."""
    if value is None:
        return (
            request.caller_arn
            if request.caller_arn and ":user/" in request.caller_arn
            else None
        )
    return _named_user(value, request)


def _change_password(request: Request) -> list[RequiredAction]:
    """ChangePassword: always the caller's own password."""
    return [RequiredAction("iam:ChangePassword", (_user(None, request) or "*",))]


TABLE = ServiceTable(
    prefix="iam",
    # In priority order: AddUserToGroup acts on the group, AttachUserPolicy on the user.
    resources={
        "InstanceProfileName": global_arn("instance-profile"),
        "GroupName": global_arn("group"),
        "UserName": _user,
        "RoleName": global_arn("role"),
        "PolicyArn": passthrough,
        "PolicySourceArn": passthrough,
        "OpenIDConnectProviderArn": passthrough,
        "SAMLProviderArn": passthrough,
        "WorkloadIdentityProviderArn": passthrough,
        "WorkloadIdentityTemplateArn": passthrough,
        "ServerCertificateName": global_arn("server-certificate"),
        "VirtualMFADeviceName": global_arn("mfa"),
        "SerialNumber": passthrough,
        "Arn": passthrough,
        "EntityArn": passthrough,
        "PolicyName": global_arn("policy"),
        "NewUserName": _named_user,
        "NewGroupName": global_arn("group"),
        "NewServerCertificateName": global_arn("server-certificate"),
    },
    # Renaming needs the action on the old and the new name.
    also={
        "UpdateUser": ("NewUserName",),
        "UpdateGroup": ("NewGroupName",),
        "UpdateServerCertificate": ("NewServerCertificateName",),
    },
    nouns={
        "SAMLProvider": global_arn("saml-provider"),
        "WorkloadIdentityProvider": global_arn("workload-identity-provider"),
    },
    noun_members=("Name", "ProviderName"),
    conditions=(
        ConditionKey(
            "iam:PolicyARN",
            ("PolicyArn",),
            operations=r"(Attach|Detach)(User|Group|Role)Policy",
        ),
        ConditionKey("iam:PermissionsBoundary", ("PermissionsBoundary",)),
        ConditionKey("iam:AWSServiceName", ("AWSServiceName",)),
    ),
    overrides={"ChangePassword": _change_password},
    optional_resources=frozenset({"UserName"}),
    not_resources=frozenset({"AWSServiceName", "TemplateArn", "ServiceName"}),
)
