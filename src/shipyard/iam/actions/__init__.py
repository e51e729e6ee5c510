"""The action table: which IAM actions each operation needs, on which resources.

As AWS's Service Authorization Reference does, it says for every operation of every
service Shipyard serves which actions a request needs (``CopyObject`` needs
``s3:GetObject`` on the source and ``s3:PutObject`` on the target), on which resource
ARNs, with which request-specific condition keys (``s3:prefix``, ``aws:RequestTag/<key>``,
``sagemaker:InstanceTypes`` ...). Each operation's rule is derived from its botocore model
once, on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import ServiceModel

from shipyard.iam.actions import cloudtrail, cloudwatch, iam, logs, s3, sagemaker, sts
from shipyard.iam.actions.base import Request, RequiredAction, Rule
from shipyard.iam.actions.generic import ServiceTable, compile_operation

__all__ = ["RequiredAction", "has_entry", "read_only", "required_actions", "services"]

_TABLES: dict[str, ServiceTable] = {
    "s3": s3.TABLE,
    "iam": iam.TABLE,
    "sts": sts.TABLE,
    "cloudtrail": cloudtrail.TABLE,
    "sagemaker": sagemaker.TABLE,
    "sagemaker-runtime": sagemaker.RUNTIME,
    "logs": logs.TABLE,
    "cloudwatch": cloudwatch.TABLE,
}

#: Operation name prefixes CloudTrail records as ``readOnly``.
_READ_PREFIXES = (
    "Get",
    "List",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "Simulate",
    "BatchGet",
    "BatchDescribe",
)
#: Reads whose names do not say so.
_READS = frozenset(
    {
        ("s3", "SelectObjectContent"),
        ("logs", "FilterLogEvents"),
        ("sts", "DecodeAuthorizationMessage"),
    }
)


def services() -> tuple[str, ...]:
    """The services the table covers (botocore names)."""
    return tuple(_TABLES)


def required_actions(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    *,
    region: str,
    account_id: str,
    caller_arn: str | None = None,
) -> list[RequiredAction]:
    """Every action a request needs, with the resources and condition keys of each check.

    ``caller_arn`` is the resource of IAM operations that act on the caller when no
    ``UserName`` is given (``GetUser``, ``CreateAccessKey`` ...). Raises KeyError for an
    operation without an entry.
    """
    rule = _rule(service, operation)
    if rule is None:
        raise KeyError(f"{service}.{operation} has no entry in the action table")
    return rule(Request(params, region, account_id, caller_arn))


def has_entry(service: str, operation: str) -> bool:
    """Whether the table says what ``operation`` of ``service`` needs."""
    return _rule(service, operation) is not None


def read_only(service: str, operation: str) -> bool:
    """Whether CloudTrail records the operation as ``readOnly`` (it reads and changes nothing)."""
    return operation.startswith(_READ_PREFIXES) or (service, operation) in _READS


@functools.cache
def _rule(service: str, operation: str) -> Rule | None:
    table = _TABLES.get(service)
    if table is None:
        return None
    model = _model(service)
    if operation not in _operation_names(service):
        return None
    return compile_operation(table, model.operation_model(operation))


@functools.cache
def _model(service: str) -> ServiceModel:
    return _session().get_service_model(service)


@functools.cache
def _operation_names(service: str) -> frozenset[str]:
    return frozenset(_model(service).operation_names)


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()
