"""HTTP ``Range`` headers on S3 GetObject/HeadObject (one range of bytes; RFC 9110)."""

from __future__ import annotations

import re

from shipyard.errors import AwsError

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte positions that ``header`` selects, or None.

    None means "the whole object": no header, or one S3 ignores (syntactically invalid,
    or several ranges). An end past the last byte is clamped; a range that starts past
    the end is unsatisfiable: ``InvalidRange`` (416) with ``Content-Range: bytes */size``.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:
        suffix = int(last_text)
        if suffix == 0:
            raise _unsatisfiable(size)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        raise _unsatisfiable(size)
    return first, min(last, size - 1)


def _unsatisfiable(size: int) -> AwsError:
    return AwsError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        fields={"RangeRequested": "", "ActualObjectSize": str(size)},
        headers={"Content-Range": f"bytes */{size}"},
    )
