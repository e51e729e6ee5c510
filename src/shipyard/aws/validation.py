"""Input validation against a service model's constraints, worded as AWS words it.

AWS's RPC services check every request member against the model (required, length,
range, pattern, enum) before anything else and list what failed::

    1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy
    constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*

boto3 checks only part of this on the client (required members, minimums), so the
server must check it all. S3 does not work this way and is not validated here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import lru_cache
from typing import Any

import regex
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from shipyard.errors import AwsError

#: Stop listing after this many problems, as AWS does.
_MAX_REPORTED = 10

#: Services that answer a constraint violation with their own code (CloudWatch Logs,
#: SageMaker Runtime).
_SERVICE_CODES = {"logs": "InvalidParameterException", "sagemaker-runtime": "ValidationError"}


def validate_input(operation: OperationModel, params: dict[str, Any], *, skip: Collection[str] = ()) -> None:
    """Raise ``ValidationError`` (query), ``ValidationException`` (or the service's own code) listing every violation.

    Top-level members named in ``skip`` are left to the handler, which answers with the
    service's own error for them.
    """
    if operation.input_shape is None:
        return
    checked = {name: value for name, value in params.items() if name not in skip}
    problems = list(_check_structure(operation.input_shape, checked, "", skip))
    if not problems:
        return
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    message = f"{count} validation {noun} detected: " + "; ".join(problems[:_MAX_REPORTED])
    protocol = operation.service_model.protocol
    code = _SERVICE_CODES.get(
        operation.service_model.service_name, "ValidationError" if protocol == "query" else "ValidationException"
    )
    raise AwsError(code, message, 400)


def _check_structure(shape: StructureShape, value: Any, path: str, skip: Collection[str] = ()) -> Iterator[str]:
    if not isinstance(value, dict):
        return
    for name in shape.required_members:
        if value.get(name) is None and name not in skip:
            yield f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null"
    for name, member in shape.members.items():
        if value.get(name) is not None:
            yield from _check(member, value[name], _join(path, name))


def _check(shape: Shape, value: Any, path: str) -> Iterator[str]:
    if isinstance(shape, StructureShape):
        yield from _check_structure(shape, value, path)
        return
    metadata = shape.metadata
    if isinstance(shape, ListShape) and isinstance(value, list):
        yield from _check_size(metadata, len(value), value, path)
        for index, item in enumerate(value, start=1):
            yield from _check(shape.member, item, f"{path}.{index}.member")
        return
    if isinstance(shape, MapShape) and isinstance(value, dict):
        yield from _check_size(metadata, len(value), value, path)
        for key, item in value.items():
            yield from _check(shape.value, item, f"{path}.{key}")
        return
    if shape.type_name == "string" and isinstance(value, str):
        yield from _check_size(metadata, len(value), value, path)
        if (pattern := metadata.get("pattern")) and not _compiled(pattern).fullmatch(value):
            yield _problem(value, path, f"Member must satisfy regular expression pattern: {pattern}")
        if shape.enum and value not in shape.enum:
            yield _problem(value, path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
    elif shape.type_name in ("integer", "long", "float", "double") and isinstance(value, (int, float)):
        if (low := metadata.get("min")) is not None and value < low:
            yield _problem(value, path, f"Member must have value greater than or equal to {low}")
        if (high := metadata.get("max")) is not None and value > high:
            yield _problem(value, path, f"Member must have value less than or equal to {high}")


def _check_size(metadata: dict[str, Any], size: int, value: Any, path: str) -> Iterator[str]:
    if (low := metadata.get("min")) is not None and size < low:
        yield _problem(value, path, f"Member must have length greater than or equal to {low}")
    if (high := metadata.get("max")) is not None and size > high:
        yield _problem(value, path, f"Member must have length less than or equal to {high}")


def _problem(value: Any, path: str, constraint: str) -> str:
    shown = f"'{value}'" if isinstance(value, str) else str(value)
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def _join(path: str, name: str) -> str:
    member = name[:1].lower() + name[1:]
    return f"{path}.{member}" if path else member


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> regex.Pattern[str]:
    """A model pattern (Java syntax) as a compiled regex.

    The ``regex`` module knows Java's ``\\p{L}`` / ``\\p{Alnum}`` classes; what it lacks is
    translated: code points above U+FFFF written ``\\u10000``, surrogate escapes (Python
    strings hold code points, never surrogates), and a ``-`` after a class shorthand.
    """
    translated = regex.sub(r"\\u(10[0-9A-Fa-f]{4}|[0-9A-Fa-f]{5})", lambda m: chr(int(m.group(1), 16)), pattern)
    translated = translated.replace("\\uD800\\uDC00-\\uDBFF\\uDFFF", "\\U00010000-\\U0010FFFF")
    translated = translated.replace("\\w-_", "\\w_-")
    return regex.compile(translated)
