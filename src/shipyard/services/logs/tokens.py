"""Paging tokens: ``nextToken`` of the Describe/Filter operations and event positions as digits."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from shipyard.errors import AwsError
from shipyard.logs import Position

_DIGITS = 20


def encode(payload: dict[str, Any]) -> str:
    """An opaque ``nextToken`` carrying ``payload``."""
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode("ascii")


def decode(token: str, **types: type) -> dict[str, Any]:
    """The payload of a token from :func:`encode`, each key of ``types`` holding a value of that type.

    ``InvalidParameterException`` for a token that is not one of ours.
    """
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        if isinstance(payload, dict) and all(isinstance(payload.get(key), kind) for key, kind in types.items()):
            return payload
    except (ValueError, UnicodeEncodeError, binascii.Error):
        pass
    raise invalid_token()


def invalid_token() -> AwsError:
    return AwsError("InvalidParameterException", "The specified nextToken is invalid.", 400)


def digits(position: Position) -> str:
    """``position`` as a fixed-width decimal string (AWS's tokens and event ids are digits too)."""
    return f"{position.timestamp_ms:0{_DIGITS}d}{position.seq:0{_DIGITS}d}"


def from_digits(text: str) -> Position:
    """The position :func:`digits` wrote; ``InvalidParameterException`` for anything else."""
    if len(text) != 2 * _DIGITS or not text.isdigit():
        raise invalid_token()
    return Position(int(text[:_DIGITS]), int(text[_DIGITS:]))
