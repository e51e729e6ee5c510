"""The resources of an event as LookupEvents lists them: a CloudTrail type and a name."""

from __future__ import annotations

from dataclasses import dataclass

#: (ARN service, resource kind) -> CloudTrail resource type.
_TYPES = {
    ("s3", "bucket"): "AWS::S3::Bucket",
    ("s3", "object"): "AWS::S3::Object",
    ("iam", "user"): "AWS::IAM::User",
    ("iam", "group"): "AWS::IAM::Group",
    ("iam", "role"): "AWS::IAM::Role",
    ("iam", "policy"): "AWS::IAM::Policy",
    ("iam", "root"): "AWS::IAM::User",
    ("sts", "assumed-role"): "AWS::STS::AssumedRole",
    ("sagemaker", "training-job"): "AWS::SageMaker::TrainingJob",
    ("sagemaker", "processing-job"): "AWS::SageMaker::ProcessingJob",
    ("sagemaker", "transform-job"): "AWS::SageMaker::TransformJob",
    (
        "sagemaker",
        "hyper-parameter-tuning-job",
    ): "AWS::SageMaker::HyperParameterTuningJob",
    ("sagemaker", "model"): "AWS::SageMaker::Model",
    ("sagemaker", "endpoint"): "AWS::SageMaker::Endpoint",
    ("sagemaker", "endpoint-config"): "AWS::SageMaker::EndpointConfig",
    ("sagemaker", "notebook-instance"): "AWS::SageMaker::NotebookInstance",
    ("logs", "log-group"): "AWS::Logs::LogGroup",
    ("cloudwatch", "alarm"): "AWS::CloudWatch::Alarm",
}

#: IAM kinds CloudTrail names by the entity's name rather than its ARN.
_NAMED_BY_NAME = frozenset({"user", "group", "role"})


@dataclass(frozen=True)
class Resource:
    """One entry of an event's ``Resources``: ``AWS::S3::Bucket`` / ``datasets``."""

    arn: str
    type: str | None
    name: str


def describe(arn: str) -> Resource:
    """The CloudTrail type and name of the resource ``arn`` names.

    Buckets and IAM users, groups and roles go by their name (as CloudTrail lists them);
    everything else by its ARN. An ARN of a kind without a CloudTrail type has none.
    """
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return Resource(arn, None, arn)
    service, resource = parts[2], parts[5]
    if service == "s3":
        kind = "object" if "/" in resource else "bucket"
        return Resource(
            arn, _TYPES[("s3", kind)], resource if kind == "bucket" else arn
        )
    kind = resource.split("/", 1)[0].split(":", 1)[0]
    name = (
        resource.rsplit("/", 1)[-1]
        if service == "iam" and kind in _NAMED_BY_NAME
        else arn
    )
    return Resource(arn, _TYPES.get((service, kind)), name)


def with_buckets(arns: tuple[str, ...]) -> tuple[str, ...]:
    """``arns`` with the bucket of every S3 object ARN before it, as CloudTrail lists S3 data events."""
    expanded: dict[str, None] = {}
    for arn in arns:
        if arn.startswith("arn:aws:s3:::") and "/" in arn:
            expanded[arn.split("/", 1)[0]] = None
        expanded[arn] = None
    return tuple(expanded)
