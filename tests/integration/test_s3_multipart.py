"""Multipart uploads through real boto3: parts, completion rules, copies, listings, transfers."""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from shipyard.testing.errors import error_of

MIB = 1024 * 1024
#: The smallest size S3 accepts for every part but the last.
MIN_PART = 5 * MIB


def data(size: int, seed: int) -> bytes:
    """``size`` reproducible pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def multipart_etag(parts: list[bytes]) -> str:
    """S3's ETag of an object assembled from ``parts``: md5 of the binary part md5s, ``-N``."""
    digests = b"".join(hashlib.md5(part).digest() for part in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def crc32_b64(payload: bytes) -> str:
    """A CRC32 as S3 writes it: base64 of the 4 big-endian bytes."""
    return base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()


def upload_parts(s3: Any, bucket: str, key: str, upload_id: str, parts: list[bytes]) -> list[dict[str, Any]]:
    """Upload ``parts`` as parts 1..N; the ``Parts`` list CompleteMultipartUpload wants."""
    completed = []
    for number, body in enumerate(parts, start=1):
        answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        completed.append({"PartNumber": number, "ETag": answer["ETag"]})
    return completed


@pytest.fixture
def upload(s3: Any, bucket: str) -> tuple[str, str]:
    """A fresh multipart upload in ``bucket``: (key, upload id)."""
    key = f"uploads/{uuid.uuid4().hex}"
    return key, s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]


# -- completing -----------------------------------------------------------------------


def test_parts_uploaded_out_of_order_assemble_in_part_order(s3: Any, bucket: str) -> None:
    key = "assembled/object.bin"
    created = s3.create_multipart_upload(
        Bucket=bucket, Key=key, ContentType="application/x-test", Metadata={"origin": "multipart"}, Tagging="stage=raw"
    )
    assert (created["Bucket"], created["Key"]) == (bucket, key)
    upload_id = created["UploadId"]
    parts = [data(MIN_PART, 1), data(MIN_PART, 2), data(1234, 3)]
    etags = {}
    for number in (3, 1, 2):
        answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=parts[number - 1])
        assert answer["ETag"] == f'"{hashlib.md5(parts[number - 1]).hexdigest()}"'
        etags[number] = answer["ETag"]

    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)]},
    )

    assert done["ETag"] == multipart_etag(parts)
    assert (done["Bucket"], done["Key"]) == (bucket, key)
    assert done["Location"].endswith(f"/{bucket}/{key}")
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == multipart_etag(parts)
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"origin": "multipart"}
    assert s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == [{"Key": "stage", "Value": "raw"}]
    second = s3.get_object(Bucket=bucket, Key=key, PartNumber=2)
    assert second["PartsCount"] == 3
    assert second["Body"].read() == parts[1]
    with pytest.raises(ClientError) as excinfo:
        s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    assert error_of(excinfo) == ("NoSuchUpload", 404)


def test_completion_may_skip_parts_and_a_single_part_may_be_small(s3: Any, bucket: str) -> None:
    key = "sparse"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = [data(MIN_PART, 4), data(10, 5), data(7, 6)]
    completed = upload_parts(s3, bucket, key, upload_id, parts)

    # Parts 1 and 3 only: numbers need not be contiguous; the unused part is dropped.
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": [completed[0], completed[2]]}
    )

    assert done["ETag"] == multipart_etag([parts[0], parts[2]])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == parts[0] + parts[2]

    tiny = s3.create_multipart_upload(Bucket=bucket, Key="tiny")["UploadId"]
    only = upload_parts(s3, bucket, "tiny", tiny, [b"x"])
    done = s3.complete_multipart_upload(Bucket=bucket, Key="tiny", UploadId=tiny, MultipartUpload={"Parts": only})
    assert done["ETag"] == multipart_etag([b"x"])
    assert s3.head_object(Bucket=bucket, Key="tiny")["ContentLength"] == 1


def test_uploading_a_part_again_replaces_it(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    first = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"first")
    second = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"second")

    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [(1, second["ETag"], 6)]
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first["ETag"]}]}
        )
    assert error_of(excinfo) == ("InvalidPart", 400)
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": second["ETag"]}]}
    )
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"second"


def test_completion_replaces_an_existing_object_and_versions_it(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    completed = upload_parts(s3, bucket, "k", upload_id, [b"new"])

    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": completed})

    assert done["VersionId"] not in (None, "null", old["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"new"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=old["VersionId"])["Body"].read() == b"old"


# -- completion errors --------------------------------------------------------------------


@pytest.mark.parametrize("order", [[2, 1], [1, 1], [1, 3, 2]])
def test_parts_out_of_order_are_invalid_part_order(s3: Any, bucket: str, upload: tuple[str, str], order: list[int]) -> None:
    key, upload_id = upload
    completed = upload_parts(s3, bucket, key, upload_id, [data(MIN_PART, 7), data(MIN_PART, 8), b"end"])

    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": [completed[n - 1] for n in order]}
        )

    assert error_of(excinfo) == ("InvalidPartOrder", 400)


def test_unknown_part_or_wrong_etag_is_invalid_part(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    completed = upload_parts(s3, bucket, key, upload_id, [b"only"])

    for parts in (
        [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}],
        [{"PartNumber": 2, "ETag": completed[0]["ETag"]}],
    ):
        with pytest.raises(ClientError) as excinfo:
            s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
        assert error_of(excinfo) == ("InvalidPart", 400)
    # An ETag without its quotes names the same part.
    unquoted = [{"PartNumber": 1, "ETag": completed[0]["ETag"].strip('"')}]
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": unquoted})
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"only"


def test_small_part_before_the_last_is_entity_too_small(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    completed = upload_parts(s3, bucket, key, upload_id, [data(MIN_PART - 1, 9), b"last"])

    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": completed})

    assert error_of(excinfo) == ("EntityTooSmall", 400)
    assert excinfo.value.response["Error"]["ProposedSize"] == str(MIN_PART - 1)
    # The upload survives a refused completion.
    assert len(s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]) == 2


def test_completion_without_parts_is_malformed_xml(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    upload_parts(s3, bucket, key, upload_id, [b"x"])

    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": []})

    assert error_of(excinfo) == ("MalformedXML", 400)


def test_object_size_header_must_match(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    completed = upload_parts(s3, bucket, key, upload_id, [b"12345"])

    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": completed}, MpuObjectSize=6
        )
    assert error_of(excinfo) == ("InvalidRequest", 400)

    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": completed}, MpuObjectSize=5
    )
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 5


def test_conditional_completion_fails_with_412_and_keeps_the_upload(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    existing = s3.put_object(Bucket=bucket, Key=key, Body=b"already here")
    completed = upload_parts(s3, bucket, key, upload_id, [b"replacement"])

    for condition in ({"IfNoneMatch": "*"}, {"IfMatch": '"0123456789abcdef0123456789abcdef"'}):
        with pytest.raises(ClientError) as excinfo:
            s3.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": completed}, **condition
            )
        assert error_of(excinfo) == ("PreconditionFailed", 412)
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"already here"
        assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]] == [1]

    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": completed}, IfMatch=existing["ETag"]
    )
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"replacement"


def test_if_none_match_star_completes_a_new_key(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    completed = upload_parts(s3, bucket, key, upload_id, [b"fresh"])

    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": completed}, IfNoneMatch="*"
    )

    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"fresh"


# -- unknown uploads and bad arguments ------------------------------------------------------


def test_unknown_aborted_or_completed_upload_is_no_such_upload(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    calls = {
        "upload_part": lambda uid: s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=b"x"),
        "list_parts": lambda uid: s3.list_parts(Bucket=bucket, Key=key, UploadId=uid),
        "abort": lambda uid: s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid),
        "complete": lambda uid: s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]}
        ),
    }
    for name, call in calls.items():
        with pytest.raises(ClientError) as excinfo:
            call("not-an-upload-id")
        assert error_of(excinfo) == ("NoSuchUpload", 404), name
    # The id of an upload of another key names no upload of this one.
    with pytest.raises(ClientError) as excinfo:
        s3.list_parts(Bucket=bucket, Key=key + "-other", UploadId=upload_id)
    assert error_of(excinfo) == ("NoSuchUpload", 404)

    answer = s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    for name, call in calls.items():
        with pytest.raises(ClientError) as excinfo:
            call(upload_id)
        assert error_of(excinfo) == ("NoSuchUpload", 404), name


def test_missing_bucket_is_no_such_bucket(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.create_multipart_upload(Bucket=f"missing-{uuid.uuid4().hex[:8]}", Key="k")
    assert error_of(excinfo) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.list_multipart_uploads(Bucket=f"missing-{uuid.uuid4().hex[:8]}")
    assert error_of(excinfo) == ("NoSuchBucket", 404)


@pytest.mark.parametrize("number", [0, 10001])
def test_part_number_out_of_range_is_invalid_argument(s3: Any, bucket: str, upload: tuple[str, str], number: int) -> None:
    key, upload_id = upload
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=b"x")
    assert error_of(excinfo) == ("InvalidArgument", 400)


def test_abort_if_match_initiated_time(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    initiated = s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["Initiated"]

    with pytest.raises(ClientError) as excinfo:
        s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, IfMatchInitiatedTime=initiated - timedelta(hours=1))
    assert error_of(excinfo) == ("PreconditionFailed", 412)

    answer = s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, IfMatchInitiatedTime=initiated)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


# -- part integrity and checksums -------------------------------------------------------------


def test_part_digests_are_checked(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    body = b"part body"
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    cases = [
        ({"ContentMD5": wrong_md5}, ("BadDigest", 400)),
        ({"ContentMD5": "not-base64!"}, ("InvalidDigest", 400)),
        ({"ChecksumCRC32": crc32_b64(b"other")}, ("BadDigest", 400)),
    ]
    for extra, expected in cases:
        with pytest.raises(ClientError) as excinfo:
            s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=body, **extra)
        assert error_of(excinfo) == expected, extra
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)

    good_md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=body, ContentMD5=good_md5)
    assert answer["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'


def test_upload_part_echoes_its_checksum(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256")["UploadId"]
    body = b"checksummed part"
    answer = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=body, ChecksumAlgorithm="SHA256")

    expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert answer["ChecksumSHA256"] == expected
    listed = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    assert listed["Parts"][0]["ChecksumSHA256"] == expected
    assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == ("SHA256", "COMPOSITE")

    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=2, Body=body, ChecksumAlgorithm="CRC32")
    assert error_of(excinfo) == ("InvalidRequest", 400)


def test_composite_checksum_needs_every_part_checksum(s3: Any, bucket: str) -> None:
    created = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == ("CRC32", "COMPOSITE")
    upload_id = created["UploadId"]
    parts = [data(MIN_PART, 10), b"tail"]
    answers = [
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=body, ChecksumAlgorithm="CRC32")
        for n, body in enumerate(parts, start=1)
    ]
    assert [a["ChecksumCRC32"] for a in answers] == [crc32_b64(p) for p in parts]
    with_checksums = [
        {"PartNumber": n, "ETag": a["ETag"], "ChecksumCRC32": a["ChecksumCRC32"]} for n, a in enumerate(answers, start=1)
    ]

    missing = [dict(with_checksums[0]), {"PartNumber": 2, "ETag": answers[1]["ETag"]}]
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": missing})
    assert error_of(excinfo) == ("InvalidRequest", 400)
    wrong = [with_checksums[0], {**with_checksums[1], "ChecksumCRC32": crc32_b64(b"other")}]
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": wrong})
    assert error_of(excinfo) == ("InvalidPart", 400)

    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": with_checksums})

    binary = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    assert done["ChecksumCRC32"] == f"{crc32_b64(binary)}-2"
    assert done["ChecksumType"] == "COMPOSITE"
    assert done["ETag"] == multipart_etag(parts)


def test_full_object_checksum_is_the_crc_of_the_whole_object(s3: Any, bucket: str) -> None:
    created = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    assert created["ChecksumType"] == "FULL_OBJECT"
    upload_id = created["UploadId"]
    parts = [data(MIN_PART, 11), data(100, 12)]
    completed = []
    for number, body in enumerate(parts, start=1):
        answer = s3.upload_part(
            Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=body, ChecksumAlgorithm="CRC32"
        )
        completed.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC32": answer["ChecksumCRC32"]})
    whole = crc32_b64(b"".join(parts))

    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": completed},
            ChecksumCRC32=crc32_b64(b"other"), ChecksumType="FULL_OBJECT",
        )
    assert error_of(excinfo) == ("BadDigest", 400)

    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": completed},
        ChecksumCRC32=whole, ChecksumType="FULL_OBJECT",
    )

    assert (done["ChecksumCRC32"], done["ChecksumType"]) == (whole, "FULL_OBJECT")
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == whole


# -- UploadPartCopy ---------------------------------------------------------------------------


def test_upload_part_copy_with_ranges(s3: Any, bucket: str) -> None:
    source_key = "source dir/naïve+file.bin"
    source = data(MIN_PART + MIB, 13)
    s3.put_object(Bucket=bucket, Key=source_key, Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="copy")["UploadId"]
    copy_source = {"Bucket": bucket, "Key": source_key}

    first = s3.upload_part_copy(
        Bucket=bucket, Key="copy", UploadId=upload_id, PartNumber=1, CopySource=copy_source,
        CopySourceRange=f"bytes=0-{MIN_PART - 1}",
    )
    second = s3.upload_part_copy(
        Bucket=bucket, Key="copy", UploadId=upload_id, PartNumber=2, CopySource=copy_source,
        CopySourceRange=f"bytes={len(source) - 1000}-{len(source) - 1}",
    )
    whole = s3.upload_part_copy(Bucket=bucket, Key="copy", UploadId=upload_id, PartNumber=3, CopySource=copy_source)

    assert first["CopyPartResult"]["ETag"] == f'"{hashlib.md5(source[:MIN_PART]).hexdigest()}"'
    assert second["CopyPartResult"]["ETag"] == f'"{hashlib.md5(source[-1000:]).hexdigest()}"'
    assert whole["CopyPartResult"]["ETag"] == f'"{hashlib.md5(source).hexdigest()}"'
    assert "LastModified" in first["CopyPartResult"]
    sizes = [p["Size"] for p in s3.list_parts(Bucket=bucket, Key="copy", UploadId=upload_id)["Parts"]]
    assert sizes == [MIN_PART, 1000, len(source)]

    parts = [{"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]}]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="copy", UploadId=upload_id, MultipartUpload={"Parts": parts})

    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == source[:MIN_PART] + source[-1000:]
    assert done["ETag"] == multipart_etag([source[:MIN_PART], source[-1000:]])


def test_upload_part_copy_of_an_older_version(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="src", Body=b"old bytes")
    s3.put_object(Bucket=bucket, Key="src", Body=b"new bytes")

    copied = s3.upload_part_copy(
        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src", "VersionId": old["VersionId"]}, CopySourceRange="bytes=0-2",
    )

    assert copied["CopySourceVersionId"] == old["VersionId"]
    assert copied["CopyPartResult"]["ETag"] == f'"{hashlib.md5(b"old").hexdigest()}"'


def test_upload_part_copy_errors(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    put = s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    source = {"Bucket": bucket, "Key": "src"}

    def copy(**extra: Any) -> Any:
        arguments = {"CopySource": source, **extra}
        return s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, **arguments)

    cases = [
        ({"CopySourceRange": "bytes=5-2"}, ("InvalidArgument", 400)),
        ({"CopySourceRange": "5-9"}, ("InvalidArgument", 400)),
        ({"CopySourceRange": "bytes=5-10"}, ("InvalidArgument", 400)),
        ({"CopySourceIfMatch": '"0123456789abcdef0123456789abcdef"'}, ("PreconditionFailed", 412)),
        ({"CopySourceIfNoneMatch": put["ETag"]}, ("PreconditionFailed", 412)),
        ({"CopySource": {"Bucket": bucket, "Key": "absent"}}, ("NoSuchKey", 404)),
    ]
    for extra, expected in cases:
        with pytest.raises(ClientError) as excinfo:
            copy(**extra)
        assert error_of(excinfo) == expected, extra
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)

    copied = copy(CopySourceIfMatch=put["ETag"], CopySourceRange="bytes=5-9")
    assert copied["CopyPartResult"]["ETag"] == f'"{hashlib.md5(b"56789").hexdigest()}"'


# -- listing parts and uploads ------------------------------------------------------------------


def test_list_parts_pages(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    bodies = [f"part {n}".encode() * n for n in range(1, 8)]
    completed = upload_parts(s3, bucket, key, upload_id, bodies)

    page = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=3)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2, 3]
    assert page["IsTruncated"] is True
    assert (page["MaxParts"], page["NextPartNumberMarker"]) == (3, 3)
    assert page["Owner"]["ID"] and page["Initiator"]["ID"]
    assert page["StorageClass"] == "STANDARD"
    assert [p["Size"] for p in page["Parts"]] == [len(b) for b in bodies[:3]]

    rest = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=5)
    assert [p["PartNumber"] for p in rest["Parts"]] == [6, 7]
    assert rest["IsTruncated"] is False
    assert rest["PartNumberMarker"] == 5

    pages = s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key=key, UploadId=upload_id, PaginationConfig={"PageSize": 2}
    )
    seen = [(p["PartNumber"], p["ETag"]) for page in pages for p in page["Parts"]]
    assert seen == [(c["PartNumber"], c["ETag"]) for c in completed]


def test_list_parts_refuses_a_negative_max_parts(s3: Any, bucket: str, upload: tuple[str, str]) -> None:
    key, upload_id = upload
    with pytest.raises(ClientError) as excinfo:
        s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=-1)
    assert error_of(excinfo) == ("InvalidArgument", 400)


def test_list_multipart_uploads_pages_by_key_then_initiation(s3: Any, bucket: str) -> None:
    keys = ["a/1", "a/2", "b", "c d", "c+d", "c%d", "é", "b"]
    created = [(key, s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]) for key in keys]
    # By key (UTF-8 order), then oldest first for one key.
    expected = sorted(created, key=lambda entry: (entry[0].encode(), created.index(entry)))

    whole = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in whole["Uploads"]] == expected
    assert whole["IsTruncated"] is False
    assert all(u["Initiator"]["ID"] and u["Owner"]["ID"] and u["StorageClass"] == "STANDARD" for u in whole["Uploads"])

    pages = list(s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3}))
    assert [len(page.get("Uploads", [])) for page in pages] == [3, 3, 2]
    assert pages[0]["IsTruncated"] is True
    assert (pages[0]["NextKeyMarker"], pages[0]["NextUploadIdMarker"]) == expected[2]
    assert [(u["Key"], u["UploadId"]) for page in pages for u in page["Uploads"]] == expected

    # key-marker alone resumes after every upload of that key.
    after_b = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b")
    assert [u["Key"] for u in after_b["Uploads"]] == ["c d", "c%d", "c+d", "é"]

    grouped = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/"]
    assert "a/1" not in [u["Key"] for u in grouped["Uploads"]]
    prefixed = s3.list_multipart_uploads(Bucket=bucket, Prefix="c")
    assert [u["Key"] for u in prefixed["Uploads"]] == ["c d", "c%d", "c+d"]


def test_list_multipart_uploads_url_encoding(s3: Any, bucket: str) -> None:
    keys = ["c d", "c+d", "c%d/x", "ü/1"]
    for key in keys:
        s3.create_multipart_upload(Bucket=bucket, Key=key)

    # boto3 does not decode this listing for you: the raw answer is percent-encoded.
    listed = s3.list_multipart_uploads(Bucket=bucket, EncodingType="url", Delimiter="/")

    assert listed["EncodingType"] == "url"
    assert [unquote_plus(u["Key"]) for u in listed["Uploads"]] == ["c d", "c+d"]
    assert [u["Key"] for u in listed["Uploads"]] == ["c+d", "c%2Bd"]
    assert [unquote_plus(p["Prefix"]) for p in listed["CommonPrefixes"]] == ["c%d/", "ü/"]


def test_list_multipart_uploads_refuses_a_negative_max_uploads(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.list_multipart_uploads(Bucket=bucket, MaxUploads=-1)
    assert error_of(excinfo) == ("InvalidArgument", 400)


# -- boto3's managed transfers ----------------------------------------------------------------


def test_managed_transfer_in_parts_round_trips(any_server: Any, tmp_file: Any, tmp_path: Path) -> None:
    s3 = any_server.client("s3")
    bucket = f"transfer-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    source = tmp_file(40 * MIB + 12345, seed=21)
    config = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB, max_concurrency=4)

    s3.upload_file(str(source), bucket, "big/file.bin", Config=config)
    target = tmp_path / "downloaded.bin"
    s3.download_file(bucket, "big/file.bin", str(target), Config=config)

    assert _sha256(target) == _sha256(source)
    head = s3.head_object(Bucket=bucket, Key="big/file.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == source.stat().st_size
    chunks = [source.read_bytes()[offset : offset + 8 * MIB] for offset in range(0, source.stat().st_size, 8 * MIB)]
    assert head["ETag"] == multipart_etag(chunks)
    # s3transfer asks for CRC32 and lists each part's checksum (the UploadPart echo).
    assert head["ChecksumCRC32"].endswith(f"-{len(chunks)}")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(MIB):
            digest.update(block)
    return digest.hexdigest()
