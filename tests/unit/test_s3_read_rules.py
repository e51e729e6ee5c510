"""Range parsing and conditional-read precedence (pure logic behind GetObject/HeadObject)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shipyard.errors import AwsError
from shipyard.services.s3.conditions import check_read_conditions, etag_matches
from shipyard.services.s3.ranges import parse_range


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("", 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=0-9", 10, (0, 9)),
        ("bytes=2-", 10, (2, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("bytes=5-100", 10, (5, 9)),
        ("bytes = 1 - 2", 10, (1, 2)),
        ("bytes=5-2", 10, None),  # invalid: ignored, whole object
        ("bytes=0-1,4-5", 10, None),  # several ranges: ignored, as S3 does
        ("items=0-1", 10, None),
        ("bytes=-", 10, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=10-20", 10), ("bytes=-0", 10), ("bytes=0-", 0)])
def test_unsatisfiable_range(header: str, size: int) -> None:
    with pytest.raises(AwsError) as excinfo:
        parse_range(header, size)
    assert (excinfo.value.code, excinfo.value.status) == ("InvalidRange", 416)
    assert excinfo.value.headers == {"Content-Range": f"bytes */{size}"}


MODIFIED = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
ETAG = '"abc"'
BEFORE, AFTER = MODIFIED - timedelta(seconds=1), MODIFIED + timedelta(seconds=1)
SAME_SECOND = MODIFIED.replace(microsecond=0)


def outcome(**conditions: object) -> int:
    """200, or the status of the error the conditions raise."""
    values = {"if_match": None, "if_none_match": None, "if_modified_since": None, "if_unmodified_since": None}
    values.update(conditions)
    try:
        check_read_conditions(etag=ETAG, last_modified=MODIFIED, **values)  # type: ignore[arg-type]
    except AwsError as error:
        return error.status
    return 200


@pytest.mark.parametrize(
    ("conditions", "status"),
    [
        ({}, 200),
        ({"if_match": ETAG}, 200),
        ({"if_match": "abc"}, 200),
        ({"if_match": '"x", "abc"'}, 200),
        ({"if_match": "*"}, 200),
        ({"if_match": '"x"'}, 412),
        ({"if_unmodified_since": AFTER}, 200),
        ({"if_unmodified_since": SAME_SECOND}, 200),
        ({"if_unmodified_since": BEFORE}, 412),
        ({"if_match": ETAG, "if_unmodified_since": BEFORE}, 200),
        ({"if_match": '"x"', "if_unmodified_since": AFTER}, 412),
        ({"if_none_match": ETAG}, 304),
        ({"if_none_match": '"x"'}, 200),
        ({"if_none_match": "*"}, 304),
        ({"if_modified_since": BEFORE}, 200),
        ({"if_modified_since": SAME_SECOND}, 304),
        ({"if_modified_since": AFTER}, 304),
        ({"if_none_match": '"x"', "if_modified_since": AFTER}, 200),
        ({"if_none_match": ETAG, "if_modified_since": BEFORE}, 304),
        ({"if_match": '"x"', "if_none_match": ETAG}, 412),
    ],
)
def test_condition_precedence(conditions: dict[str, object], status: int) -> None:
    assert outcome(**conditions) == status


def test_error_details() -> None:
    with pytest.raises(AwsError) as excinfo:
        check_read_conditions(
            etag=ETAG, last_modified=MODIFIED, if_match='"x"', if_none_match=None, if_modified_since=None, if_unmodified_since=None
        )
    assert excinfo.value.code == "PreconditionFailed"
    assert excinfo.value.fields == {"Condition": "If-Match"}
    with pytest.raises(AwsError) as excinfo:
        check_read_conditions(
            etag=ETAG, last_modified=MODIFIED, if_match=None, if_none_match=ETAG, if_modified_since=None, if_unmodified_since=None
        )
    assert excinfo.value.headers["ETag"] == ETAG


def test_weak_etags_match() -> None:
    assert etag_matches('W/"abc"', ETAG)
    assert not etag_matches('"abcd"', ETAG)
