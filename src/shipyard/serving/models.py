"""What a model (``CreateModel``) runs: its containers, resolved to what a worker loads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shipyard.compute.images import resolve_serving_image
from shipyard.serving.records import HostingRecord
from shipyard.serving.spec import ContainerSpec, InferenceMode

ImagePath = Callable[[str], Awaitable[str | None]]


def container_definitions(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The model's container definitions in order: ``Containers``, or the ``PrimaryContainer``."""
    return list(request.get("Containers") or [request["PrimaryContainer"]])


def inference_mode(request: dict[str, Any]) -> InferenceMode:
    """``Serial`` (an inference pipeline, the default) or ``Direct``."""
    return (request.get("InferenceExecutionConfig") or {}).get("Mode") or "Serial"


async def resolve_container(definition: dict[str, Any], local_path: ImagePath) -> ContainerSpec:
    """One ``ContainerDefinition`` as a worker loads it (``ValidationException`` for an
    image Shipyard cannot serve)."""
    environment = {str(key): str(value) for key, value in (definition.get("Environment") or {}).items()}
    image = await resolve_serving_image(definition["Image"], environment, local_path)
    source = (definition.get("ModelDataSource") or {}).get("S3DataSource")
    if source:
        url = source["S3Uri"]
        compressed = source.get("CompressionType", "None") == "Gzip"
    else:
        url = definition.get("ModelDataUrl") or ""
        compressed = True
    return ContainerSpec(
        image=image,
        model_data_url=url,
        compressed=compressed,
        environment=environment,
        hostname=definition.get("ContainerHostname") or "",
    )


async def model_containers(model: HostingRecord, local_path: ImagePath) -> list[ContainerSpec]:
    """Every container of ``model``, resolved (again: a local image may have moved)."""
    return [await resolve_container(definition, local_path) for definition in container_definitions(model.request)]
