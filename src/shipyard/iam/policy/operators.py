"""Condition operators: how one policy value is compared with one request value.

Policy values are prepared once (parsed numbers and dates, compiled patterns and
networks); a value that cannot be prepared compares false with everything.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from shipyard.iam.policy.patterns import compile_glob

_EPOCH = re.compile(r"-?\d+(?:\.\d+)?\Z")
_MAX_EPOCH = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Operator:
    """A condition operator: ``prepare`` a policy value, then ``test`` a request value.

    A negated operator (StringNotEquals...) holds the test of its positive twin;
    ``wildcards`` marks the operators whose values are wildcard patterns.
    """

    name: str
    prepare: Callable[[str], Any]
    test: Callable[[Any, str], bool]
    negated: bool = False
    wildcards: bool = False


@lru_cache(maxsize=4096)
def parse_date(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 date-time or epoch seconds, else None."""
    text = text.strip()
    if _EPOCH.match(text):
        seconds = float(text)
        return seconds if abs(seconds) <= _MAX_EPOCH else None
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@lru_cache(maxsize=4096)
def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


@lru_cache(maxsize=4096)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _arn_pattern(text: str) -> tuple[re.Pattern[str], ...] | None:
    """One pattern per ARN component; None (matches nothing) for a value not an ARN."""
    parts = text.split(":", 5)
    if len(parts) != 6:
        return None
    return tuple(compile_glob(part) for part in parts)


def _identity(text: str) -> str:
    return text


def _lower(text: str) -> str:
    return text.lower()


def _casefold(text: str) -> str:
    return text.casefold()


def _equals(expected: str, value: str) -> bool:
    return value == expected


def _equals_ignore_case(expected: str, value: str) -> bool:
    return value.casefold() == expected


def _like(pattern: re.Pattern[str], value: str) -> bool:
    return pattern.match(value) is not None


def _bool(expected: str, value: str) -> bool:
    return value.lower() == expected


def _binary_equals(expected: bytes, value: str) -> bool:
    return _binary(value) == expected


def _in_network(network: Any, value: str) -> bool:
    address = _address(value)
    return (
        network is not None
        and address is not None
        and address.version == network.version
        and address in network
    )


def _arn_like(pattern: tuple[re.Pattern[str], ...] | None, value: str) -> bool:
    parts = value.split(":", 5)
    return (
        pattern is not None
        and len(parts) == 6
        and all(
            segment.match(part) is not None
            for segment, part in zip(pattern, parts, strict=True)
        )
    )


def _compare(
    parse: Callable[[str], float | None], relation: Callable[[float, float], bool]
):
    def test(expected: float | None, value: str) -> bool:
        actual = parse(value)
        return (
            expected is not None and actual is not None and relation(actual, expected)
        )

    return test


def _family(
    prefix: str,
    parse: Callable[[str], float | None],
    names: dict[str, Callable[..., bool]],
) -> list[Operator]:
    family = [
        Operator(prefix + name, parse, _compare(parse, rel))
        for name, rel in names.items()
    ]
    equals = _compare(parse, operator.eq)
    return [*family, Operator(prefix + "NotEquals", parse, equals, negated=True)]


_RELATIONS = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}

_OPERATORS = [
    Operator("StringEquals", _identity, _equals),
    Operator("StringNotEquals", _identity, _equals, negated=True),
    Operator("StringEqualsIgnoreCase", _casefold, _equals_ignore_case),
    Operator("StringNotEqualsIgnoreCase", _casefold, _equals_ignore_case, negated=True),
    Operator("StringLike", compile_glob, _like, wildcards=True),
    Operator("StringNotLike", compile_glob, _like, negated=True, wildcards=True),
    *_family("Numeric", _number, _RELATIONS),
    *_family("Date", parse_date, _RELATIONS),
    Operator("Bool", _lower, _bool),
    Operator("BinaryEquals", _binary, _binary_equals),
    Operator("IpAddress", _network, _in_network),
    Operator("NotIpAddress", _network, _in_network, negated=True),
    Operator("ArnEquals", _arn_pattern, _arn_like),
    Operator("ArnLike", _arn_pattern, _arn_like),
    Operator("ArnNotEquals", _arn_pattern, _arn_like, negated=True),
    Operator("ArnNotLike", _arn_pattern, _arn_like, negated=True),
    Operator("Null", _lower, _equals),
]

OPERATORS: dict[str, Operator] = {op.name: op for op in _OPERATORS}
