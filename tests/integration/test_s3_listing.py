"""Listing objects and object versions through real boto3: order, prefixes and delimiters,
every way of paging, URL encoding of awkward keys, and the listing errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError
from botocore.handlers import set_list_objects_encoding_type_url

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of

#: Keys that trip up encoders, routers and sorters, plus enough plain ones to page through.
AWKWARD_KEYS = [
    "a b",
    "a+b",
    "a%b",
    "a%20b",
    "a&b<c>'\"",
    "a~b",
    "dir/",
    "dir/one",
    "dir/two",
    "dir//double",
    "dir/sub/",
    "dir/sub/three",
    "dir/sub/four",
    "trailing/",
    "ünïcödé/ключ",
    "ünïcödé/😀",
    "日本/語",
    "plain",
    "zz top",
    "x?y=z&w#frag",
    "semi;colon",
    "tab\tkey",
    "ctrl\x01char",
]
KEYS = AWKWARD_KEYS + [f"gen/{number:03d}" for number in range(30)]

#: (prefix, delimiter) pairs every paging style is checked with.
SHAPES = [
    ("", None),
    ("", "/"),
    ("dir/", None),
    ("dir/", "/"),
    ("dir/sub/", "/"),
    ("a", "/"),
    ("a", " "),
    ("ünïcödé/", "/"),
    ("", "b"),
    ("", "//"),
    ("gen/0", None),
    ("nothing-here", "/"),
]


def utf8_sorted(keys: list[str]) -> list[str]:
    """``keys`` in S3's order: by their UTF-8 bytes."""
    return sorted(keys, key=lambda key: key.encode())


def expected_entries(keys: list[str], prefix: str = "", delimiter: str | None = None, after: str = "") -> list[str]:
    """What a listing of ``keys`` shows, in order: keys, and common prefixes (ending in the delimiter).

    ``after`` is a marker / start-after: only keys after it are listed.
    """
    entries: list[str] = []
    for key in utf8_sorted(keys):
        if not key.startswith(prefix) or key.encode() <= after.encode():
            continue
        index = key.find(delimiter, len(prefix)) if delimiter else -1
        entry = key if index < 0 else key[: index + len(delimiter or "")]
        if not entries or entries[-1] != entry:
            entries.append(entry)
    return entries


def page_entries(page: dict[str, Any]) -> list[str]:
    """A listing page's keys and common prefixes in S3's order."""
    keys = [item["Key"] for item in page.get("Contents", [])]
    prefixes = [item["Prefix"] for item in page.get("CommonPrefixes", [])]
    return utf8_sorted(keys + prefixes)


def put_all(s3: Any, bucket: str, keys: list[str]) -> dict[str, str]:
    """Store each key (its body is the key itself); their ETags."""

    def put(key: str) -> tuple[str, str]:
        return key, s3.put_object(Bucket=bucket, Key=key, Body=key.encode())["ETag"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(put, keys))


@pytest.fixture(scope="module")
def listed(server: RunningServer) -> Iterator[tuple[Any, str]]:
    """A bucket holding :data:`KEYS`, shared by the read-only tests of this module: (client, bucket)."""
    s3 = server.client("s3")
    bucket = f"listing-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    put_all(s3, bucket, KEYS)
    yield s3, bucket


# -- ListObjectsV2 --------------------------------------------------------------------------


def test_v2_lists_every_key_in_utf8_order(listed: tuple[Any, str]) -> None:
    s3, bucket = listed

    page = s3.list_objects_v2(Bucket=bucket)

    assert [item["Key"] for item in page["Contents"]] == utf8_sorted(KEYS)
    assert page["KeyCount"] == len(KEYS)
    assert (page["Name"], page["Prefix"], page["MaxKeys"], page["IsTruncated"]) == (bucket, "", 1000, False)
    assert page["EncodingType"] == "url"
    assert "NextContinuationToken" not in page
    entry = next(item for item in page["Contents"] if item["Key"] == "a+b")
    assert entry["Size"] == len(b"a+b")
    assert entry["StorageClass"] == "STANDARD"
    assert entry["ETag"].startswith('"') and entry["ETag"].endswith('"')
    assert (entry["ChecksumAlgorithm"], entry["ChecksumType"]) == (["CRC32"], "FULL_OBJECT")
    assert "Owner" not in entry


@pytest.mark.parametrize(("prefix", "delimiter"), SHAPES)
def test_v2_pages_with_continuation_tokens(listed: tuple[Any, str], prefix: str, delimiter: str | None) -> None:
    s3, bucket = listed
    expected = expected_entries(KEYS, prefix, delimiter)
    arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if delimiter:
        arguments["Delimiter"] = delimiter

    for size in (1, 3, 1000):
        pages = list(s3.get_paginator("list_objects_v2").paginate(**arguments, PaginationConfig={"PageSize": size}))
        seen = [entry for page in pages for entry in page_entries(page)]
        assert seen == expected, size
        for page in pages:
            assert page["KeyCount"] == len(page_entries(page)) <= size
            assert page["Prefix"] == prefix
            assert page.get("Delimiter") == delimiter
        assert [page["IsTruncated"] for page in pages] == [True] * (len(pages) - 1) + [False]
        assert all("NextContinuationToken" in page for page in pages[:-1])


@pytest.mark.parametrize("start_after", ["", "a b", "a+b", "a%b", "dir", "dir/", "dir/sub/four", "ünïcödé/ключ", "gen/017", "zzzz"])
def test_v2_start_after(listed: tuple[Any, str], start_after: str) -> None:
    s3, bucket = listed

    page = s3.list_objects_v2(Bucket=bucket, StartAfter=start_after)

    assert [item["Key"] for item in page.get("Contents", [])] == expected_entries(KEYS, after=start_after)
    if start_after:
        assert page["StartAfter"] == start_after
    else:
        assert "StartAfter" not in page


def test_v2_start_after_with_a_delimiter_and_paging(listed: tuple[Any, str]) -> None:
    s3, bucket = listed
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Delimiter="/", StartAfter="a~b", PaginationConfig={"PageSize": 2}
    )

    seen = [entry for page in pages for entry in page_entries(page)]

    assert seen == expected_entries(KEYS, "", "/", after="a~b")
    assert seen[:2] == ["ctrl\x01char", "dir/"]


def test_v2_continuation_token_wins_over_start_after(listed: tuple[Any, str]) -> None:
    s3, bucket = listed
    first = s3.list_objects_v2(Bucket=bucket, MaxKeys=2)

    second = s3.list_objects_v2(
        Bucket=bucket, MaxKeys=2, ContinuationToken=first["NextContinuationToken"], StartAfter="zzzz"
    )

    assert [item["Key"] for item in second["Contents"]] == utf8_sorted(KEYS)[2:4]
    assert second["ContinuationToken"] == first["NextContinuationToken"]
    assert second["StartAfter"] == "zzzz"


def test_v2_echoes_awkward_prefix_and_delimiter_decoded(listed: tuple[Any, str]) -> None:
    s3, bucket = listed
    for prefix in ("a b", "a+b", "a%", "ünïcödé/", "a&b<"):
        page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="+")
        assert (page["Prefix"], page["Delimiter"]) == (prefix, "+")
        assert page_entries(page) == expected_entries(KEYS, prefix, "+")
    grouped = s3.list_objects_v2(Bucket=bucket, Delimiter="+")
    assert "a+" in [p["Prefix"] for p in grouped["CommonPrefixes"]]


def test_v2_fetch_owner(listed: tuple[Any, str]) -> None:
    s3, bucket = listed

    page = s3.list_objects_v2(Bucket=bucket, FetchOwner=True, MaxKeys=3)

    owners = [item["Owner"] for item in page["Contents"]]
    assert len(owners) == 3
    assert all(len(owner["ID"]) == 64 and owner["DisplayName"] for owner in owners)
    assert owners.count(owners[0]) == 3


def test_v2_max_keys(listed: tuple[Any, str]) -> None:
    s3, bucket = listed

    empty = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert (empty["KeyCount"], empty["MaxKeys"], empty["IsTruncated"]) == (0, 0, False)
    assert "Contents" not in empty
    big = s3.list_objects_v2(Bucket=bucket, MaxKeys=5000)
    assert (big["KeyCount"], big["MaxKeys"], big["IsTruncated"]) == (len(KEYS), 5000, False)
    one = s3.list_objects_v2(Bucket=bucket, MaxKeys=1, Delimiter="/")
    assert (one["KeyCount"], one["IsTruncated"]) == (1, True)


@pytest.mark.parametrize(
    "arguments",
    [{"MaxKeys": -1}, {"ContinuationToken": "not a token"}, {"ContinuationToken": ""}, {"EncodingType": "base64"}],
)
def test_v2_bad_arguments_are_invalid_argument(listed: tuple[Any, str], arguments: dict[str, Any]) -> None:
    s3, bucket = listed
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=bucket, **arguments)
    assert error_of(excinfo) == ("InvalidArgument", 400)


def test_keys_are_percent_encoded_on_the_wire(listed: tuple[Any, str]) -> None:
    s3, bucket = listed
    bodies: list[bytes] = []

    def capture(http_response: Any, **_: Any) -> None:
        bodies.append(http_response.content)

    s3.meta.events.register("after-call.s3.ListObjectsV2", capture)
    try:
        page = s3.list_objects_v2(Bucket=bucket, Prefix="a", StartAfter="a b")
    finally:
        s3.meta.events.unregister("after-call.s3.ListObjectsV2", capture)

    # boto3 decodes with unquote_plus: a raw '+' would read back as a space.
    assert b"<Key>a%2Bb</Key>" in bodies[0]
    assert b"<Key>a%2520b</Key>" in bodies[0]
    assert b"<StartAfter>a+b</StartAfter>" in bodies[0]
    assert [item["Key"] for item in page["Contents"]][:2] == ["a%20b", "a%b"]


def test_listing_without_encoding_type_sends_keys_as_they_are(server: RunningServer, listed: tuple[Any, str]) -> None:
    _, bucket = listed
    s3 = server.client("s3")
    s3.meta.events.unregister("before-parameter-build.s3.ListObjectsV2", set_list_objects_encoding_type_url)

    page = s3.list_objects_v2(Bucket=bucket, Prefix="a")

    assert "EncodingType" not in page
    assert [item["Key"] for item in page["Contents"]] == expected_entries(KEYS, "a")


# -- ListObjects (v1) -------------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "delimiter"), SHAPES)
def test_v1_pages_with_markers(listed: tuple[Any, str], prefix: str, delimiter: str | None) -> None:
    s3, bucket = listed
    expected = expected_entries(KEYS, prefix, delimiter)
    arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if delimiter:
        arguments["Delimiter"] = delimiter

    for size in (2, 1000):
        pages = list(s3.get_paginator("list_objects").paginate(**arguments, PaginationConfig={"PageSize": size}))
        seen = [entry for page in pages for entry in page_entries(page)]
        assert seen == expected, size
        assert [page["IsTruncated"] for page in pages] == [True] * (len(pages) - 1) + [False]
        for page in pages[:-1]:
            # S3 sends NextMarker only with a delimiter; boto3 then resumes after the last key.
            if delimiter:
                assert page["NextMarker"] == page_entries(page)[-1]
            else:
                assert "NextMarker" not in page


@pytest.mark.parametrize("marker", ["a b", "a+b", "a%20b", "dir/sub/", "ünïcödé/😀", "tab\tkey"])
def test_v1_marker(listed: tuple[Any, str], marker: str) -> None:
    s3, bucket = listed

    page = s3.list_objects(Bucket=bucket, Marker=marker)

    assert [item["Key"] for item in page["Contents"]] == expected_entries(KEYS, after=marker)
    assert page["Marker"] == marker


def test_v1_always_shows_the_owner_and_echoes_the_request(listed: tuple[Any, str]) -> None:
    s3, bucket = listed

    page = s3.list_objects(Bucket=bucket, Prefix="a+", Delimiter="/", MaxKeys=10)

    assert [item["Key"] for item in page["Contents"]] == ["a+b"]
    assert all(len(item["Owner"]["ID"]) == 64 for item in page["Contents"])
    assert (page["Name"], page["Delimiter"], page["MaxKeys"], page["Marker"]) == (bucket, "/", 10, "")
    # S3 encodes ListObjects' Prefix too, and boto3 does not decode that one member.
    assert unquote_plus(page["Prefix"]) == "a+"


def test_v1_bad_max_keys_is_invalid_argument(listed: tuple[Any, str]) -> None:
    s3, bucket = listed
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects(Bucket=bucket, MaxKeys=-5)
    assert error_of(excinfo) == ("InvalidArgument", 400)


def test_listings_of_a_missing_bucket_are_no_such_bucket(s3: Any) -> None:
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    for call in (s3.list_objects, s3.list_objects_v2, s3.list_object_versions):
        with pytest.raises(ClientError) as excinfo:
            call(Bucket=missing)
        assert error_of(excinfo) == ("NoSuchBucket", 404), call


def test_listing_shows_storage_class_and_checksum_algorithm(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="sha", Body=b"x", ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket=bucket, Key="ia", Body=b"y", StorageClass="STANDARD_IA")

    contents = {item["Key"]: item for item in s3.list_objects_v2(Bucket=bucket)["Contents"]}

    assert (contents["sha"]["ChecksumAlgorithm"], contents["sha"]["ChecksumType"]) == (["SHA256"], "FULL_OBJECT")
    assert contents["ia"]["StorageClass"] == "STANDARD_IA"
    assert contents["sha"]["StorageClass"] == "STANDARD"


def test_deleted_keys_leave_the_listing(s3: Any, bucket: str) -> None:
    put_all(s3, bucket, ["keep", "drop/1", "drop/2"])
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "drop/1"}, {"Key": "drop/2"}]})

    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")

    assert page_entries(page) == ["keep"]
    assert page["KeyCount"] == 1


# -- ListObjectVersions -------------------------------------------------------------------------


def version_entries(page: dict[str, Any]) -> list[tuple[str, str, bool, bool]]:
    """A versions page as (key, version id, is latest, is delete marker), in S3's order."""
    entries = [(v["Key"], v["VersionId"], v["IsLatest"], False) for v in page.get("Versions", [])]
    entries += [(m["Key"], m["VersionId"], m["IsLatest"], True) for m in page.get("DeleteMarkers", [])]
    # Newest first within a key; every version id here sorts by age except "null" (oldest).
    return sorted(entries, key=lambda e: (e[0].encode(), e[1] == "null", [-ord(c) for c in e[1]]))


def test_versions_after_overwrites_and_deletes(s3: Any, bucket: str) -> None:
    unversioned = s3.put_object(Bucket=bucket, Key="doc", Body=b"null version")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="doc", Body=b"one")
    v2 = s3.put_object(Bucket=bucket, Key="doc", Body=b"second")
    marker = s3.delete_object(Bucket=bucket, Key="doc")
    kept = s3.put_object(Bucket=bucket, Key="keep", Body=b"kept")
    gone = s3.put_object(Bucket=bucket, Key="gone", Body=b"gone")
    s3.delete_object(Bucket=bucket, Key="gone", VersionId=gone["VersionId"])

    listing = s3.list_object_versions(Bucket=bucket)

    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listing["Versions"]] == [
        ("doc", v2["VersionId"], False),
        ("doc", v1["VersionId"], False),
        ("doc", "null", False),
        ("keep", kept["VersionId"], True),
    ]
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [
        ("doc", marker["VersionId"], True)
    ]
    assert [v["ETag"] for v in listing["Versions"]] == [v2["ETag"], v1["ETag"], unversioned["ETag"], kept["ETag"]]
    assert [v["Size"] for v in listing["Versions"]] == [6, 3, 12, 4]
    assert all(len(entry["Owner"]["ID"]) == 64 for entry in listing["Versions"] + listing["DeleteMarkers"])
    assert (listing["KeyMarker"], listing["VersionIdMarker"], listing["IsTruncated"]) == ("", "", False)
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep"]

    # One entry per page: versions and delete markers interleave in listing order.
    pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1}))
    assert [entry[:2] for page in pages for entry in version_entries(page)] == [
        ("doc", marker["VersionId"]),
        ("doc", v2["VersionId"]),
        ("doc", v1["VersionId"]),
        ("doc", "null"),
        ("keep", kept["VersionId"]),
    ]
    assert (pages[0]["NextKeyMarker"], pages[0]["NextVersionIdMarker"]) == ("doc", marker["VersionId"])

    after_key = s3.list_object_versions(Bucket=bucket, KeyMarker="doc")
    assert [entry[:2] for entry in version_entries(after_key)] == [("keep", kept["VersionId"])]
    after_version = s3.list_object_versions(Bucket=bucket, KeyMarker="doc", VersionIdMarker=v2["VersionId"])
    assert [entry[1] for entry in version_entries(after_version)] == [v1["VersionId"], "null", kept["VersionId"]]
    assert (after_version["KeyMarker"], after_version["VersionIdMarker"]) == ("doc", v2["VersionId"])


def test_versions_of_an_unversioned_bucket_are_null(s3: Any, bucket: str) -> None:
    put_all(s3, bucket, ["one", "two"])

    listing = s3.list_object_versions(Bucket=bucket)

    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listing["Versions"]] == [
        ("one", "null", True),
        ("two", "null", True),
    ]
    assert "DeleteMarkers" not in listing


def test_versions_page_through_awkward_keys_with_a_delimiter(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    keys = ["p q/1", "p+q/2", "p+q", "p q", "p%q", "ü/x", "plain"]
    for _ in range(2):
        put_all(s3, bucket, keys)
    s3.delete_object(Bucket=bucket, Key="p q")

    whole = s3.list_object_versions(Bucket=bucket, Delimiter="/", Prefix="p")
    assert [p["Prefix"] for p in whole["CommonPrefixes"]] == ["p q/", "p+q/"]
    assert (whole["Prefix"], whole["Delimiter"]) == ("p", "/")
    assert [v["Key"] for v in whole["Versions"]] == ["p q", "p q", "p%q", "p%q", "p+q", "p+q", "plain", "plain"]
    assert [m["Key"] for m in whole["DeleteMarkers"]] == ["p q"]

    pages = list(
        s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Delimiter="/", Prefix="p", PaginationConfig={"PageSize": 2}
        )
    )
    listed_keys = [v["Key"] for page in pages for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
    prefixes = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
    assert sorted(listed_keys) == sorted(["p q"] * 3 + ["p%q", "p+q", "plain"] * 2)
    assert prefixes == ["p q/", "p+q/"]
    assert all(page["NextKeyMarker"] for page in pages[:-1])


@pytest.mark.parametrize(
    "arguments",
    [{"VersionIdMarker": "null"}, {"KeyMarker": "k", "VersionIdMarker": "not-a-version"}, {"MaxKeys": -1}],
)
def test_versions_bad_arguments_are_invalid_argument(s3: Any, bucket: str, arguments: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.list_object_versions(Bucket=bucket, **arguments)
    assert error_of(excinfo) == ("InvalidArgument", 400)
