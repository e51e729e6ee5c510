"""The ``rest-xml`` protocol (S3): rest routing with XML bodies.

botocore's S3 model does not carry the root element names of S3's answers (they do not
follow the shape names: ``ListObjectsV2`` answers ``<ListBucketResult>``), so they are
listed here from the S3 API reference.
"""

from __future__ import annotations

import base64
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from shipyard.aws.protocols import xml
from shipyard.aws.protocols.rest import RestCodec
from shipyard.aws.wire import WireRequest, WireResponse
from shipyard.errors import AwsError

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"

S3_ROOTS = {
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CreateSession": "CreateSessionResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycle": "LifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotification": "NotificationConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetObjectAcl": "AccessControlPolicy",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "GetObjectTagging": "Tagging",
    "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
    "ListBucketIntelligentTieringConfigurations": "ListBucketIntelligentTieringConfigurationsOutput",
    "ListBucketInventoryConfigurations": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListParts": "ListPartsResult",
}

# Answers whose single member is the text of the root element itself.
S3_TEXT_ROOTS = {"GetBucketLocation": "LocationConstraint"}


def _is_s3(service: ServiceModel) -> bool:
    return service.service_name == "s3"


class RestXmlCodec(RestCodec):
    """rest-xml, with S3's error document, request ids and root element names."""

    name = "rest-xml"

    def content_type(self, service: ServiceModel) -> str:
        return "application/xml" if _is_s3(service) else "text/xml"

    def no_route(self, service: ServiceModel, request: WireRequest) -> AwsError:
        return AwsError(
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            405,
            fields={"Method": request.method.upper()},
        )

    def invalid_input(self, message: str) -> AwsError:
        return AwsError("InvalidArgument", message, 400)

    def id_headers(self, service: ServiceModel, request_id: str) -> list[tuple[str, str]]:
        if not _is_s3(service):
            return super().id_headers(service, request_id)
        return [("x-amz-request-id", request_id), ("x-amz-id-2", _host_id(request_id))]

    def read_body(self, shape: Shape, body: bytes) -> dict[str, Any]:
        try:
            root = xml.parse_document(body)
        except xml.MalformedXml as exc:
            raise AwsError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            ) from exc
        return xml.read(shape, root)

    def write_body(
        self, operation: OperationModel, shape: Shape, value: dict[str, Any], root: str | None
    ) -> bytes:
        service = operation.service_model
        is_s3 = _is_s3(service)
        default_ns = f' xmlns="{S3_NAMESPACE if is_s3 else xml.service_namespace(service)}"'
        out = [xml.DECLARATION]
        if root is None and is_s3 and operation.name in S3_TEXT_ROOTS:
            name = S3_TEXT_ROOTS[operation.name]
            xml.write(shape.members[name], value.get(name) or "", name, out, default_ns)
            return "".join(out).encode()
        if root is None:
            root = S3_ROOTS.get(operation.name) if is_s3 else None
            root = root or shape.serialization.get("name") or shape.name
        attributes = "" if "xmlNamespace" in shape.serialization else default_ns
        xml.write(shape, value, root, out, attributes)
        return "".join(out).encode()

    def serialize_error(
        self,
        service: ServiceModel,
        operation: OperationModel | None,
        error: AwsError,
        request_id: str,
        *,
        method: str = "POST",
    ) -> WireResponse:
        """S3: ``<Error><Code/><Message/>{fields}<RequestId/><HostId/></Error>``; others the
        ``<ErrorResponse>`` document. A HEAD answer has no body, only the status and headers.
        """
        headers = self.id_headers(service, request_id) + list(error.headers.items())
        if method.upper() == "HEAD":
            return WireResponse(error.status, headers)
        fields = "".join(f"<{name}>{xml.escape(str(value))}</{name}>" for name, value in error.fields.items())
        code, message = xml.escape(error.code), xml.escape(error.message)
        if _is_s3(service):
            body = (
                f"{xml.DECLARATION}<Error><Code>{code}</Code><Message>{message}</Message>{fields}"
                f"<RequestId>{xml.escape(request_id)}</RequestId>"
                f"<HostId>{_host_id(request_id)}</HostId></Error>"
            )
        else:
            fault = "Sender" if error.sender_fault else "Receiver"
            body = (
                f'{xml.DECLARATION}<ErrorResponse xmlns="{xml.service_namespace(service)}">'
                f"<Error><Type>{fault}</Type><Code>{code}</Code><Message>{message}</Message>{fields}</Error>"
                f"<RequestId>{xml.escape(request_id)}</RequestId></ErrorResponse>"
            )
        headers.append(("Content-Type", self.content_type(service)))
        return WireResponse(error.status, headers, body.encode())


def _host_id(request_id: str) -> str:
    """S3's ``x-amz-id-2``: an opaque token tied to the request."""
    return base64.b64encode(request_id.encode()).decode("ascii")
