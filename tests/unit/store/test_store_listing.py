"""Listings: ListObjects v1/v2, ListObjectVersions and ListMultipartUploads against a model
of S3's order, roll-up and paging rules, over keys with unicode and URL-special characters."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, text
from store_support import chunks, seed

from shipyard.errors import AwsError
from shipyard.store.database import Database
from shipyard.store.listing import (
    decode_continuation_token,
    encode_continuation_token,
    prefix_end,
)
from shipyard.store.objects import S3Store

pytestmark = pytest.mark.anyio

BUCKET = "listing-bucket"

KEYS = sorted(
    {
        "a",
        "a/",
        "a/b",
        "a/b/c",
        "a/b/d",
        "a/c",
        "a+b",
        "a b",
        "a%2Fb",
        "a%",
        "b/1",
        "b/2/x",
        "b/2/y",
        "b//double",
        "c",
        "dir/ü",
        "dir/ü/n",
        "dir/z",
        "dir/é",
        "日本/語",
        "日本/語/x",
        "😀/smile",
        "~tilde",
        "Zed",
        "_under",
        *(f"many/{i:03d}" for i in range(40)),
        *(f"many/sub{i}/leaf" for i in range(5)),
    },
    key=lambda k: k.encode(),
)


def model(keys: list[str], prefix: str, delimiter: str | None, marker: str | None) -> list[str]:
    """Every entry a complete listing returns after ``marker``, in order; prefixes end with the delimiter."""
    entries: list[str] = []
    for key in sorted(keys, key=lambda k: k.encode()):
        if not key.startswith(prefix):
            continue
        entry = key
        if delimiter and delimiter in key[len(prefix) :]:
            entry = key[: key.index(delimiter, len(prefix)) + len(delimiter)]
        if marker is not None and entry.encode() <= marker.encode():
            continue
        if not entries or entries[-1] != entry:
            entries.append(entry)
    return entries


@pytest.fixture
async def s3(s3: S3Store, database) -> S3Store:
    await s3.create_bucket(name=BUCKET, region="us-east-1", owner="111122223333")
    seed(database, BUCKET, KEYS)
    return s3


async def walk_v2(s3: S3Store, prefix: str, delimiter: str | None, max_keys: int) -> list[str]:
    entries: list[str] = []
    token = None
    while True:
        page = await s3.list_objects_v2(
            bucket=BUCKET, prefix=prefix, delimiter=delimiter, continuation_token=token, max_keys=max_keys
        )
        assert page.key_count <= max_keys
        page_entries = sorted([o.key for o in page.objects] + page.common_prefixes, key=lambda k: k.encode())
        entries += page_entries
        if not page.is_truncated:
            assert page.next_continuation_token is None
            return entries
        assert page.key_count == max_keys and page.next_marker == page_entries[-1]
        token = page.next_continuation_token


async def walk_v1(s3: S3Store, prefix: str, delimiter: str | None, max_keys: int) -> list[str]:
    entries: list[str] = []
    marker = None
    while True:
        page = await s3.list_objects(
            bucket=BUCKET, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys
        )
        entries += sorted([o.key for o in page.objects] + page.common_prefixes, key=lambda k: k.encode())
        if not page.is_truncated:
            return entries
        marker = page.next_marker


@pytest.mark.parametrize(
    ("prefix", "delimiter"),
    [("", None), ("", "/"), ("a", "/"), ("a/", "/"), ("dir/", "/"), ("many/", "/"), ("", "+"), ("", "%"), ("a", " ")],
)
async def test_paging_through_a_listing_matches_the_model(s3: S3Store, prefix: str, delimiter: str | None) -> None:
    expected = model(KEYS, prefix, delimiter, None)
    assert await walk_v2(s3, prefix, delimiter, 1000) == expected
    assert await walk_v2(s3, prefix, delimiter, 7) == expected
    assert await walk_v1(s3, prefix, delimiter, 3) == expected


async def test_one_key_pages(s3: S3Store) -> None:
    assert await walk_v2(s3, "", "/", 1) == model(KEYS, "", "/", None)


async def test_order_is_utf8_binary(s3: S3Store) -> None:
    listing = await s3.list_objects_v2(bucket=BUCKET, prefix="", max_keys=1000)
    keys = [o.key for o in listing.objects]
    assert keys == sorted(KEYS, key=lambda k: k.encode())
    assert keys.index("Zed") < keys.index("_under") < keys.index("a") < keys.index("~tilde") < keys.index("日本/語")
    assert keys.index("dir/z") < keys.index("dir/é") < keys.index("dir/ü")
    assert keys[-1] == "😀/smile"


@pytest.mark.parametrize("marker", ["a/b", "a/", "b/2/", "b/2/x", "dir/ü", "many/sub3/", "0", "\U0010ffff"])
async def test_markers_and_start_after(s3: S3Store, marker: str) -> None:
    for delimiter in (None, "/"):
        page = await s3.list_objects(bucket=BUCKET, delimiter=delimiter, marker=marker)
        got = sorted([o.key for o in page.objects] + page.common_prefixes, key=lambda k: k.encode())
        assert got == model(KEYS, "", delimiter, marker)
        page = await s3.list_objects_v2(bucket=BUCKET, delimiter=delimiter, start_after=marker)
        assert sorted([o.key for o in page.objects] + page.common_prefixes, key=lambda k: k.encode()) == got


async def test_common_prefixes_count_once_towards_max_keys(s3: S3Store) -> None:
    page = await s3.list_objects_v2(bucket=BUCKET, prefix="many/", delimiter="/", max_keys=41)
    assert len(page.objects) == 40 and page.common_prefixes == ["many/sub0/"]
    assert page.is_truncated and page.next_marker == "many/sub0/"
    rest = await s3.list_objects_v2(
        bucket=BUCKET, prefix="many/", delimiter="/", continuation_token=page.next_continuation_token
    )
    assert rest.common_prefixes == [f"many/sub{i}/" for i in range(1, 5)] and not rest.is_truncated


async def test_summaries_carry_what_a_listing_shows(s3: S3Store) -> None:
    await s3.put_object(bucket=BUCKET, key="a/b/c", body=chunks(b"abc"))
    page = await s3.list_objects_v2(bucket=BUCKET, prefix="a/b/c")
    (summary,) = page.objects
    head = await s3.head_object(bucket=BUCKET, key="a/b/c")
    assert (summary.size, summary.etag, summary.last_modified) == (head.size, head.etag, head.last_modified)
    assert (summary.storage_class, summary.checksum_algorithm, summary.checksum_type) == (
        "STANDARD",
        "CRC64NVME",
        "FULL_OBJECT",
    )


async def test_max_keys_zero_and_no_match(s3: S3Store) -> None:
    page = await s3.list_objects_v2(bucket=BUCKET, max_keys=0)
    assert (page.key_count, page.is_truncated, page.next_continuation_token) == (0, False, None)
    page = await s3.list_objects_v2(bucket=BUCKET, prefix="nothing-here")
    assert (page.key_count, page.is_truncated) == (0, False)


async def test_bad_continuation_token_and_missing_bucket(s3: S3Store) -> None:
    for token in ("!!!", "", "Zm9v"):
        with pytest.raises(AwsError) as raised:
            await s3.list_objects_v2(bucket=BUCKET, continuation_token=token)
        assert raised.value.code == "InvalidArgument"
    with pytest.raises(AwsError) as raised:
        await s3.list_objects_v2(bucket="no-such-bucket")
    assert raised.value.code == "NoSuchBucket"


async def test_delete_markers_hide_keys_from_object_listings(s3: S3Store) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    await s3.delete_object(bucket=BUCKET, key="a/b")
    page = await s3.list_objects_v2(bucket=BUCKET, prefix="a/")
    assert "a/b" not in [o.key for o in page.objects]
    # a prefix whose only keys are delete markers is not listed either
    for key in ("b/1", "b/2/x", "b/2/y", "b//double"):
        await s3.delete_object(bucket=BUCKET, key=key)
    page = await s3.list_objects_v2(bucket=BUCKET, delimiter="/")
    assert "b/" not in page.common_prefixes


def test_prefix_end_and_tokens() -> None:
    assert prefix_end("") is None
    assert prefix_end("a/") == "a0"
    assert prefix_end("a\U0010ffff") == "b"
    assert prefix_end("\ud7ff") == "\ue000"
    for marker in ("", "a/b", "日本/語", "+ %"):
        assert decode_continuation_token(encode_continuation_token(marker)) == marker


# -- versions -------------------------------------------------------------------------------


@pytest.fixture
async def versioned(s3: S3Store) -> dict[str, list[str]]:
    """Keys x/0..x/4 with 3 versions each (newest last), a delete marker on x/1, and x/d/e."""
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    ids: dict[str, list[str]] = {}
    for i in range(5):
        for _ in range(3):
            version = await s3.put_object(bucket=BUCKET, key=f"x/{i}", body=chunks(b"v"))
            ids.setdefault(f"x/{i}", []).append(version.version_id)
    marker = await s3.delete_object(bucket=BUCKET, key="x/1")
    ids["x/1"].append(marker.version_id)
    ids["x/d/e"] = [(await s3.put_object(bucket=BUCKET, key="x/d/e", body=chunks(b"v"))).version_id]
    return ids


def expected_versions(ids: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(key, version) for key in sorted(ids) for version in reversed(ids[key])]


async def test_versions_newest_first_per_key(s3: S3Store, versioned: dict[str, list[str]]) -> None:
    page = await s3.list_object_versions(bucket=BUCKET, prefix="x/")
    assert [(v.key, v.version_id) for v in page.versions] == expected_versions(versioned)
    latest = {v.key: v.version_id for v in page.versions if v.is_latest}
    assert latest == {key: ids[-1] for key, ids in versioned.items()}
    markers = [v.version_id for v in page.versions if v.is_delete_marker]
    assert markers == [versioned["x/1"][-1]]


@pytest.mark.parametrize("max_keys", [1, 2, 4, 100])
async def test_version_paging(s3: S3Store, versioned: dict[str, list[str]], max_keys: int) -> None:
    seen: list[tuple[str, str]] = []
    key_marker = version_marker = None
    while True:
        page = await s3.list_object_versions(
            bucket=BUCKET, prefix="x/", key_marker=key_marker, version_id_marker=version_marker, max_keys=max_keys
        )
        seen += [(v.key, v.version_id) for v in page.versions]
        if not page.is_truncated:
            break
        key_marker, version_marker = page.next_key_marker, page.next_version_id_marker
    assert seen == expected_versions(versioned)


async def test_version_listing_with_delimiter(s3: S3Store, versioned: dict[str, list[str]]) -> None:
    page = await s3.list_object_versions(bucket=BUCKET, prefix="x/", delimiter="/", max_keys=17)
    assert page.common_prefixes == ["x/d/"] and len(page.versions) == 16 and not page.is_truncated
    page = await s3.list_object_versions(bucket=BUCKET, prefix="x/", delimiter="/", max_keys=17, key_marker="x/d/")
    assert page.versions == [] and page.common_prefixes == []
    page = await s3.list_object_versions(bucket=BUCKET, prefix="x/", key_marker="x/3")
    assert [v.key for v in page.versions] == ["x/4"] * 3 + ["x/d/e"]


async def test_version_marker_errors(s3: S3Store, versioned: dict[str, list[str]]) -> None:
    with pytest.raises(AwsError) as raised:
        await s3.list_object_versions(bucket=BUCKET, version_id_marker=versioned["x/0"][0])
    assert raised.value.code == "InvalidArgument"
    with pytest.raises(AwsError) as raised:
        await s3.list_object_versions(bucket=BUCKET, key_marker="x/0", version_id_marker="0" * 26)
    assert raised.value.code == "InvalidArgument"


async def test_unversioned_objects_list_as_null_versions(s3: S3Store) -> None:
    page = await s3.list_object_versions(bucket=BUCKET, prefix="a/b/")
    assert [(v.key, v.version_id, v.is_latest) for v in page.versions] == [
        ("a/b/c", "null", True),
        ("a/b/d", "null", True),
    ]


# -- uploads ----------------------------------------------------------------------------------


async def test_upload_listing_pages(s3: S3Store) -> None:
    made = []
    for key in ("u/a", "u/a", "u/b", "u/c/d", "u/c/e", "u/a"):
        made.append(await s3.create_multipart_upload(bucket=BUCKET, key=key, initiator="me"))
    expected = sorted(((u.key, u.upload_id) for u in made), key=lambda pair: (pair[0].encode(), pair[1]))
    page = await s3.list_multipart_uploads(bucket=BUCKET, prefix="u/")
    assert [(u.key, u.upload_id) for u in page.uploads] == expected
    seen = []
    key_marker = upload_marker = None
    while True:
        page = await s3.list_multipart_uploads(
            bucket=BUCKET, prefix="u/", key_marker=key_marker, upload_id_marker=upload_marker, max_uploads=2
        )
        seen += [(u.key, u.upload_id) for u in page.uploads]
        if not page.is_truncated:
            break
        key_marker, upload_marker = page.next_key_marker, page.next_upload_id_marker
    assert seen == expected
    page = await s3.list_multipart_uploads(bucket=BUCKET, prefix="u/", delimiter="/")
    assert [u.key for u in page.uploads] == ["u/a"] * 3 + ["u/b"] and page.common_prefixes == ["u/c/"]


# -- efficiency ---------------------------------------------------------------------------


async def test_a_large_common_prefix_is_skipped_with_one_seek(s3: S3Store, database) -> None:
    """5k keys under one prefix: a delimited listing reads one batch of them, then seeks past."""
    seed(database, BUCKET, (f"big/{i:06d}" for i in range(5_000)))
    fetched: list[int] = []

    def count(conn, cursor, *_args) -> None:
        fetched.append(cursor.rowcount)

    event.listen(database.engine, "after_cursor_execute", count)
    try:
        page = await s3.list_objects_v2(bucket=BUCKET, prefix="b", delimiter="/", max_keys=10)
    finally:
        event.remove(database.engine, "after_cursor_execute", count)
    assert page.common_prefixes == ["b/", "big/"] and not page.is_truncated
    assert len(fetched) <= 5


def test_listing_query_is_an_index_range_scan(tmp_path: Path) -> None:
    """SQLite's query plan for a listing page: the latest-version index, no sort."""
    database = Database(f"sqlite:///{tmp_path / 'plan.db'}")
    database.migrate()
    query = (
        "EXPLAIN QUERY PLAN SELECT key FROM object_versions WHERE bucket = 'b' AND is_latest = 1"
        " AND is_delete_marker = 0 AND key > 'a' ORDER BY key LIMIT 10"
    )
    try:
        plan = database.read_sync(lambda conn: [row[-1] for row in conn.execute(text(query))])
    finally:
        database.close_sync()
    assert any("ix_object_versions_latest" in detail for detail in plan), plan
    assert not any("TEMP B-TREE" in detail for detail in plan), plan
