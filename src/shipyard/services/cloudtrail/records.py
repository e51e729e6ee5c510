"""An audit event as CloudTrail writes it: the ``CloudTrailEvent`` record and the lookup entry."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from shipyard.audit import AuditEvent, describe

EVENT_VERSION = "1.08"

#: CloudTrail's ``userIdentity.type`` for each principal kind.
_IDENTITY_TYPES = {
    "root": "Root",
    "user": "IAMUser",
    "assumed-role": "AssumedRole",
    "anonymous": "AWSAccount",
}


def lookup_entry(event: AuditEvent, account_id: str) -> dict[str, Any]:
    """One member of LookupEvents' ``Events``."""
    entry: dict[str, Any] = {
        "EventId": event.event_id,
        "EventName": event.operation or "",
        "ReadOnly": "true" if event.read_only else "false",
        "EventTime": event.time,
        "EventSource": event.event_source or "",
        "Resources": [
            {"ResourceType": resource.type, "ResourceName": resource.name}
            for resource in map(describe, event.resources)
        ],
        "CloudTrailEvent": json.dumps(
            cloudtrail_record(event, account_id), separators=(",", ":")
        ),
    }
    if event.access_key_id:
        entry["AccessKeyId"] = event.access_key_id
    if event.username:
        entry["Username"] = event.username
    return entry


def cloudtrail_record(event: AuditEvent, account_id: str) -> dict[str, Any]:
    """The CloudTrail JSON record of ``event`` (management event of an API call)."""
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": _user_identity(event, account_id),
        "eventTime": event.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": event.event_source,
        "eventName": event.operation,
        "awsRegion": event.region,
        "sourceIPAddress": event.source_ip,
        "userAgent": event.user_agent,
    }
    if event.error_code:
        record["errorCode"] = event.error_code
        record["errorMessage"] = event.error_message
    record.update(
        requestParameters=event.parameters,
        responseElements=None,
        requestID=event.request_id,
        eventID=event.event_id,
        readOnly=event.read_only,
    )
    if event.resources:
        record["resources"] = [
            {"accountId": account_id, "type": resource.type, "ARN": resource.arn}
            for resource in map(describe, event.resources)
        ]
    record.update(
        eventType="AwsApiCall",
        managementEvent=True,
        recipientAccountId=account_id,
        eventCategory="Management",
    )
    return record


def _user_identity(event: AuditEvent, account_id: str) -> dict[str, Any]:
    kind = event.principal_kind
    if kind is None:
        # Refused before the signer was known: all there is, is the key it claimed.
        identity: dict[str, Any] = {"type": "Unknown"}
        if event.access_key_id:
            identity["accessKeyId"] = event.access_key_id
        return identity
    if kind == "anonymous":
        return {
            "type": _IDENTITY_TYPES[kind],
            "principalId": "",
            "accountId": "anonymous",
        }
    identity = {
        "type": _IDENTITY_TYPES.get(kind, "Unknown"),
        "principalId": event.principal_id or (account_id if kind == "root" else ""),
        "arn": event.principal_arn,
        "accountId": account_id,
    }
    if event.access_key_id:
        identity["accessKeyId"] = event.access_key_id
    if kind == "user":
        identity["userName"] = event.username
    if kind == "assumed-role" and event.principal_arn:
        identity["sessionContext"] = {
            "sessionIssuer": _session_issuer(event.principal_arn, account_id)
        }
    return identity


def _session_issuer(session_arn: str, account_id: str) -> dict[str, str]:
    """The role behind an assumed-role session ARN (``.../assumed-role/<role>/<session>``)."""
    role = session_arn.split(":", 5)[-1].split("/")[1]
    return {
        "type": "Role",
        "arn": f"arn:aws:iam::{account_id}:role/{role}",
        "accountId": account_id,
        "userName": role,
    }
