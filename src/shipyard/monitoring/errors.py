"""CloudWatch's client errors (the query protocol's codes, which its json and CBOR answers keep)."""

from __future__ import annotations

from shipyard.errors import AwsError


def validation_error(message: str) -> AwsError:
    return AwsError("ValidationError", message, 400)


def invalid_value(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message, 400)


def invalid_combination(message: str) -> AwsError:
    return AwsError("InvalidParameterCombination", message, 400)


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFound", message, 404)
