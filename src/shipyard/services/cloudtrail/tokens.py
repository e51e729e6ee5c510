"""LookupEvents' ``NextToken``: where the previous page ended, bound to the query it paged.

AWS refuses a token used with other parameters than the request that made it; the token
carries a digest of the query so that is detected here too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from shipyard.audit import LookupQuery, Position
from shipyard.errors import AwsError


def encode(position: Position, query: LookupQuery) -> str:
    """The token that resumes ``query`` after ``position``."""
    payload = {"t": position.time_ms, "s": position.seq, "q": _digest(query)}
    return base64.urlsafe_b64encode(
        json.dumps(payload, separators=(",", ":")).encode()
    ).decode("ascii")


def decode(token: str, query: LookupQuery) -> Position:
    """The position ``token`` names; ``InvalidNextTokenException`` if it is not one of ours for ``query``."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        position = Position(int(payload["t"]), int(payload["s"]))
        digest = payload["q"]
    except (
        ValueError,
        KeyError,
        TypeError,
        UnicodeEncodeError,
        binascii.Error,
    ) as error:
        raise AwsError(
            "InvalidNextTokenException", "Invalid NextToken.", 400
        ) from error
    if digest != _digest(query):
        raise AwsError(
            "InvalidNextTokenException",
            "The NextToken was issued for a request with different parameters.",
            400,
        )
    return position


def _digest(query: LookupQuery) -> str:
    parts = [
        query.attribute or "",
        query.value or "",
        query.start.isoformat() if query.start else "",
        query.end.isoformat() if query.end else "",
    ]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]
