"""botocore service models, loaded once per service and shared by the whole server.

The codecs in :mod:`shipyard.aws.protocols` are driven entirely by these models, so a
model object is loaded once (botocore caches the shapes it resolves inside it) and
every later lookup is a dict access.
"""

from __future__ import annotations

import functools

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The botocore model of service ``name`` (``"s3"``, ``"sagemaker"``...), cached."""
    return _session().get_service_model(name)


def operation_model(service: str, operation: str) -> OperationModel:
    """The model of ``operation`` of ``service`` (botocore caches it inside the service)."""
    return service_model(service).operation_model(operation)


@functools.cache
def operation_names(service: ServiceModel) -> frozenset[str]:
    """The names of every operation ``service`` defines, for fast membership tests."""
    return frozenset(service.operation_names)


def streaming_input_member(operation: OperationModel) -> str | None:
    """The input member carried as a request stream (S3 PutObject ``Body``), or None.

    The gateway asks this before reading a request body: when it names a member, the
    body is handed to the codec as ``WireRequest.stream`` instead of being read whole.
    """
    return _streaming_member(operation.input_shape)


def streaming_output_member(operation: OperationModel) -> str | None:
    """The output member sent as a response stream (S3 GetObject ``Body``), or None."""
    return _streaming_member(operation.output_shape)


def _streaming_member(shape: Shape | None) -> str | None:
    # botocore calls every blob payload "streaming"; only the ``streaming`` trait makes
    # a body that must not be held whole (SageMaker InvokeEndpoint's Body is read).
    if shape is None:
        return None
    payload = shape.serialization.get("payload")
    if payload is not None and shape.members[payload].serialization.get("streaming"):
        return payload
    return None


def error_shape(service: ServiceModel, code: str) -> Shape | None:
    """The modelled exception whose wire code is ``code``, or None."""
    return _error_shapes(service).get(code)


@functools.cache
def _error_shapes(service: ServiceModel) -> dict[str, Shape]:
    return {shape.error_code: shape for shape in service.error_shapes}
