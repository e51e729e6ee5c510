"""Models: CreateModel, DescribeModel, ListModels, DeleteModel."""

from __future__ import annotations

from typing import Any

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.sagemaker.hosting import (
    create_record,
    creation_time,
    delete_record,
    find_record,
    list_records,
)
from shipyard.services.sagemaker.jobs import check_unique, drop_none
from shipyard.serving.models import (
    container_definitions,
    inference_mode,
    resolve_container,
)

router = ServiceRouter("sagemaker")

#: Request members DescribeModel echoes as they were sent.
_ECHOED = ("InferenceExecutionConfig", "ExecutionRoleArn", "VpcConfig")


@router.operation("CreateModel")
async def create_model(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    if ("PrimaryContainer" in params) == bool(params.get("Containers")):
        raise AwsError("ValidationException", "Specify exactly one of PrimaryContainer and Containers.")
    definitions = container_definitions(params)
    for definition in definitions:
        _check_container(definition)
    if params.get("Containers"):
        _check_hostnames(definitions, inference_mode(params))
    role = params.get("ExecutionRoleArn")
    if role:
        await ctx.runtime.roles.check(role)
    elif any(_reads_s3(definition) for definition in definitions):
        raise AwsError(
            "ValidationException",
            "ExecutionRoleArn is required: SageMaker assumes it to read the model data and code from S3.",
        )
    for definition in definitions:
        container = await resolve_container(definition, ctx.runtime.images.path)
        if container.image.kind == "builtin" and not container.model_data_url:
            raise AwsError(
                "ValidationException",
                f"The built-in algorithm image {definition['Image']} needs the model's artifacts: "
                "give ModelDataUrl (the training job's model.tar.gz).",
            )
    record = await create_record(ctx, "model", params["ModelName"], params, "Created", {})
    return {"ModelArn": record.arn}


@router.operation("DescribeModel")
async def describe_model(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    model = await find_record(ctx, "model", params["ModelName"])
    request = model.request
    output: dict[str, Any] = {
        "ModelName": model.name,
        "ModelArn": model.arn,
        **{key: request[key] for key in _ECHOED if key in request},
        "EnableNetworkIsolation": bool(request.get("EnableNetworkIsolation")),
        **creation_time(model),
    }
    if "PrimaryContainer" in request:
        output["PrimaryContainer"] = _described(request["PrimaryContainer"])
    else:
        output["Containers"] = [_described(definition) for definition in request["Containers"]]
    return output


@router.operation("ListModels")
async def list_models(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    page, token = await list_records(ctx, "model", params)
    summaries = [{"ModelName": model.name, "ModelArn": model.arn, **creation_time(model)} for model in page]
    return drop_none({"Models": summaries, "NextToken": token})


@router.operation("DeleteModel")
async def delete_model(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await delete_record(ctx, "model", params["ModelName"])
    return {}


def _check_container(definition: dict[str, Any]) -> None:
    """Refuse what Shipyard cannot serve, and model data that SageMaker would not accept."""
    if definition.get("ModelPackageName"):
        raise AwsError(
            "ValidationException",
            "ModelPackageName is not supported by Shipyard (model packages are not served): "
            "give the container's Image and ModelDataUrl.",
        )
    if not definition.get("Image"):
        raise AwsError("ValidationException", "Image is required in each container definition.")
    if definition.get("Mode", "SingleModel") != "SingleModel":
        raise AwsError(
            "ValidationException",
            "Mode MultiModel is not supported by Shipyard: a container hosts a single model (Mode SingleModel).",
        )
    if definition.get("AdditionalModelDataSources"):
        raise AwsError("ValidationException", "AdditionalModelDataSources is not supported by Shipyard.")
    source = definition.get("ModelDataSource")
    if source is None:
        _check_s3("ModelDataUrl", definition.get("ModelDataUrl"))
        return
    if definition.get("ModelDataUrl"):
        raise AwsError("ValidationException", "Specify either ModelDataUrl or ModelDataSource, not both.")
    s3 = source.get("S3DataSource")
    if not s3:
        raise AwsError("ValidationException", "ModelDataSource must have an S3DataSource.")
    _check_s3("ModelDataSource.S3DataSource.S3Uri", s3["S3Uri"])
    if s3["S3DataType"] == "S3Prefix":
        if s3["CompressionType"] != "None":
            raise AwsError(
                "ValidationException",
                "CompressionType Gzip needs S3DataType S3Object: a key name prefix (S3Prefix) holds uncompressed model data.",
            )
        if not s3["S3Uri"].endswith("/"):
            raise AwsError(
                "ValidationException", f"S3Uri {s3['S3Uri']} must end with a slash: S3DataType S3Prefix names a key prefix."
            )
    elif s3["CompressionType"] == "None":
        raise AwsError(
            "ValidationException",
            "Uncompressed single-object model data (S3DataType S3Object with CompressionType None) is not "
            "supported by Shipyard: use a key prefix (S3Prefix) or a model.tar.gz (Gzip).",
        )


def _check_s3(member: str, uri: str | None) -> None:
    if uri and not uri.startswith("s3://"):
        raise AwsError("ValidationException", f"{member} must be an S3 URI (s3://bucket/key), not {uri}.")


def _check_hostnames(definitions: list[dict[str, Any]], mode: str) -> None:
    """Hostnames name each container of a multi-container model: all or none of them
    (Direct invocation needs them all), and no two alike."""
    hostnames = [definition.get("ContainerHostname") for definition in definitions]
    named = [hostname for hostname in hostnames if hostname]
    if mode == "Direct" and len(definitions) > 1 and len(named) < len(definitions):
        raise AwsError(
            "ValidationException",
            "Every container of a model with InferenceExecutionConfig Mode Direct needs a ContainerHostname.",
        )
    if named and len(named) < len(definitions):
        raise AwsError(
            "ValidationException",
            "ContainerHostname is given for some containers of the pipeline but not all: give it for every container.",
        )
    check_unique("ContainerHostname values", named)


def _reads_s3(definition: dict[str, Any]) -> bool:
    """Whether a container's model data or code is in S3 (so a role must read it)."""
    code = (definition.get("Environment") or {}).get("SAGEMAKER_SUBMIT_DIRECTORY", "")
    return bool(definition.get("ModelDataUrl") or definition.get("ModelDataSource") or code.startswith("s3://"))


def _described(definition: dict[str, Any]) -> dict[str, Any]:
    """A container definition as DescribeModel shows it (Mode and Environment filled in)."""
    return {"Mode": "SingleModel", "Environment": {}, **definition}
