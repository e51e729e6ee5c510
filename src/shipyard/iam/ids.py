"""Ids, ARNs and names of IAM entities, shaped as AWS's."""

from __future__ import annotations

import secrets
import string
from typing import Literal

EntityKind = Literal["user", "group", "role"]

#: The first four characters of each kind of unique id (AIDA..., AGPA..., AROA..., ANPA...).
ID_PREFIXES = {"user": "AIDA", "group": "AGPA", "role": "AROA", "policy": "ANPA"}

_ID_ALPHABET = string.ascii_uppercase + "234567"

#: Where AWS managed policies live: ``arn:aws:iam::aws:policy/<path><name>``.
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


def new_id(kind: str) -> str:
    """A unique id of ``kind`` (``user``, ``group``, ``role``, ``policy``): prefix + 17 characters."""
    return ID_PREFIXES[kind] + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def entity_arn(account_id: str, kind: str, path: str, name: str) -> str:
    """``arn:aws:iam::<account>:<kind><path><name>`` (the path starts and ends with ``/``)."""
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


def parse_entity_arn(arn: str) -> tuple[str, str, str, str] | None:
    """``(account, kind, path, name)`` of an IAM ARN such as ``arn:aws:iam::1234:user/a/b``, else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "iam"] or parts[3] != "":
        return None
    kind, slash, rest = parts[5].partition("/")
    if not slash or not rest:
        return None
    path, _, name = rest.rpartition("/")
    return parts[4], kind, f"/{path}/" if path else "/", name


def name_key(name: str) -> str:
    """The case-insensitive form IAM compares names by."""
    return name.lower()
