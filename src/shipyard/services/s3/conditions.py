"""Conditional reads (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since)
evaluated with RFC 7232's precedence, as S3 documents it."""

from __future__ import annotations

from datetime import datetime

from shipyard.errors import AwsError


def check_read_conditions(
    *,
    etag: str,
    last_modified: datetime,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | None,
    if_unmodified_since: datetime | None,
) -> None:
    """Raise 412 ``PreconditionFailed`` or 304 ``NotModified`` where a condition fails.

    If-Match, when present, decides instead of If-Unmodified-Since; If-None-Match, when
    present, decides instead of If-Modified-Since. Dates compare at one-second precision
    (HTTP dates carry no fractions).
    """
    modified = last_modified.replace(microsecond=0)
    if if_match is not None:
        if not etag_matches(if_match, etag):
            raise precondition_failed("If-Match")
    elif if_unmodified_since is not None and modified > if_unmodified_since:
        raise precondition_failed("If-Unmodified-Since")
    if if_none_match is not None:
        if etag_matches(if_none_match, etag):
            raise not_modified(etag, last_modified)
    elif if_modified_since is not None and modified <= if_modified_since:
        raise not_modified(etag, last_modified)


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match list names ``etag`` (or is ``*``)."""
    wanted = etag.strip('"')
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/").strip('"') == wanted:
            return True
    return False


def precondition_failed(condition: str) -> AwsError:
    return AwsError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": condition},
    )


def not_modified(etag: str, last_modified: datetime) -> AwsError:
    from email.utils import format_datetime

    return AwsError(
        "NotModified",
        "Not Modified",
        304,
        headers={"ETag": etag, "Last-Modified": format_datetime(last_modified, usegmt=True)},
    )
