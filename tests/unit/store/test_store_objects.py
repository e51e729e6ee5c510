"""Objects: PUT/GET/HEAD, checksums, the versioning state machine, conditional writes,
delete markers, DeleteObjects, copy and tags."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import zlib

import pytest
from awscrt import checksums as crt
from store_support import blob_files, chunks, collect

from shipyard.errors import AwsError
from shipyard.store.objects import S3Store
from shipyard.store.s3types import ObjectMeta, ObjectToDelete

pytestmark = pytest.mark.anyio

BUCKET = "objects-bucket"


@pytest.fixture
async def s3(s3: S3Store) -> S3Store:
    await s3.create_bucket(name=BUCKET, region="us-east-1", owner="111122223333")
    return s3


async def put(s3: S3Store, key: str, data: bytes = b"data", **kwargs) -> object:
    return await s3.put_object(bucket=BUCKET, key=key, body=chunks(data), **kwargs)


async def read(s3: S3Store, key: str, version_id: str | None = None) -> bytes:
    reader = await s3.open_object(bucket=BUCKET, key=key, version_id=version_id)
    return await collect(reader.body())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def versions_of(s3: S3Store, key: str) -> list[tuple[str, bool, bool]]:
    listing = await s3.list_object_versions(bucket=BUCKET, prefix=key)
    return [(v.version_id, v.is_latest, v.is_delete_marker) for v in listing.versions if v.key == key]


# -- put / get / head -------------------------------------------------------------------


async def test_put_then_get_returns_bytes_and_metadata(s3: S3Store) -> None:
    meta = ObjectMeta(
        content_type="text/plain",
        content_encoding="gzip",
        content_disposition="attachment",
        content_language="en",
        cache_control="no-cache",
        expires="Wed, 21 Oct 2015 07:28:00 GMT",
        metadata={"color": "blue", "ünïcode": "välue"},
        storage_class="STANDARD_IA",
        extra={"WebsiteRedirectLocation": "/other"},
    )
    written = await put(s3, "dir/file.txt", b"hello world", meta=meta, tags={"team": "ml"})
    assert written.etag == f'"{hashlib.md5(b"hello world").hexdigest()}"'
    assert written.version_id == "null" and written.reported_version_id is None
    assert written.size == 11 and written.is_latest and not written.is_delete_marker
    assert written.last_modified.microsecond % 1000 == 0

    head = await s3.head_object(bucket=BUCKET, key="dir/file.txt")
    assert head.meta == meta
    assert head.tags == {"team": "ml"}
    assert head.etag == written.etag and head.last_modified == written.last_modified
    assert head.parts == () and head.parts_count is None
    assert await read(s3, "dir/file.txt") == b"hello world"


@pytest.mark.parametrize("size", [0, 1, 256 * 1024, 256 * 1024 + 1, 3 * 1024 * 1024 + 17])
async def test_sizes_and_ranges_round_trip(s3: S3Store, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    await put(s3, "blob", data)
    assert await read(s3, "blob") == data
    reader = await s3.open_object(bucket=BUCKET, key="blob")
    start, end = size // 3, size - size // 5
    assert await collect(reader.body(start, end)) == data[start:end]


async def test_default_checksum_is_crc64nvme(s3: S3Store) -> None:
    written = await put(s3, "k", b"abc")
    assert written.checksum.algorithm == "CRC64NVME"
    assert written.checksum.type == "FULL_OBJECT"
    assert written.checksum.value == b64(crt.crc64nvme(b"abc").to_bytes(8, "big"))


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("CRC32", zlib.crc32(b"payload").to_bytes(4, "big")),
        ("CRC32C", crt.crc32c(b"payload").to_bytes(4, "big")),
        ("SHA1", hashlib.sha1(b"payload").digest()),
        ("SHA256", hashlib.sha256(b"payload").digest()),
    ],
)
async def test_requested_checksum_is_computed_and_verified(s3: S3Store, algorithm: str, expected: bytes) -> None:
    written = await put(s3, "k", b"payload", checksum_algorithm=algorithm, expected_checksum=b64(expected))
    assert written.checksum.algorithm == algorithm and written.checksum.value == b64(expected)
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", b"payloaX", checksum_algorithm=algorithm, expected_checksum=b64(expected))
    assert raised.value.code == "BadDigest"
    assert (await s3.head_object(bucket=BUCKET, key="k")).checksum.value == b64(expected)


async def test_trailer_checksum_is_read_after_the_body(s3: S3Store) -> None:
    trailers: dict[str, str] = {}

    async def body():
        yield b"streamed"
        trailers["x-amz-checksum-crc32"] = b64(zlib.crc32(b"streamed").to_bytes(4, "big"))

    written = await s3.put_object(
        bucket=BUCKET,
        key="k",
        body=body(),
        checksum_algorithm="CRC32",
        expected_checksum=lambda: trailers.get("x-amz-checksum-crc32"),
    )
    assert written.checksum.value == trailers["x-amz-checksum-crc32"]


async def test_bad_checksum_value_is_invalid_request(s3: S3Store) -> None:
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", checksum_algorithm="CRC32", expected_checksum="not base64!")
    assert raised.value.code == "InvalidRequest"


async def test_content_md5(s3: S3Store, blobs) -> None:
    await put(s3, "k", b"body", content_md5=b64(hashlib.md5(b"body").digest()))
    with pytest.raises(AwsError) as raised:
        await put(s3, "k2", b"body", content_md5=b64(hashlib.md5(b"other").digest()))
    assert raised.value.code == "BadDigest" and raised.value.status == 400
    with pytest.raises(AwsError) as raised:
        await put(s3, "k3", b"body", content_md5="garbage")
    assert raised.value.code == "InvalidDigest"
    assert len(blob_files(blobs)) == 1  # the refused bodies left nothing behind
    with pytest.raises(AwsError):
        await s3.head_object(bucket=BUCKET, key="k2")


async def test_short_body_is_incomplete(s3: S3Store) -> None:
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", b"1234", expected_size=5)
    assert raised.value.code == "IncompleteBody"


async def test_declared_size_over_5_gib_is_refused_before_reading(s3: S3Store) -> None:
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", b"", expected_size=5 * 1024**3 + 1)
    assert raised.value.code == "EntityTooLarge"


async def test_put_validation(s3: S3Store) -> None:
    with pytest.raises(AwsError) as raised:
        await put(s3, "k" * 1025)
    assert raised.value.code == "KeyTooLongError"
    await put(s3, "é" * 512)  # 1024 UTF-8 bytes is still fine
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", meta=ObjectMeta(metadata={"m": "v" * 2048}))
    assert raised.value.code == "MetadataTooLarge"
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", tags={f"t{i}": "v" for i in range(11)})
    assert raised.value.code == "InvalidTag"
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", tags={"aws:reserved": "v"})
    assert raised.value.code == "InvalidTag"
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", checksum_algorithm="MD4")
    assert raised.value.code == "InvalidRequest"


async def test_missing_bucket_and_key(s3: S3Store) -> None:
    with pytest.raises(AwsError) as raised:
        await s3.put_object(bucket="no-such-bucket", key="k", body=chunks(b"x"))
    assert (raised.value.code, raised.value.status) == ("NoSuchBucket", 404)
    with pytest.raises(AwsError) as raised:
        await s3.head_object(bucket="no-such-bucket", key="k")
    assert raised.value.code == "NoSuchBucket"
    with pytest.raises(AwsError) as raised:
        await s3.open_object(bucket=BUCKET, key="absent")
    assert (raised.value.code, raised.value.status, raised.value.fields) == ("NoSuchKey", 404, {"Key": "absent"})


async def test_version_id_errors(s3: S3Store) -> None:
    await put(s3, "k")
    with pytest.raises(AwsError) as raised:
        await s3.head_object(bucket=BUCKET, key="k", version_id="not a version")
    assert (raised.value.code, raised.value.status) == ("InvalidArgument", 400)
    with pytest.raises(AwsError) as raised:
        await s3.head_object(bucket=BUCKET, key="k", version_id="0" * 26)
    assert (raised.value.code, raised.value.status) == ("NoSuchVersion", 404)
    assert (await s3.head_object(bucket=BUCKET, key="k", version_id="null")).version_id == "null"


async def test_part_range_of_a_simple_object(s3: S3Store) -> None:
    version = await put(s3, "k", b"0123456789")
    assert version.part_range(1) == (0, 10)
    with pytest.raises(AwsError) as raised:
        version.part_range(2)
    assert (raised.value.code, raised.value.status) == ("InvalidPartNumber", 416)


# -- the versioning state machine --------------------------------------------------------


async def test_unversioned_put_replaces_the_null_version(s3: S3Store, blobs) -> None:
    await put(s3, "k", b"one")
    await put(s3, "k", b"two")
    assert await read(s3, "k") == b"two"
    assert await versions_of(s3, "k") == [("null", True, False)]
    assert len(blob_files(blobs)) == 1  # the replaced bytes are gone


async def test_enabled_put_keeps_every_version(s3: S3Store) -> None:
    await put(s3, "k", b"before")  # the null version from before versioning
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    first = await put(s3, "k", b"one")
    second = await put(s3, "k", b"two")
    assert first.version_id != second.version_id and first.version_id < second.version_id
    assert second.reported_version_id == second.version_id and second.versioning == "Enabled"
    assert await versions_of(s3, "k") == [
        (second.version_id, True, False),
        (first.version_id, False, False),
        ("null", False, False),
    ]
    assert await read(s3, "k") == b"two"
    assert await read(s3, "k", first.version_id) == b"one"
    assert await read(s3, "k", "null") == b"before"


async def test_suspended_put_replaces_only_the_null_version(s3: S3Store) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    kept = await put(s3, "k", b"versioned")
    await s3.put_bucket_versioning(BUCKET, "Suspended")
    null = await put(s3, "k", b"null one")
    assert null.version_id == "null" and null.reported_version_id == "null"
    await put(s3, "k", b"null two")
    assert await versions_of(s3, "k") == [("null", True, False), (kept.version_id, False, False)]
    assert await read(s3, "k") == b"null two"


async def test_unversioned_delete_removes_and_tolerates_missing(s3: S3Store, blobs) -> None:
    await put(s3, "k")
    result = await s3.delete_object(bucket=BUCKET, key="k")
    assert (result.version_id, result.delete_marker) == (None, False)
    assert await versions_of(s3, "k") == []
    assert blob_files(blobs) == set()
    again = await s3.delete_object(bucket=BUCKET, key="k")
    assert (again.version_id, again.delete_marker) == (None, False)


async def test_enabled_delete_adds_a_marker(s3: S3Store) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    original = await put(s3, "k", b"kept")
    result = await s3.delete_object(bucket=BUCKET, key="k")
    assert result.delete_marker and result.version_id not in (None, "null", original.version_id)
    assert await versions_of(s3, "k") == [(result.version_id, True, True), (original.version_id, False, False)]

    with pytest.raises(AwsError) as raised:
        await s3.head_object(bucket=BUCKET, key="k")
    assert raised.value.code == "NoSuchKey"
    assert raised.value.headers == {"x-amz-delete-marker": "true", "x-amz-version-id": result.version_id}
    with pytest.raises(AwsError) as raised:
        await s3.open_object(bucket=BUCKET, key="k", version_id=result.version_id)
    assert (raised.value.code, raised.value.status) == ("MethodNotAllowed", 405)
    assert raised.value.headers["x-amz-delete-marker"] == "true"
    assert await read(s3, "k", original.version_id) == b"kept"

    listing = await s3.list_objects_v2(bucket=BUCKET)
    assert listing.objects == []
    # a delete on a key that never existed still adds a marker
    ghost = await s3.delete_object(bucket=BUCKET, key="never")
    assert ghost.delete_marker and await versions_of(s3, "never") == [(ghost.version_id, True, True)]


async def test_suspended_delete_replaces_null_with_a_null_marker(s3: S3Store, blobs) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    kept = await put(s3, "k", b"kept")
    await s3.put_bucket_versioning(BUCKET, "Suspended")
    await put(s3, "k", b"null")
    result = await s3.delete_object(bucket=BUCKET, key="k")
    assert (result.version_id, result.delete_marker) == ("null", True)
    assert await versions_of(s3, "k") == [("null", True, True), (kept.version_id, False, False)]
    assert len(blob_files(blobs)) == 1


async def test_delete_by_version_promotes_the_next_newest(s3: S3Store) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    one = await put(s3, "k", b"one")
    two = await put(s3, "k", b"two")
    marker = await s3.delete_object(bucket=BUCKET, key="k")

    removed = await s3.delete_object(bucket=BUCKET, key="k", version_id=marker.version_id)
    assert (removed.version_id, removed.delete_marker) == (marker.version_id, True)
    assert await read(s3, "k") == b"two"

    removed = await s3.delete_object(bucket=BUCKET, key="k", version_id=two.version_id)
    assert (removed.version_id, removed.delete_marker) == (two.version_id, False)
    assert await versions_of(s3, "k") == [(one.version_id, True, False)]

    absent = await s3.delete_object(bucket=BUCKET, key="k", version_id=two.version_id)
    assert (absent.version_id, absent.delete_marker) == (two.version_id, False)
    with pytest.raises(AwsError) as raised:
        await s3.delete_object(bucket=BUCKET, key="k", version_id="bad id")
    assert raised.value.code == "InvalidArgument"

    await s3.delete_object(bucket=BUCKET, key="k", version_id=one.version_id)
    assert await versions_of(s3, "k") == []


async def test_versioning_status_only_toggles(s3: S3Store) -> None:
    assert (await s3.get_bucket(BUCKET)).versioning is None
    await s3.put_bucket_versioning(BUCKET, "Suspended")
    assert (await s3.get_bucket(BUCKET)).versioning == "Suspended"
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    assert (await s3.get_bucket(BUCKET)).versioning == "Enabled"
    with pytest.raises(AwsError) as raised:
        await s3.put_bucket_versioning(BUCKET, "Disabled")
    assert raised.value.code == "MalformedXML"


# -- conditional writes and deletes -------------------------------------------------------


async def test_if_none_match_star(s3: S3Store, blobs) -> None:
    await put(s3, "k", b"first", if_none_match="*")
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", b"second", if_none_match="*")
    assert (raised.value.code, raised.value.status) == ("PreconditionFailed", 412)
    assert raised.value.fields == {"Condition": "If-None-Match"}
    assert await read(s3, "k") == b"first"
    assert len(blob_files(blobs)) == 1
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", b"x", if_none_match='"etag"')
    assert raised.value.code == "NotImplemented"


async def test_if_none_match_succeeds_over_a_delete_marker(s3: S3Store) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    await put(s3, "k")
    await s3.delete_object(bucket=BUCKET, key="k")
    await put(s3, "k", b"again", if_none_match="*")
    assert await read(s3, "k") == b"again"


async def test_if_match(s3: S3Store) -> None:
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", if_match='"whatever"')
    assert (raised.value.code, raised.value.status) == ("NoSuchKey", 404)
    first = await put(s3, "k", b"first")
    with pytest.raises(AwsError) as raised:
        await put(s3, "k", b"second", if_match='"0123"')
    assert (raised.value.code, raised.value.fields) == ("PreconditionFailed", {"Condition": "If-Match"})
    await put(s3, "k", b"second", if_match=first.etag.strip('"'))  # quotes are optional
    await put(s3, "k", b"third", if_match="*")
    assert await read(s3, "k") == b"third"


async def test_concurrent_create_only_puts_let_exactly_one_win(s3: S3Store) -> None:
    outcomes = await asyncio.gather(
        *(put(s3, "race", str(i).encode(), if_none_match="*") for i in range(8)), return_exceptions=True
    )
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1
    assert all(isinstance(o, AwsError) and o.code == "PreconditionFailed" for o in outcomes if o not in winners)


async def test_conditional_delete(s3: S3Store) -> None:
    with pytest.raises(AwsError) as raised:
        await s3.delete_object(bucket=BUCKET, key="k", if_match="*")
    assert raised.value.code == "NoSuchKey"
    version = await put(s3, "k")
    with pytest.raises(AwsError) as raised:
        await s3.delete_object(bucket=BUCKET, key="k", if_match='"nope"')
    assert raised.value.code == "PreconditionFailed"
    await s3.delete_object(bucket=BUCKET, key="k", if_match=version.etag)
    assert await versions_of(s3, "k") == []


# -- DeleteObjects ---------------------------------------------------------------------


async def test_delete_objects_reports_each_key(s3: S3Store) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    a = await put(s3, "a")
    await put(s3, "b")
    outcomes = await s3.delete_objects(
        bucket=BUCKET,
        objects=[
            ObjectToDelete("b"),
            ObjectToDelete("a", a.version_id),
            ObjectToDelete("c", "not-valid"),
            ObjectToDelete("b", if_match='"mismatch"'),
            ObjectToDelete("missing"),
        ],
    )
    assert [type(o).__name__ for o in outcomes] == [
        "DeleteResult",
        "DeleteResult",
        "DeleteFailure",
        "DeleteFailure",
        "DeleteResult",
    ]
    assert outcomes[0].delete_marker and outcomes[0].version_id
    assert (outcomes[1].version_id, outcomes[1].delete_marker) == (a.version_id, False)
    assert outcomes[2].error.code == "InvalidArgument"
    assert outcomes[3].error.code == "NoSuchKey"  # b's latest is now a delete marker
    assert outcomes[4].delete_marker
    assert (await s3.list_objects_v2(bucket=BUCKET)).objects == []


async def test_delete_objects_limit(s3: S3Store) -> None:
    with pytest.raises(AwsError) as raised:
        await s3.delete_objects(bucket=BUCKET, objects=[ObjectToDelete(f"k{i}") for i in range(1001)])
    assert raised.value.code == "MalformedXML"


# -- copy --------------------------------------------------------------------------------


async def test_copy_keeps_bytes_metadata_and_tags_by_default(s3: S3Store, blobs) -> None:
    source = await put(
        s3, "src", b"copied bytes", meta=ObjectMeta(content_type="a/b", metadata={"m": "1"}), tags={"t": "1"}
    )
    result = await s3.copy_object(source_bucket=BUCKET, source_key="src", bucket=BUCKET, key="dst")
    copy = result.object
    assert (copy.etag, copy.size, copy.meta, copy.tags) == (source.etag, source.size, source.meta, source.tags)
    assert copy.checksum == source.checksum
    assert result.source_version_id is None
    assert await read(s3, "dst") == b"copied bytes"
    assert len(blob_files(blobs)) == 2  # a hard link per object
    await s3.delete_object(bucket=BUCKET, key="src")
    assert await read(s3, "dst") == b"copied bytes"


async def test_copy_replaces_metadata_tags_and_checksum(s3: S3Store) -> None:
    await put(s3, "src", b"abc", meta=ObjectMeta(content_type="a/b", metadata={"m": "1"}), tags={"t": "1"})
    result = await s3.copy_object(
        source_bucket=BUCKET,
        source_key="src",
        bucket=BUCKET,
        key="dst",
        replace_meta=ObjectMeta(content_type="c/d"),
        replace_tags={"new": "tag"},
        checksum_algorithm="SHA256",
        storage_class="GLACIER",
    )
    copy = result.object
    assert copy.meta.content_type == "c/d" and copy.meta.metadata == {} and copy.meta.storage_class == "GLACIER"
    assert copy.tags == {"new": "tag"}
    assert copy.checksum.algorithm == "SHA256" and copy.checksum.value == b64(hashlib.sha256(b"abc").digest())


async def test_copy_onto_itself_needs_a_change(s3: S3Store) -> None:
    await put(s3, "k", b"x", meta=ObjectMeta(metadata={"a": "1"}))
    with pytest.raises(AwsError) as raised:
        await s3.copy_object(source_bucket=BUCKET, source_key="k", bucket=BUCKET, key="k")
    assert raised.value.code == "InvalidRequest" and "copy an object to itself" in raised.value.message
    replaced = await s3.copy_object(
        source_bucket=BUCKET, source_key="k", bucket=BUCKET, key="k", replace_meta=ObjectMeta(metadata={"a": "2"})
    )
    assert replaced.object.meta.metadata == {"a": "2"}
    assert await read(s3, "k") == b"x"  # the new version links the bytes the old one gave up
    await s3.copy_object(source_bucket=BUCKET, source_key="k", bucket=BUCKET, key="k", storage_class="GLACIER")


async def test_copy_an_old_version_onto_itself_restores_it(s3: S3Store) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    old = await put(s3, "k", b"old")
    await put(s3, "k", b"new")
    result = await s3.copy_object(
        source_bucket=BUCKET, source_key="k", source_version_id=old.version_id, bucket=BUCKET, key="k"
    )
    assert result.source_version_id == old.version_id
    assert await read(s3, "k") == b"old"


async def test_copy_source_errors(s3: S3Store) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    await put(s3, "k")
    marker = await s3.delete_object(bucket=BUCKET, key="k")
    with pytest.raises(AwsError) as raised:
        await s3.copy_object(source_bucket=BUCKET, source_key="k", bucket=BUCKET, key="d")
    assert raised.value.code == "NoSuchKey"
    with pytest.raises(AwsError) as raised:
        await s3.copy_object(
            source_bucket=BUCKET, source_key="k", source_version_id=marker.version_id, bucket=BUCKET, key="d"
        )
    assert raised.value.code == "InvalidRequest"
    with pytest.raises(AwsError) as raised:
        await s3.copy_object(source_bucket="no-such-bucket", source_key="k", bucket=BUCKET, key="d")
    assert raised.value.code == "NoSuchBucket"


async def test_copy_source_check_and_destination_conditions(s3: S3Store, blobs) -> None:
    source = await put(s3, "src", b"abc")
    seen = []

    def refuse(version) -> None:
        seen.append(version.etag)
        raise AwsError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412)

    with pytest.raises(AwsError) as raised:
        await s3.copy_object(source_bucket=BUCKET, source_key="src", bucket=BUCKET, key="d", source_check=refuse)
    assert raised.value.code == "PreconditionFailed" and seen == [source.etag]
    await put(s3, "d", b"existing")
    with pytest.raises(AwsError) as raised:
        await s3.copy_object(source_bucket=BUCKET, source_key="src", bucket=BUCKET, key="d", if_none_match="*")
    assert raised.value.code == "PreconditionFailed"
    assert len(blob_files(blobs)) == 2  # the refused copy's link is gone


# -- tags and readers ----------------------------------------------------------------------


async def test_object_tags(s3: S3Store) -> None:
    await s3.put_bucket_versioning(BUCKET, "Enabled")
    old = await put(s3, "k", tags={"a": "1"})
    new = await put(s3, "k")
    updated = await s3.put_object_tags(bucket=BUCKET, key="k", tags={"b": "2"})
    assert updated.version_id == new.version_id and updated.tags == {"b": "2"}
    await s3.put_object_tags(bucket=BUCKET, key="k", version_id=old.version_id, tags={"c": "3"})
    assert (await s3.head_object(bucket=BUCKET, key="k", version_id=old.version_id)).tags == {"c": "3"}
    await s3.delete_object_tags(bucket=BUCKET, key="k")
    assert (await s3.head_object(bucket=BUCKET, key="k")).tags == {}
    assert (await s3.head_object(bucket=BUCKET, key="k")).etag == new.etag
    with pytest.raises(AwsError) as raised:
        await s3.put_object_tags(bucket=BUCKET, key="absent", tags={})
    assert raised.value.code == "NoSuchKey"


async def test_a_reader_keeps_its_bytes_while_the_object_is_replaced(s3: S3Store, blobs) -> None:
    big = b"a" * (2 * 1024 * 1024 + 5)
    await put(s3, "k", big)
    reader = await s3.open_object(bucket=BUCKET, key="k")
    body = reader.body()
    first = await body.__anext__()
    await put(s3, "k", b"replacement")
    await s3.delete_object(bucket=BUCKET, key="k")
    rest = await collect(body)
    assert first + rest == big
    await asyncio.sleep(0.05)  # the deferred delete runs on a store thread
    assert blob_files(blobs) == set()


async def test_an_unread_reader_can_be_closed(s3: S3Store, blobs) -> None:
    await put(s3, "k", b"b" * (1024 * 1024))
    async with await s3.open_object(bucket=BUCKET, key="k") as reader:
        await s3.delete_object(bucket=BUCKET, key="k")
        assert len(blob_files(blobs)) == 1
        assert reader.version.size == 1024 * 1024
    await asyncio.sleep(0.05)
    assert blob_files(blobs) == set()


# -- concurrency ---------------------------------------------------------------------------


@pytest.mark.parametrize("versioning", [None, "Enabled"])
async def test_concurrent_writers_of_one_key(s3: S3Store, blobs, versioning: str | None) -> None:
    if versioning:
        await s3.put_bucket_versioning(BUCKET, versioning)
    bodies = [f"body {i}".encode() for i in range(12)]
    await asyncio.gather(*(put(s3, "hot", body) for body in bodies))
    versions = await versions_of(s3, "hot")
    assert sum(latest for _, latest, _ in versions) == 1
    assert len(versions) == (len(bodies) if versioning else 1)
    assert len(blob_files(blobs)) == len(versions)
    assert await read(s3, "hot") in bodies


async def test_readers_racing_overwrites_see_whole_versions(s3: S3Store) -> None:
    bodies = [bytes([i]) * (300 * 1024 + i) for i in range(6)]  # above the prefetch size
    await put(s3, "k", bodies[0])

    async def writer() -> None:
        for body in bodies[1:]:
            await put(s3, "k", body)

    async def reader() -> list[bytes]:
        return [await read(s3, "k") for _ in range(6)]

    _, *seen = await asyncio.gather(writer(), reader(), reader())
    assert all(body in bodies for reads in seen for body in reads)
