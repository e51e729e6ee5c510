"""aws-chunked request bodies: AWS's published examples, real boto3 bodies, arbitrary splits."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from starlette.datastructures import Headers

from shipyard.aws.chunked import AwsChunkedDecoder
from shipyard.aws.signing import (
    VerifiedSignature,
    parse_authorization,
    verify_signature,
)
from shipyard.aws.wire import WireRequest
from shipyard.errors import AwsError
from shipyard.store.checksums import Checksummer

# The examples of "Signature Calculations for the Authorization Header: Transferring Payload
# in Multiple Chunks" and "... Including Trailing Headers" in the Amazon S3 API reference.
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_TIME = datetime(2013, 5, 24, tzinfo=UTC)
PAYLOAD = b"a" * 66560
SIGNED_BODY = (
    b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"
    + b"a" * 65536
    + b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n"
    + b"a" * 1024
    + b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"
)
TRAILER_BODY = (
    b"10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n"
    + b"a" * 65536
    + b"\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n"
    + b"a" * 1024
    + b"\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n"
    + b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
    + b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n"
)
SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def aws_example_signature(content_sha256: str, seed: str, extra_signed: dict[str, str]) -> VerifiedSignature:
    """The verified request signature of AWS's example, checked by the server's own verifier."""
    signed = {
        "content-encoding": "aws-chunked",
        "host": "s3.amazonaws.com",
        "x-amz-content-sha256": content_sha256,
        "x-amz-date": "20130524T000000Z",
        "x-amz-decoded-content-length": "66560",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        **extra_signed,
    }
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        f"SignedHeaders={';'.join(sorted(signed))}, Signature={seed}"
    )
    headers = Headers(raw=[(k.encode(), v.encode()) for k, v in [*signed.items(), ("authorization", authorization)]])
    request = WireRequest("PUT", "/examplebucket/chunkObject.txt", "/examplebucket/chunkObject.txt", [], headers)
    info = parse_authorization(request)
    assert info is not None
    return verify_signature(
        request, info, AWS_SECRET, payload_hash=content_sha256, host="s3.amazonaws.com", now=AWS_TIME
    )


@pytest.fixture(scope="module")
def signed_example() -> VerifiedSignature:
    return aws_example_signature(
        SIGNED, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", {"content-length": "66824"}
    )


@pytest.fixture(scope="module")
def trailer_example() -> VerifiedSignature:
    return aws_example_signature(
        SIGNED_TRAILER,
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
        {"x-amz-trailer": "x-amz-checksum-crc32c"},
    )


async def _stream(pieces: Iterable[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def decode(
    pieces: Iterable[bytes],
    content_sha256: str = UNSIGNED_TRAILER,
    signature: VerifiedSignature | None = None,
    decoded_length: int | None = None,
) -> tuple[bytes, dict[str, str], list[int]]:
    """The decoded payload, the trailers and the sizes of the pieces the decoder yielded."""

    async def run() -> tuple[bytes, dict[str, str], list[int]]:
        decoder = AwsChunkedDecoder(
            _stream(pieces), content_sha256=content_sha256, signature=signature, decoded_length=decoded_length
        )
        out = bytearray()
        sizes = []
        async for data in decoder:
            out += data
            sizes.append(len(data))
        return bytes(out), decoder.trailers, sizes

    return asyncio.run(run())


def decode_error(pieces: Iterable[bytes], **kwargs: object) -> AwsError:
    with pytest.raises(AwsError) as caught:
        decode(pieces, **kwargs)  # type: ignore[arg-type]
    return caught.value


def random_split(body: bytes, seed: int, max_piece: int = 5000) -> list[bytes]:
    rng = random.Random(seed)
    pieces, pos = [], 0
    while pos < len(body):
        size = rng.randint(1, max_piece)
        pieces.append(body[pos : pos + size])
        pos += size
    return pieces


def bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


def unsigned_body(data: bytes, chunk_sizes: list[int], trailers: str = "") -> bytes:
    out, pos = bytearray(), 0
    for size in chunk_sizes:
        out += b"%x\r\n%s\r\n" % (size, data[pos : pos + size])
        pos += size
    assert pos == len(data)
    return bytes(out) + b"0\r\n" + trailers.encode() + b"\r\n"


def tampered(body: bytes, old: bytes, new: bytes) -> bytes:
    assert body.count(old) >= 1
    return body.replace(old, new, 1)


# -- signed chunks ------------------------------------------------------------------------


def test_aws_signed_example_decodes(signed_example: VerifiedSignature) -> None:
    assert len(SIGNED_BODY) == 66824
    payload, trailers, _ = decode([SIGNED_BODY], SIGNED, signed_example, 66560)
    assert payload == PAYLOAD
    assert trailers == {}


@pytest.mark.parametrize("seed", range(5))
def test_aws_signed_example_in_random_pieces(signed_example: VerifiedSignature, seed: int) -> None:
    payload, _, _ = decode(random_split(SIGNED_BODY, seed, max_piece=700), SIGNED, signed_example, 66560)
    assert payload == PAYLOAD


def test_aws_signed_example_split_at_every_framing_boundary(signed_example: VerifiedSignature) -> None:
    # Byte by byte through the chunk headers, CRLFs and trailer; the data in one piece each.
    first = SIGNED_BODY.index(b"\r\n") + 2
    second_header = first + 65536
    second = SIGNED_BODY.index(b"\r\n", second_header + 2) + 2
    final = second + 1024
    pieces = [
        *bytewise(SIGNED_BODY[:first]),
        SIGNED_BODY[first:second_header],
        *bytewise(SIGNED_BODY[second_header:second]),
        SIGNED_BODY[second:final],
        *bytewise(SIGNED_BODY[final:]),
    ]
    payload, _, _ = decode(pieces, SIGNED, signed_example, 66560)
    assert payload == PAYLOAD


def test_aws_trailer_example_decodes_and_checks_trailer_signature(trailer_example: VerifiedSignature) -> None:
    payload, trailers, _ = decode(random_split(TRAILER_BODY, 3), SIGNED_TRAILER, trailer_example, 66560)
    assert payload == PAYLOAD
    assert trailers == {"x-amz-checksum-crc32c": "sOO8/Q=="}
    summer = Checksummer(["CRC32C"], md5=False)
    summer.update(payload)
    summer.verify("CRC32C", trailers["x-amz-checksum-crc32c"])


def test_trailer_after_an_empty_line(trailer_example: VerifiedSignature) -> None:
    final = TRAILER_BODY.index(b"\r\n0;chunk-signature") + 2
    line_end = TRAILER_BODY.index(b"\r\n", final) + 2
    variant = TRAILER_BODY[:line_end] + b"\r\n" + TRAILER_BODY[line_end:]
    _, trailers, _ = decode([variant], SIGNED_TRAILER, trailer_example, 66560)
    assert trailers == {"x-amz-checksum-crc32c": "sOO8/Q=="}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"aaaa\r\n400;", b"aaab\r\n400;"),  # a changed byte in the first chunk
        (b"ad80c730a2", b"ad80c730a3"),  # a changed first chunk signature
        (b"0055627c9e", b"0055627c9f"),  # a changed second chunk signature
        (b"b6c6ea8a53", b"b6c6ea8a54"),  # a changed final chunk signature
    ],
)
def test_tampered_signed_body_is_refused(signed_example: VerifiedSignature, old: bytes, new: bytes) -> None:
    error = decode_error([tampered(SIGNED_BODY, old, new)], content_sha256=SIGNED, signature=signed_example)
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)


def test_reordered_chunks_are_refused(signed_example: VerifiedSignature) -> None:
    first_end = SIGNED_BODY.index(b"400;")
    final = SIGNED_BODY.index(b"0;chunk")
    swapped = SIGNED_BODY[first_end:final] + SIGNED_BODY[:first_end] + SIGNED_BODY[final:]
    error = decode_error([swapped], content_sha256=SIGNED, signature=signed_example)
    assert error.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"sOO8/Q==", b"sOO8/R=="),  # a changed checksum
        (b"d81f82fc35", b"d81f82fc36"),  # a changed trailer signature
        (b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n", b""),
    ],
)
def test_tampered_trailer_is_refused(trailer_example: VerifiedSignature, old: bytes, new: bytes) -> None:
    error = decode_error([tampered(TRAILER_BODY, old, new)], content_sha256=SIGNED_TRAILER, signature=trailer_example)
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)


def test_signed_chunk_without_signature_is_malformed(signed_example: VerifiedSignature) -> None:
    first_signature = SIGNED_BODY[SIGNED_BODY.index(b";") : SIGNED_BODY.index(b"\r\n")]
    body = tampered(SIGNED_BODY, first_signature, b"")
    error = decode_error([body], content_sha256=SIGNED, signature=signed_example)
    assert (error.code, error.status) == ("IncompleteBody", 400)


def test_signed_variant_needs_a_sigv4_signature() -> None:
    with pytest.raises(AwsError) as caught:
        AwsChunkedDecoder(_stream([]), content_sha256=SIGNED, signature=None, decoded_length=None)
    assert (caught.value.code, caught.value.status) == ("InvalidRequest", 400)


def test_a_signed_chunk_is_yielded_as_it_arrives(signed_example: VerifiedSignature) -> None:
    _, _, sizes = decode(random_split(SIGNED_BODY, 9, max_piece=1000), SIGNED, signed_example)
    assert max(sizes) <= 1000
    assert sum(sizes) == len(PAYLOAD)


# -- unsigned chunks (what boto3 sends over https) ----------------------------------------


class _EmptyBody:
    def stream(self, **_: object) -> Iterable[bytes]:
        yield b""


def boto3_https_put_body(data: bytes) -> tuple[dict[str, str], bytes]:
    """The headers and body boto3 sends for PutObject over https, captured before sending."""
    client = boto3.client(
        "s3",
        endpoint_url="https://127.0.0.1:8600",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
    captured: list[tuple[dict[str, str], bytes]] = []

    def before_send(request: Any, **_: object) -> AWSResponse:
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        captured.append((headers, request.body.read()))
        return AWSResponse(request.url, 200, {}, _EmptyBody())

    client.meta.events.register("before-send", before_send)
    client.put_object(Bucket="bucket", Key="key", Body=data)
    return captured[0]


@pytest.mark.parametrize("size", [0, 11, 3 * 1024 * 1024 + 7])
def test_boto3_https_put_object_body(size: int) -> None:
    data = random.Random(size).randbytes(size)
    headers, body = boto3_https_put_body(data)
    assert headers["content-encoding"] == "aws-chunked"
    assert headers["x-amz-content-sha256"] == UNSIGNED_TRAILER
    decoded_length = int(headers["x-amz-decoded-content-length"])
    payload, trailers, _ = decode(random_split(body, size, max_piece=65536), UNSIGNED_TRAILER, None, decoded_length)
    assert payload == data
    assert list(trailers) == [headers["x-amz-trailer"]] == ["x-amz-checksum-crc32"]
    summer = Checksummer(["CRC32"])
    summer.update(payload)
    summer.verify("CRC32", trailers["x-amz-checksum-crc32"])


def test_unsigned_body_byte_by_byte() -> None:
    data = b"hello, aws-chunked world"
    body = unsigned_body(data, [5, 1, 18], "x-amz-checksum-crc32:AAAAAA==\r\n")
    payload, trailers, _ = decode(bytewise(body), decoded_length=len(data))
    assert payload == data
    assert trailers == {"x-amz-checksum-crc32": "AAAAAA=="}


@pytest.mark.parametrize("seed", range(20))
def test_unsigned_body_in_random_pieces(seed: int) -> None:
    rng = random.Random(seed)
    data = rng.randbytes(rng.randint(0, 40_000))
    sizes, left = [], len(data)
    while left:
        sizes.append(min(left, rng.randint(1, 9000)))
        left -= sizes[-1]
    body = unsigned_body(data, sizes, "X-Amz-Checksum-Sha256 : abc=\r\n")
    pieces = random_split(body, seed, max_piece=rng.choice([1, 3, 100, 10_000]))
    payload, trailers, _ = decode(pieces, "UNSIGNED-PAYLOAD")
    assert payload == data
    assert trailers == {"x-amz-checksum-sha256": "abc="}


def test_unsigned_variant_ignores_chunk_extensions() -> None:
    body = b"5;chunk-signature=whatever\r\nhello\r\n0\r\n\r\n"
    assert decode([body], "STREAMING-UNSIGNED-PAYLOAD")[0] == b"hello"


def test_large_chunk_is_never_buffered_whole() -> None:
    data = bytes(range(256)) * (8 * 1024 * 1024 // 256)
    body = unsigned_body(data, [len(data)])
    pieces = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    payload, _, sizes = decode(pieces, decoded_length=len(data))
    assert payload == data
    assert max(sizes) <= 65536


def test_the_body_can_be_read_only_once() -> None:
    async def run() -> None:
        decoder = AwsChunkedDecoder(
            _stream([b"0\r\n\r\n"]), content_sha256=UNSIGNED_TRAILER, signature=None, decoded_length=0
        )
        assert [piece async for piece in decoder] == []
        with pytest.raises(RuntimeError):
            async for _ in decoder:
                pass

    asyncio.run(run())


# -- malformed bodies ---------------------------------------------------------------------

VALID = unsigned_body(b"hello world", [5, 6], "x-amz-checksum-crc32:DUoRhQ==\r\n")


@pytest.mark.parametrize("cut", range(len(VALID)))
def test_truncated_body_is_incomplete(cut: int) -> None:
    error = decode_error([VALID[:cut]], decoded_length=11)
    assert (error.code, error.status) == ("IncompleteBody", 400)
    assert error.message == "The request body terminated unexpectedly"


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",  # a size that is not hex
        b"0x5\r\nhello\r\n0\r\n\r\n",  # a size with a prefix
        b"+5\r\nhello\r\n0\r\n\r\n",  # a signed size
        b"\r\nhello\r\n0\r\n\r\n",  # no size
        b"5\nhello\r\n0\r\n\r\n",  # a bare LF
        b"5\r\nhelloXX0\r\n\r\n",  # no CRLF after the data
        b"3\r\nhello\r\n0\r\n\r\n",  # a size shorter than the data
        b"5\r\nhello\r\n0\r\nno-colon\r\n\r\n",  # a trailer that is not a header
        b"5\r\nhello\r\n0\r\n\r\ngarbage",  # bytes after the end
        b"5\r\nhello\r\n0\r\n\r\n\r\n\r\n",  # empty lines after the end
        b"1" * 20000 + b"\r\n",  # an endless size line
        b"5\r\nhello\r\n0\r\n" + b"x-amz-meta-a:" + b"b" * 9000 + b"\r\n\r\n",  # an endless trailer
        b"5\r\nhello\r\n0\r\n" + b"".join(b"x-%d:v\r\n" % i for i in range(65)) + b"\r\n",  # too many trailers
    ],
)
def test_malformed_framing(body: bytes) -> None:
    for pieces in ([body], bytewise(body)):
        error = decode_error(pieces)
        assert (error.code, error.status) == ("IncompleteBody", 400)


@pytest.mark.parametrize(("declared", "provided"), [(10, 11), (12, 11), (0, 5)])
def test_decoded_length_mismatch(declared: int, provided: int) -> None:
    data = b"hello world"[:provided]
    error = decode_error([unsigned_body(data, [provided])], decoded_length=declared)
    assert (error.code, error.status) == ("IncompleteBody", 400)
    assert error.message == "You did not provide the number of bytes specified by the Content-Length HTTP header"
    assert error.fields["NumberBytesExpected"] == str(declared)


def test_decoded_length_overrun_stops_before_yielding_the_excess() -> None:
    yielded: list[bytes] = []

    async def run() -> None:
        body = unsigned_body(b"a" * 10 + b"b" * 10, [10, 10])
        decoder = AwsChunkedDecoder(_stream([body]), content_sha256=UNSIGNED_TRAILER, signature=None, decoded_length=15)
        async for data in decoder:
            yielded.append(data)

    with pytest.raises(AwsError) as caught:
        asyncio.run(run())
    assert caught.value.code == "IncompleteBody"
    assert b"".join(yielded) == b"a" * 10


# -- a signed body made here, for splits the AWS example does not have ----------------------


def signed_body(signature: VerifiedSignature, data: bytes, chunk_sizes: list[int]) -> bytes:
    assert signature.signing_key is not None
    previous, out, pos = signature.info.signature, bytearray(), 0
    empty = hashlib.sha256(b"").hexdigest()
    for size in [*chunk_sizes, 0]:
        chunk = data[pos : pos + size]
        pos += size
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                signature.info.amz_date or "",
                signature.info.scope or "",
                previous,
                empty,
                hashlib.sha256(chunk).hexdigest(),
            ]
        )
        previous = hmac.new(signature.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        out += b"%x;chunk-signature=%s\r\n%s\r\n" % (size, previous.encode(), chunk)
    return bytes(out)


@pytest.mark.parametrize("seed", range(5))
def test_signed_body_with_many_small_chunks(signed_example: VerifiedSignature, seed: int) -> None:
    rng = random.Random(seed)
    data = rng.randbytes(5000)
    sizes = [1, 2, 3, 4994]
    body = signed_body(signed_example, data, sizes)
    payload, _, _ = decode(random_split(body, seed, max_piece=rng.choice([1, 7, 200])), SIGNED, signed_example, 5000)
    assert payload == data
