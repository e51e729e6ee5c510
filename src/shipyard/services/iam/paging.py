"""IAM's pagination: ``Marker`` / ``MaxItems`` in, ``IsTruncated`` / ``Marker`` out.

A marker names the sort key of the last item returned, so a client that deletes what it
was given page by page still sees every item once.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from shipyard.errors import AwsError

T = TypeVar("T")

#: IAM's default page size.
DEFAULT_MAX_ITEMS = 100


def page(
    items: Sequence[T], params: dict[str, Any], key: Callable[[T], str]
) -> tuple[list[T], dict[str, Any]]:
    """One page of ``items`` (sorted by ``key``) after ``params["Marker"]``; the output's paging members."""
    limit = params.get("MaxItems") or DEFAULT_MAX_ITEMS
    remaining = list(items)
    if (marker := params.get("Marker")) is not None:
        after = _decode(marker)
        remaining = [item for item in remaining if key(item) > after]
    chosen = remaining[:limit]
    if len(remaining) > limit:
        return chosen, {"IsTruncated": True, "Marker": _encode(key(chosen[-1]))}
    return chosen, {"IsTruncated": False}


def by_position(items: Sequence[T]) -> list[tuple[str, T]]:
    """``items`` keyed by their position, for lists whose order is not a sort order (tags)."""
    return [(f"{index:08d}", item) for index, item in enumerate(items)]


def _encode(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode(marker: str) -> str:
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise AwsError("ValidationError", "Invalid Marker.", 400) from exc
