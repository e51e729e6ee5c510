"""Amazon SageMaker Runtime: ``InvokeEndpoint`` over the endpoints the fleet serves."""

from __future__ import annotations

from typing import Any

from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.serving.dataplane import Invocation, validation_error
from shipyard.serving.invocation import DEFAULT_CONTENT_TYPE

router = ServiceRouter("sagemaker-runtime")

#: The largest request body InvokeEndpoint takes (6 MB).
MAX_BODY_BYTES = 6 * 1024 * 1024


@router.operation("InvokeEndpoint", validates=("Body",))
async def invoke_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    body: bytes = params["Body"]
    if len(body) > MAX_BODY_BYTES:
        raise validation_error(f"Request {ctx.request_id} has oversize body.")
    name = params["EndpointName"]
    route = ctx.runtime.fleet.route(ctx.region, name)
    if route is None:
        # The fleet publishes an endpoint once it first serves, and withdraws it when it
        # fails or is deleted. SageMaker's runtime likewise knows only endpoints that are
        # serving: one still Creating, Failed or gone is "not found", not "not ready".
        raise validation_error(f"Endpoint {name} of account {ctx.account_id} not found.")
    if params.get("TargetModel") is not None:
        raise validation_error(
            f"Endpoint {name} is not a multi-model endpoint and does not support target model header."
        )
    result = await ctx.runtime.dataplane.invoke(
        route,
        Invocation(
            region=ctx.region,
            account_id=ctx.account_id,
            body=body,
            content_type=params.get("ContentType") or DEFAULT_CONTENT_TYPE,
            accept=params.get("Accept"),
            custom_attributes=params.get("CustomAttributes"),
            inference_id=params.get("InferenceId"),
            target_variant=params.get("TargetVariant"),
            target_container=params.get("TargetContainerHostname"),
            started=ctx.started,
        ),
    )
    return {
        "Body": result.body,
        "ContentType": result.content_type or None,
        "InvokedProductionVariant": result.variant,
        "CustomAttributes": result.custom_attributes,
    }


__all__ = ["router"]
