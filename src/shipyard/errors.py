"""One error hierarchy: every error a client can see knows its AWS code and HTTP status.

Protocol serializers turn an :class:`AwsError` into the error body of the request's
protocol (query XML, JSON ``__type``, S3 ``<Error>``), so services raise these and never
format error responses themselves.
"""

from __future__ import annotations


class ShipyardError(Exception):
    """Base of every error Shipyard raises on purpose."""


class AwsError(ShipyardError):
    """An error answered to a client in AWS's terms.

    ``code`` is the wire error code (``NoSuchBucket``, ``ValidationException``);
    ``status`` the HTTP status; ``fields`` extra members some protocols put in the error
    body (S3's ``<BucketName>``, ``<Key>``, ``<Resource>``...); ``headers`` extra response
    headers (S3's ``x-amz-delete-marker`` on a 404, ``Content-Range`` on a 416).
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        sender_fault: bool = True,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"AwsError({self.code!r}, {self.message!r}, {self.status})"


class InternalError(AwsError):
    """A fault of the server, never of the request."""

    def __init__(self, message: str = "We encountered an internal error. Please try again.") -> None:
        super().__init__("InternalError", message, 500, sender_fault=False)


class NotImplementedOperation(AwsError):
    """An operation AWS defines that this server does not serve (yet)."""

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            "NotImplemented",
            f"The {service} operation {operation} is not implemented by Shipyard.",
            501,
        )
