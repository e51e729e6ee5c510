"""Scalar values on the wire: timestamps, blobs, and text forms of typed members.

Every protocol writes scalars as text somewhere (query forms, XML elements, HTTP headers,
URI labels); these helpers convert between that text and the Python values services see:
``datetime`` (timezone-aware UTC), ``bytes``, ``int``, ``float``, ``bool``, ``str``.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import json
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

import botocore.utils
from botocore.model import Shape

ISO8601 = "iso8601"
RFC822 = "rfc822"
EPOCH = "unixtimestamp"


class InvalidValue(ValueError):
    """A request value that does not fit its shape; codecs answer it in their own terms."""


def to_datetime(value: Any) -> datetime:
    """A timezone-aware UTC datetime from a datetime (naive means UTC), epoch number or text."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        return parse_timestamp(value)
    raise InvalidValue(f"not a timestamp: {value!r}")


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601, RFC 822 or epoch-seconds timestamp into a UTC datetime."""
    text = text.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            try:
                parsed = botocore.utils.parse_timestamp(text)
            except (TypeError, ValueError, OverflowError) as exc:
                raise InvalidValue(f"not a timestamp: {text!r}") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(value: Any, fmt: str) -> str | int | float:
    """``value`` as ``fmt`` (``iso8601``, ``rfc822`` or ``unixTimestamp``, any case).

    ISO 8601 always carries milliseconds (``2026-11-23T10:00:00.000Z``, as S3 sends);
    epoch seconds are an ``int`` when whole, else a float with millisecond precision.
    """
    moment = to_datetime(value)
    fmt = fmt.lower()
    if fmt == ISO8601:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    seconds = calendar.timegm(moment.utctimetuple())
    if fmt == RFC822:
        return formatdate(seconds, usegmt=True)
    if moment.microsecond // 1000:
        return seconds + (moment.microsecond // 1000) / 1000
    return seconds


def timestamp_format(shape: Shape, default: str) -> str:
    """The member's own ``timestampFormat`` if it has one, else ``default``."""
    return shape.serialization.get("timestampFormat", default)


def b64encode(value: bytes | str) -> str:
    """Base64 text of a blob (text blobs are UTF-8 encoded first)."""
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(value).decode("ascii")


def b64decode(text: str | bytes) -> bytes:
    """The blob that base64 ``text`` holds."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidValue("invalid base64 data") from exc


def from_text(shape: Shape, text: str) -> Any:
    """The typed value of scalar ``shape`` written as ``text`` (form field, XML, header)."""
    kind = shape.type_name
    try:
        if kind in ("string", "character"):
            if shape.serialization.get("jsonvalue"):
                return json.loads(b64decode(text))
            return text
        if kind in ("integer", "long", "short", "byte"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise InvalidValue(f"not a boolean: {text!r}")
            return lowered == "true"
    except (ValueError, TypeError) as exc:
        raise InvalidValue(f"invalid {kind} value: {text!r}") from exc
    if kind == "timestamp":
        return parse_timestamp(text)
    if kind == "blob":
        return b64decode(text)
    raise InvalidValue(f"a {kind} cannot be written as text")


def to_text(shape: Shape, value: Any, timestamp_default: str = ISO8601) -> str:
    """Scalar ``value`` of ``shape`` as wire text (the inverse of :func:`from_text`)."""
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return str(format_timestamp(value, timestamp_format(shape, timestamp_default)))
    if kind == "blob":
        return b64encode(value)
    if kind in ("float", "double"):
        return repr(float(value))
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return b64encode(json.dumps(value, separators=(",", ":")))
    return str(value)
