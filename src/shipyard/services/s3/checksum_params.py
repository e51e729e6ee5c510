"""Which flexible checksum an upload names, and the value it promises (header or trailer)."""

from __future__ import annotations

from typing import Any

from shipyard.aws.wire import BodyStream
from shipyard.errors import AwsError
from shipyard.store.bodies import ExpectedChecksum
from shipyard.store.checksums import ALGORITHMS, algorithm_named, checksum_header

_NOT_VALUES = frozenset({"ChecksumAlgorithm", "ChecksumType", "ChecksumMode"})


def requested_checksum(params: dict[str, Any], headers: Any, body: BodyStream | None) -> tuple[str | None, ExpectedChecksum]:
    """The algorithm and expected value an upload (PutObject, UploadPart) carries.

    The value comes from an ``x-amz-checksum-<alg>`` header, or, for ``aws-chunked``
    bodies, from the trailer that ``x-amz-trailer`` announces (read once the body ends).
    ``x-amz-sdk-checksum-algorithm`` alone names the algorithm without a value.
    """
    unsupported = [name for name in params if name.startswith("Checksum") and name not in _NOT_VALUES and name[8:] not in ALGORITHMS]
    if unsupported:
        raise AwsError("InvalidRequest", f"Checksum algorithm {unsupported[0][8:]} is not supported.", 400)
    given = [(name, params[f"Checksum{name}"]) for name in ALGORITHMS if params.get(f"Checksum{name}")]
    if len(given) > 1:
        raise AwsError("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.", 400)
    if given:
        return given[0]
    trailer = (headers.get("x-amz-trailer") or "").strip().lower()
    if trailer:
        algorithm = algorithm_named(trailer)
        if algorithm is None or not trailer.startswith("x-amz-checksum-"):
            raise AwsError("InvalidRequest", f"The value specified in the x-amz-trailer header is not supported: {trailer}", 400)
        header = checksum_header(algorithm)
        return algorithm, lambda: _trailer_value(body, header)
    named = params.get("ChecksumAlgorithm")
    return (named.upper() if named else None), None


def _trailer_value(body: BodyStream | None, header: str) -> str:
    trailers = getattr(body, "trailers", {}) or {}
    value = trailers.get(header)
    if value is None:
        raise AwsError("InvalidRequest", f"The trailing header {header} was announced but not sent.", 400)
    return value
