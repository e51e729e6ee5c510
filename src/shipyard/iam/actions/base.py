"""The vocabulary of the action table: what a request needs, and what a rule sees."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Condition keys of one request check: key -> values (always strings).
Context = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class RequiredAction:
    """One IAM action a request needs, the ARNs it is checked on, and its condition keys."""

    action: str
    resources: tuple[str, ...] = ("*",)
    context: Context = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """What a rule knows of a request: its parameters and where it is made."""

    params: Mapping[str, Any]
    region: str
    account_id: str
    caller_arn: str | None = None


#: Turns a request into the actions it needs.
Rule = Callable[[Request], list[RequiredAction]]

#: Builds a resource ARN from a request member's value (None: the member names no resource).
ArnBuilder = Callable[[Any, Request], str | None]


def passthrough(value: Any, request: Request) -> str | None:
    """The member's value, which already is an ARN."""
    return value if isinstance(value, str) and value else None


def regional(
    service: str, separator: str, kind: str, *, lower: bool = False
) -> ArnBuilder:
    """``arn:aws:<service>:<region>:<account>:<kind><separator><value>`` (an ARN value passes)."""

    def build(value: Any, request: Request) -> str | None:
        if not isinstance(value, str) or not value:
            return None
        if value.startswith("arn:"):
            return value
        name = value.lower() if lower else value
        return f"arn:aws:{service}:{request.region}:{request.account_id}:{kind}{separator}{name}"

    return build
