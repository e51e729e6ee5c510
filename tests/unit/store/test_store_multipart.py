"""Multipart uploads: parts, listing parts, completion rules and checksums, copy parts, abort."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import zlib

import pytest
from awscrt import checksums as crt
from store_support import blob_files, chunks, collect

from shipyard.errors import AwsError
from shipyard.store.multipart import MIN_PART_SIZE
from shipyard.store.objects import S3Store
from shipyard.store.s3types import CompletedPart, ObjectMeta

pytestmark = pytest.mark.anyio

BUCKET = "multipart-bucket"
MIB = 1024 * 1024


@pytest.fixture
async def s3(s3: S3Store) -> S3Store:
    await s3.create_bucket(name=BUCKET, region="us-east-1", owner="111122223333")
    return s3


async def start(s3: S3Store, key: str = "big", **kwargs):
    return await s3.create_multipart_upload(
        bucket=BUCKET, key=key, initiator="arn:aws:iam::111122223333:root", **kwargs
    )


async def upload(s3: S3Store, upload_id: str, number: int, data: bytes, key: str = "big", **kwargs):
    return await s3.upload_part(
        bucket=BUCKET, key=key, upload_id=upload_id, part_number=number, body=chunks(data, MIB), **kwargs
    )


def md5_etag(*parts: bytes) -> str:
    joined = b"".join(hashlib.md5(part).digest() for part in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_complete_assembles_the_parts_in_order(s3: S3Store, blobs) -> None:
    up = await start(s3, meta=ObjectMeta(content_type="application/x-test", metadata={"k": "v"}), tags={"t": "1"})
    one, two, three = b"1" * MIN_PART_SIZE, b"2" * MIN_PART_SIZE, b"tail"
    parts = [await upload(s3, up.upload_id, n, data) for n, data in ((1, one), (2, two), (3, three))]
    assert parts[0].etag == f'"{hashlib.md5(one).hexdigest()}"' and parts[2].size == 4

    done = await s3.complete_multipart_upload(
        bucket=BUCKET,
        key="big",
        upload_id=up.upload_id,
        parts=[CompletedPart(p.part_number, p.etag) for p in parts],
    )
    assert done.etag == md5_etag(one, two, three)
    assert done.size == 2 * MIN_PART_SIZE + 4 and done.parts_count == 3
    assert [(p.number, p.size) for p in done.parts] == [(1, MIN_PART_SIZE), (2, MIN_PART_SIZE), (3, 4)]
    assert done.meta.content_type == "application/x-test" and done.tags == {"t": "1"}
    assert done.checksum.algorithm == "CRC64NVME" and done.checksum.type == "FULL_OBJECT"
    assert done.checksum.value == b64(crt.crc64nvme(one + two + three).to_bytes(8, "big"))

    reader = await s3.open_object(bucket=BUCKET, key="big")
    assert await collect(reader.body()) == one + two + three
    start_, end = done.part_range(2)
    reader = await s3.open_object(bucket=BUCKET, key="big")
    assert await collect(reader.body(start_, end)) == two
    reader = await s3.open_object(bucket=BUCKET, key="big")
    assert await collect(reader.body(MIN_PART_SIZE - 3, MIN_PART_SIZE + 3)) == b"111222"  # across parts

    assert (await s3.list_multipart_uploads(bucket=BUCKET)).uploads == []
    with pytest.raises(AwsError) as raised:
        await s3.list_parts(bucket=BUCKET, key="big", upload_id=up.upload_id)
    assert raised.value.code == "NoSuchUpload"
    assert len(blob_files(blobs)) == 3  # no bytes were copied


async def test_single_small_part_is_fine(s3: S3Store) -> None:
    up = await start(s3)
    part = await upload(s3, up.upload_id, 1, b"only")
    done = await s3.complete_multipart_upload(
        bucket=BUCKET, key="big", upload_id=up.upload_id, parts=[CompletedPart(1, part.etag)]
    )
    assert done.etag == md5_etag(b"only") and done.size == 4


async def test_part_size_minimum_is_exactly_5_mib(s3: S3Store) -> None:
    up = await start(s3)
    small = await upload(s3, up.upload_id, 1, b"s" * (MIN_PART_SIZE - 1))
    last = await upload(s3, up.upload_id, 2, b"last")
    with pytest.raises(AwsError) as raised:
        await s3.complete_multipart_upload(
            bucket=BUCKET,
            key="big",
            upload_id=up.upload_id,
            parts=[CompletedPart(1, small.etag), CompletedPart(2, last.etag)],
        )
    assert raised.value.code == "EntityTooSmall"
    assert raised.value.fields["MinSizeAllowed"] == "5242880" and raised.value.fields["PartNumber"] == "1"
    # the failure kept the upload: fix part 1 and complete
    fixed = await upload(s3, up.upload_id, 1, b"s" * MIN_PART_SIZE)
    await s3.complete_multipart_upload(
        bucket=BUCKET,
        key="big",
        upload_id=up.upload_id,
        parts=[CompletedPart(1, fixed.etag), CompletedPart(2, last.etag)],
    )


async def test_completion_list_errors(s3: S3Store) -> None:
    up = await start(s3)
    one = await upload(s3, up.upload_id, 1, b"a" * MIN_PART_SIZE)
    two = await upload(s3, up.upload_id, 2, b"b")

    async def complete(parts, upload_id=up.upload_id):
        return await s3.complete_multipart_upload(bucket=BUCKET, key="big", upload_id=upload_id, parts=parts)

    with pytest.raises(AwsError) as raised:
        await complete([CompletedPart(2, two.etag), CompletedPart(1, one.etag)])
    assert raised.value.code == "InvalidPartOrder"
    with pytest.raises(AwsError) as raised:
        await complete([CompletedPart(1, one.etag), CompletedPart(1, one.etag)])
    assert raised.value.code == "InvalidPartOrder"
    with pytest.raises(AwsError) as raised:
        await complete([CompletedPart(1, one.etag), CompletedPart(3, two.etag)])
    assert (raised.value.code, raised.value.fields["PartNumber"]) == ("InvalidPart", "3")
    with pytest.raises(AwsError) as raised:
        await complete([CompletedPart(1, '"00000000000000000000000000000000"'), CompletedPart(2, two.etag)])
    assert raised.value.code == "InvalidPart"
    with pytest.raises(AwsError) as raised:
        await complete([])
    assert raised.value.code == "MalformedXML"
    for upload_id in ("nope", "0" * 26 + "a" * 32):
        with pytest.raises(AwsError) as raised:
            await complete([CompletedPart(1, one.etag)], upload_id=upload_id)
        assert (raised.value.code, raised.value.status) == ("NoSuchUpload", 404)
    # unquoted ETags are accepted
    done = await complete([CompletedPart(1, one.etag.strip('"')), CompletedPart(2, two.etag.strip('"'))])
    assert done.size == MIN_PART_SIZE + 1


async def test_unlisted_parts_are_discarded_and_replaced_parts_too(s3: S3Store, blobs) -> None:
    up = await start(s3)
    await upload(s3, up.upload_id, 1, b"first try")
    again = await upload(s3, up.upload_id, 1, b"second try")
    await upload(s3, up.upload_id, 2, b"never used")
    listing = await s3.list_parts(bucket=BUCKET, key="big", upload_id=up.upload_id)
    assert [(p.part_number, p.size) for p in listing.parts] == [(1, 10), (2, 10)]
    assert len(blob_files(blobs)) == 2
    await s3.complete_multipart_upload(
        bucket=BUCKET, key="big", upload_id=up.upload_id, parts=[CompletedPart(1, again.etag)]
    )
    assert len(blob_files(blobs)) == 1
    reader = await s3.open_object(bucket=BUCKET, key="big")
    assert await collect(reader.body()) == b"second try"


async def test_conditional_complete_keeps_the_upload(s3: S3Store) -> None:
    await s3.put_object(bucket=BUCKET, key="big", body=chunks(b"existing"))
    up = await start(s3)
    part = await upload(s3, up.upload_id, 1, b"new")
    with pytest.raises(AwsError) as raised:
        await s3.complete_multipart_upload(
            bucket=BUCKET, key="big", upload_id=up.upload_id, parts=[CompletedPart(1, part.etag)], if_none_match="*"
        )
    assert (raised.value.code, raised.value.status) == ("PreconditionFailed", 412)
    assert [p.part_number for p in (await s3.list_parts(bucket=BUCKET, key="big", upload_id=up.upload_id)).parts] == [1]
    await s3.delete_object(bucket=BUCKET, key="big")
    await s3.complete_multipart_upload(
        bucket=BUCKET, key="big", upload_id=up.upload_id, parts=[CompletedPart(1, part.etag)], if_none_match="*"
    )


async def test_list_parts_pages(s3: S3Store) -> None:
    up = await start(s3, checksum_algorithm="CRC32")
    for n in (1, 2, 3, 5, 8):
        await upload(s3, up.upload_id, n, bytes([n]))
    page = await s3.list_parts(bucket=BUCKET, key="big", upload_id=up.upload_id, max_parts=2)
    assert [p.part_number for p in page.parts] == [1, 2] and page.is_truncated and page.next_part_number_marker == 2
    assert page.upload.checksum_algorithm == "CRC32" and page.upload.checksum_type == "COMPOSITE"
    assert page.parts[0].checksum == b64(zlib.crc32(bytes([1])).to_bytes(4, "big"))
    page = await s3.list_parts(bucket=BUCKET, key="big", upload_id=up.upload_id, part_number_marker=2, max_parts=3)
    assert [p.part_number for p in page.parts] == [3, 5, 8] and not page.is_truncated


async def test_part_number_and_upload_checks(s3: S3Store) -> None:
    up = await start(s3)
    for number in (0, 10_001):
        with pytest.raises(AwsError) as raised:
            await upload(s3, up.upload_id, number, b"x")
        assert raised.value.code == "InvalidArgument"
    await upload(s3, up.upload_id, 10_000, b"x")
    with pytest.raises(AwsError) as raised:
        await upload(s3, up.upload_id, 1, b"x", key="other-key")
    assert raised.value.code == "NoSuchUpload"
    with pytest.raises(AwsError) as raised:
        await upload(s3, up.upload_id, 1, b"x", content_md5=b64(hashlib.md5(b"y").digest()))
    assert raised.value.code == "BadDigest"
    with pytest.raises(AwsError) as raised:
        await upload(s3, up.upload_id, 1, b"x", checksum_algorithm="CRC32", expected_checksum="AAAAAA==")
    assert raised.value.code == "BadDigest"


async def test_abort(s3: S3Store, blobs) -> None:
    up = await start(s3)
    await upload(s3, up.upload_id, 1, b"x")
    await s3.abort_multipart_upload(bucket=BUCKET, key="big", upload_id=up.upload_id)
    assert blob_files(blobs) == set()
    with pytest.raises(AwsError) as raised:
        await s3.abort_multipart_upload(bucket=BUCKET, key="big", upload_id=up.upload_id)
    assert raised.value.code == "NoSuchUpload"
    with pytest.raises(AwsError) as raised:
        await upload(s3, up.upload_id, 1, b"x")
    assert raised.value.code == "NoSuchUpload"


async def test_abort_while_a_part_streams_leaves_no_part(s3: S3Store, blobs) -> None:
    up = await start(s3)
    gate = asyncio.Event()

    async def slow_body():
        yield b"a" * 1024
        await gate.wait()
        yield b"b"

    pending = asyncio.create_task(
        s3.upload_part(bucket=BUCKET, key="big", upload_id=up.upload_id, part_number=1, body=slow_body())
    )
    await asyncio.sleep(0.01)
    await s3.abort_multipart_upload(bucket=BUCKET, key="big", upload_id=up.upload_id)
    gate.set()
    with pytest.raises(AwsError) as raised:
        await pending
    assert raised.value.code == "NoSuchUpload"
    assert blob_files(blobs) == set()


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [("CRC32", "COMPOSITE"), ("CRC32", "FULL_OBJECT"), ("CRC32C", "FULL_OBJECT"), ("SHA256", "COMPOSITE")],
)
async def test_explicit_checksums(s3: S3Store, algorithm: str, kind: str) -> None:
    up = await start(s3, checksum_algorithm=algorithm, checksum_type=kind)
    data = [b"p" * MIN_PART_SIZE, b"q" * 10]
    parts = [await upload(s3, up.upload_id, n, d, checksum_algorithm=algorithm) for n, d in enumerate(data, 1)]
    with pytest.raises(AwsError) as raised:
        await s3.complete_multipart_upload(
            bucket=BUCKET,
            key="big",
            upload_id=up.upload_id,
            parts=[CompletedPart(p.part_number, p.etag) for p in parts],
        )
    assert raised.value.code == "InvalidRequest"  # part checksums are required
    with pytest.raises(AwsError) as raised:
        await s3.complete_multipart_upload(
            bucket=BUCKET,
            key="big",
            upload_id=up.upload_id,
            parts=[CompletedPart(p.part_number, p.etag, parts[0].checksum) for p in parts],
        )
    assert raised.value.code == "InvalidPart"
    done = await s3.complete_multipart_upload(
        bucket=BUCKET,
        key="big",
        upload_id=up.upload_id,
        parts=[CompletedPart(p.part_number, p.etag, p.checksum) for p in parts],
    )
    digest = {"CRC32": lambda b: zlib.crc32(b).to_bytes(4, "big"), "CRC32C": lambda b: crt.crc32c(b).to_bytes(4, "big")}
    digest["SHA256"] = lambda b: hashlib.sha256(b).digest()
    if kind == "FULL_OBJECT":
        expected = b64(digest[algorithm](b"".join(data)))
    else:
        expected = b64(digest[algorithm](b"".join(digest[algorithm](d) for d in data))) + "-2"
    assert (done.checksum.algorithm, done.checksum.type, done.checksum.value) == (algorithm, kind, expected)
    assert [p.checksum for p in done.parts] == [p.checksum for p in parts]


async def test_checksum_rules(s3: S3Store) -> None:
    with pytest.raises(AwsError) as raised:
        await start(s3, checksum_algorithm="SHA1", checksum_type="FULL_OBJECT")
    assert raised.value.code == "InvalidRequest"
    with pytest.raises(AwsError) as raised:
        await start(s3, checksum_algorithm="CRC64NVME", checksum_type="COMPOSITE")
    assert raised.value.code == "InvalidRequest"
    up = await start(s3, checksum_algorithm="SHA256")
    with pytest.raises(AwsError) as raised:
        await upload(s3, up.upload_id, 1, b"x", checksum_algorithm="CRC32")
    assert raised.value.code == "InvalidRequest"
    # with no algorithm named, a part may still be verified with any
    plain = await start(s3, key="plain")
    crc = b64(zlib.crc32(b"x").to_bytes(4, "big"))
    part = await upload(s3, plain.upload_id, 1, b"x", key="plain", checksum_algorithm="CRC32", expected_checksum=crc)
    assert part.checksum == b64(crt.crc64nvme(b"x").to_bytes(8, "big"))  # stored: S3's default


async def test_completion_checks_the_full_object_checksum_and_size(s3: S3Store) -> None:
    up = await start(s3)
    part = await upload(s3, up.upload_id, 1, b"abc")
    right = b64(crt.crc64nvme(b"abc").to_bytes(8, "big"))
    for kwargs, code in (
        ({"expected_checksum": "AAAAAAAAAAA="}, "BadDigest"),
        ({"expected_size": 4}, "InvalidRequest"),
    ):
        with pytest.raises(AwsError) as raised:
            await s3.complete_multipart_upload(
                bucket=BUCKET, key="big", upload_id=up.upload_id, parts=[CompletedPart(1, part.etag)], **kwargs
            )
        assert raised.value.code == code
    await s3.complete_multipart_upload(
        bucket=BUCKET,
        key="big",
        upload_id=up.upload_id,
        parts=[CompletedPart(1, part.etag)],
        expected_checksum=right,
        expected_size=3,
    )


async def test_upload_part_copy(s3: S3Store, blobs) -> None:
    source = await s3.put_object(bucket=BUCKET, key="src", body=chunks(b"0123456789"))
    up = await start(s3)
    whole = await s3.upload_part_copy(
        bucket=BUCKET, key="big", upload_id=up.upload_id, part_number=1, source_bucket=BUCKET, source_key="src"
    )
    assert whole.part.etag == source.etag and whole.part.size == 10 and whole.source_version_id is None
    ranged = await s3.upload_part_copy(
        bucket=BUCKET,
        key="big",
        upload_id=up.upload_id,
        part_number=2,
        source_bucket=BUCKET,
        source_key="src",
        source_range=(2, 5),
    )
    assert ranged.part.etag == f'"{hashlib.md5(b"234").hexdigest()}"'
    for bad in ((5, 11), (3, 3), (10, 12)):
        with pytest.raises(AwsError) as raised:
            await s3.upload_part_copy(
                bucket=BUCKET,
                key="big",
                upload_id=up.upload_id,
                part_number=3,
                source_bucket=BUCKET,
                source_key="src",
                source_range=bad,
            )
        assert raised.value.code == "InvalidArgument"
    await s3.delete_object(bucket=BUCKET, key="src")
    # part 1 alone is too small to be followed by another part: complete with it last
    done = await s3.complete_multipart_upload(
        bucket=BUCKET, key="big", upload_id=up.upload_id, parts=[CompletedPart(1, whole.part.etag)]
    )
    reader = await s3.open_object(bucket=BUCKET, key="big")
    assert await collect(reader.body()) == b"0123456789" and done.size == 10
    assert len(blob_files(blobs)) == 1


async def test_upload_part_copy_from_a_multipart_source(s3: S3Store) -> None:
    up = await start(s3, key="src")
    data = [b"x" * MIN_PART_SIZE, b"y" * 7]
    parts = [await upload(s3, up.upload_id, n, d, key="src") for n, d in enumerate(data, 1)]
    await s3.complete_multipart_upload(
        bucket=BUCKET, key="src", upload_id=up.upload_id, parts=[CompletedPart(p.part_number, p.etag) for p in parts]
    )
    target = await start(s3, key="dst")
    copied = await s3.upload_part_copy(
        bucket=BUCKET,
        key="dst",
        upload_id=target.upload_id,
        part_number=1,
        source_bucket=BUCKET,
        source_key="src",
        source_range=(MIN_PART_SIZE - 2, MIN_PART_SIZE + 3),
    )
    assert copied.part.etag == f'"{hashlib.md5(b"xxyyy").hexdigest()}"'


async def test_copy_object_of_a_multipart_object_keeps_its_parts(s3: S3Store) -> None:
    up = await start(s3)
    parts = [await upload(s3, up.upload_id, n, d) for n, d in ((1, b"a" * MIN_PART_SIZE), (2, b"b"))]
    done = await s3.complete_multipart_upload(
        bucket=BUCKET, key="big", upload_id=up.upload_id, parts=[CompletedPart(p.part_number, p.etag) for p in parts]
    )
    copy = (await s3.copy_object(source_bucket=BUCKET, source_key="big", bucket=BUCKET, key="copy")).object
    assert (copy.etag, copy.parts, copy.checksum) == (done.etag, done.parts, done.checksum)
    reader = await s3.open_object(bucket=BUCKET, key="copy")
    assert await collect(reader.body(MIN_PART_SIZE - 1)) == b"ab"
