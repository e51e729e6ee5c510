"""Checksums of streamed bodies, cross-checked against botocore's own implementations."""

from __future__ import annotations

import base64
import hashlib
import random

import pytest
from botocore.httpchecksum import (
    CrtCrc32cChecksum,
    CrtCrc32Checksum,
    CrtCrc64NvmeChecksum,
    Sha1Checksum,
    Sha256Checksum,
)

from shipyard.errors import AwsError
from shipyard.store.checksums import (
    ALGORITHMS,
    ChecksumAlgorithm,
    Checksummer,
    algorithm_named,
    checksum_header,
    composite_checksum,
    decode_checksum,
    decode_content_md5,
    full_object_checksum,
)

BOTOCORE = {
    "CRC32": CrtCrc32Checksum,
    "CRC32C": CrtCrc32cChecksum,
    "CRC64NVME": CrtCrc64NvmeChecksum,
    "SHA1": Sha1Checksum,
    "SHA256": Sha256Checksum,
}
DATA = random.Random(7).randbytes(300_001)


def botocore_value(algorithm: str, data: bytes) -> str:
    checksum = BOTOCORE[algorithm]()
    checksum.update(data)
    return checksum.b64digest()


def pieces(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), 40))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("data", [b"", b"a", DATA], ids=["empty", "one-byte", "300k"])
def test_values_match_botocore(algorithm: ChecksumAlgorithm, data: bytes) -> None:
    summer = Checksummer([algorithm])
    for piece in pieces(data, 1) if len(data) > 100 else [data]:
        summer.update(piece)
    assert summer.value(algorithm) == botocore_value(algorithm, data)


def test_one_pass_computes_every_algorithm_and_md5() -> None:
    summer = Checksummer(ALGORITHMS)
    for piece in pieces(DATA, 2):
        summer.update(memoryview(piece))
    assert summer.size == len(DATA)
    assert summer.md5_hex() == hashlib.md5(DATA).hexdigest()
    for algorithm in ALGORITHMS:
        assert summer.value(algorithm) == botocore_value(algorithm, DATA)
        assert summer.digest(algorithm) == base64.b64decode(summer.value(algorithm))


def test_digest_sizes_are_big_endian() -> None:
    summer = Checksummer(["CRC32", "CRC64NVME"], md5=False)
    summer.update(b"hello")
    assert len(summer.digest("CRC32")) == 4
    assert int.from_bytes(summer.digest("CRC32"), "big") == 0x3610A686  # zlib.crc32(b"hello")
    assert len(summer.digest("CRC64NVME")) == 8


def test_asking_for_an_algorithm_not_computed_is_a_programming_error() -> None:
    summer = Checksummer(["CRC32"], md5=False)
    with pytest.raises(ValueError):
        summer.value("SHA256")
    with pytest.raises(ValueError):
        summer.md5_hex()


def test_header_names_and_algorithm_lookup() -> None:
    assert [checksum_header(a) for a in ALGORITHMS] == [
        "x-amz-checksum-crc32",
        "x-amz-checksum-crc32c",
        "x-amz-checksum-crc64nvme",
        "x-amz-checksum-sha1",
        "x-amz-checksum-sha256",
    ]
    assert algorithm_named("crc32c") == "CRC32C"
    assert algorithm_named("x-amz-checksum-crc64nvme") == "CRC64NVME"
    assert algorithm_named("X-Amz-Checksum-SHA256") == "SHA256"
    assert algorithm_named("x-amz-checksum-type") is None
    assert algorithm_named("MD5") is None


def test_content_md5_verification() -> None:
    summer = Checksummer()
    summer.update(DATA)
    summer.verify_content_md5(base64.b64encode(hashlib.md5(DATA).digest()).decode())
    with pytest.raises(AwsError) as bad:
        summer.verify_content_md5(base64.b64encode(hashlib.md5(b"other").digest()).decode())
    assert (bad.value.code, bad.value.status) == ("BadDigest", 400)
    assert bad.value.message == "The Content-MD5 you specified did not match what we received."


@pytest.mark.parametrize(
    "value", ["not base64!", "", "AAAA", base64.b64encode(b"x" * 20).decode(), "q83vEjRWeJq83vEjRWeJqw"]
)
def test_invalid_content_md5(value: str) -> None:
    with pytest.raises(AwsError) as invalid:
        decode_content_md5(value)
    assert (invalid.value.code, invalid.value.status) == ("InvalidDigest", 400)
    assert invalid.value.message == "The Content-MD5 you specified was invalid."


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_flexible_checksum_verification(algorithm: ChecksumAlgorithm) -> None:
    summer = Checksummer([algorithm], md5=False)
    summer.update(DATA)
    summer.verify(algorithm, botocore_value(algorithm, DATA))
    with pytest.raises(AwsError) as bad:
        summer.verify(algorithm, botocore_value(algorithm, b"other"))
    assert (bad.value.code, bad.value.status) == ("BadDigest", 400)
    assert bad.value.message == f"The {algorithm} you specified did not match the calculated checksum."


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("value", ["%%%", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
def test_malformed_flexible_checksum(algorithm: ChecksumAlgorithm, value: str) -> None:
    with pytest.raises(AwsError) as invalid:
        decode_checksum(algorithm, value)
    assert (invalid.value.code, invalid.value.status) == ("InvalidRequest", 400)
    assert invalid.value.message == f"Value for {checksum_header(algorithm)} header is invalid."


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_composite_checksum_is_checksum_of_binary_part_checksums(algorithm: ChecksumAlgorithm) -> None:
    parts = [DATA[:100_000], DATA[100_000:250_000], DATA[250_000:]]
    part_values = [botocore_value(algorithm, part) for part in parts]
    concatenated = b"".join(base64.b64decode(value) for value in part_values)
    assert composite_checksum(algorithm, part_values) == f"{botocore_value(algorithm, concatenated)}-3"


def test_composite_checksum_refuses_malformed_part_values() -> None:
    with pytest.raises(AwsError) as invalid:
        composite_checksum("CRC32", ["AAAAAA==", "nonsense"])
    assert invalid.value.code == "InvalidRequest"


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_checksum_equals_checksum_of_whole_object(algorithm: ChecksumAlgorithm) -> None:
    parts = [DATA[:5], DATA[5:200_000], b"", DATA[200_000:]]
    combined = full_object_checksum(algorithm, [(botocore_value(algorithm, part), len(part)) for part in parts])
    assert combined == botocore_value(algorithm, DATA)


def test_full_object_checksum_needs_a_crc() -> None:
    with pytest.raises(ValueError):
        full_object_checksum("SHA256", [(botocore_value("SHA256", b"x"), 1)])
