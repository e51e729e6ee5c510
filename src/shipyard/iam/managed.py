"""AWS managed policies: the ones SageMaker users attach, with the documents AWS publishes.

They belong to no account (``arn:aws:iam::aws:policy/...``), cannot be changed, and exist
in code only; attachments to them are stored like any other. Only each policy's default
version is served. ReadOnlyAccess and AmazonSageMakerFullAccess are long in AWS; here they
keep the statements for the services Shipyard serves, with AWS's wording.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipyard.iam.ids import AWS_POLICY_PREFIX


@dataclass(frozen=True)
class AwsManagedPolicy:
    """One AWS managed policy and its default version."""

    name: str
    id: str
    path: str
    version_id: str
    description: str
    created: datetime
    updated: datetime
    document: str

    @property
    def arn(self) -> str:
        """``arn:aws:iam::aws:policy<path><name>``."""
        return f"{AWS_POLICY_PREFIX}{self.path[1:]}{self.name}"


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}, indent=4
    )


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_POLICIES = (
    AwsManagedPolicy(
        name="AdministratorAccess",
        id="ANPAIWMBCKSKIEE64ZLYK",
        path="/",
        version_id="v1",
        description="Provides full access to AWS services and resources.",
        created=_at("2015-02-06T18:39:46"),
        updated=_at("2015-02-06T18:39:46"),
        document=_document({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    ),
    AwsManagedPolicy(
        name="ReadOnlyAccess",
        id="ANPAILL3HVNFSB6DCOWYQ",
        path="/",
        version_id="v118",
        description="Provides read-only access to AWS services and resources.",
        created=_at("2015-02-06T18:39:48"),
        updated=_at("2024-06-05T17:24:06"),
        document=_document(
            {
                "Sid": "ReadOnlyActions",
                "Effect": "Allow",
                "Action": [
                    "cloudtrail:Describe*",
                    "cloudtrail:Get*",
                    "cloudtrail:List*",
                    "cloudtrail:LookupEvents",
                    "cloudwatch:Describe*",
                    "cloudwatch:Get*",
                    "cloudwatch:List*",
                    "iam:Generate*",
                    "iam:Get*",
                    "iam:List*",
                    "iam:Simulate*",
                    "logs:Describe*",
                    "logs:FilterLogEvents",
                    "logs:Get*",
                    "logs:ListTagsForResource",
                    "logs:ListTagsLogGroup",
                    "logs:StartQuery",
                    "logs:StopQuery",
                    "logs:TestMetricFilter",
                    "s3:Describe*",
                    "s3:Get*",
                    "s3:List*",
                    "sagemaker:Describe*",
                    "sagemaker:GetSearchSuggestions",
                    "sagemaker:List*",
                    "sagemaker:Search",
                    "sts:GetCallerIdentity",
                ],
                "Resource": "*",
            }
        ),
    ),
    AwsManagedPolicy(
        name="AmazonS3FullAccess",
        id="ANPAIFIR6V6BVTRAHWINE",
        path="/",
        version_id="v2",
        description="Provides full access to all buckets via the AWS Management Console.",
        created=_at("2015-02-06T18:40:58"),
        updated=_at("2021-09-27T20:16:37"),
        document=_document(
            {
                "Effect": "Allow",
                "Action": ["s3:*", "s3-object-lambda:*"],
                "Resource": "*",
            }
        ),
    ),
    AwsManagedPolicy(
        name="AmazonS3ReadOnlyAccess",
        id="ANPAIZTJ4DXE7G6AGAE6M",
        path="/",
        version_id="v3",
        description="Provides read only access to all buckets via the AWS Management Console.",
        created=_at("2015-02-06T18:40:59"),
        updated=_at("2023-08-10T21:31:39"),
        document=_document(
            {
                "Effect": "Allow",
                "Action": [
                    "s3:Get*",
                    "s3:List*",
                    "s3:Describe*",
                    "s3-object-lambda:Get*",
                    "s3-object-lambda:List*",
                ],
                "Resource": "*",
            }
        ),
    ),
    AwsManagedPolicy(
        name="IAMFullAccess",
        id="ANPAI7XKCFMBPM3QQRRVQ",
        path="/",
        version_id="v2",
        description="Provides full access to IAM via the AWS Management Console.",
        created=_at("2015-02-06T18:40:38"),
        updated=_at("2019-06-21T19:40:00"),
        document=_document(
            {
                "Effect": "Allow",
                "Action": [
                    "iam:*",
                    "organizations:DescribeAccount",
                    "organizations:DescribeOrganization",
                    "organizations:DescribeOrganizationalUnit",
                    "organizations:DescribePolicy",
                    "organizations:ListChildren",
                    "organizations:ListParents",
                    "organizations:ListPoliciesForTarget",
                    "organizations:ListRoots",
                    "organizations:ListPolicies",
                    "organizations:ListTargetsForPolicy",
                ],
                "Resource": "*",
            }
        ),
    ),
    AwsManagedPolicy(
        name="AmazonSageMakerFullAccess",
        id="ANPAJZ5IWYMXO5QDB4QOG",
        path="/",
        version_id="v27",
        description="Provides full access to Amazon SageMaker via the AWS Management Console and SDK. Also provides"
        " select access to related services (e.g., S3, ECR, CloudWatch Logs).",
        created=_at("2017-11-29T13:07:59"),
        updated=_at("2024-08-11T23:45:55"),
        document=_document(
            {
                "Sid": "AllowAllNonAdminSageMakerActions",
                "Effect": "Allow",
                "Action": ["sagemaker:*", "sagemaker-geospatial:*"],
                "NotResource": [
                    "arn:aws:sagemaker:*:*:domain/*",
                    "arn:aws:sagemaker:*:*:user-profile/*",
                    "arn:aws:sagemaker:*:*:app/*",
                    "arn:aws:sagemaker:*:*:space/*",
                    "arn:aws:sagemaker:*:*:flow-definition/*",
                ],
            },
            {
                "Sid": "AllowAddTagsForSpace",
                "Effect": "Allow",
                "Action": ["sagemaker:AddTags"],
                "Resource": ["arn:aws:sagemaker:*:*:space/*"],
                "Condition": {
                    "StringEquals": {"sagemaker:TaggingAction": "CreateSpace"}
                },
            },
            {
                "Sid": "AllowStudioActions",
                "Effect": "Allow",
                "Action": [
                    "sagemaker:CreatePresignedDomainUrl",
                    "sagemaker:DescribeDomain",
                    "sagemaker:ListDomains",
                    "sagemaker:DescribeUserProfile",
                    "sagemaker:ListUserProfiles",
                    "sagemaker:DescribeSpace",
                    "sagemaker:ListSpaces",
                    "sagemaker:DescribeApp",
                    "sagemaker:ListApps",
                ],
                "Resource": "*",
            },
            {
                "Sid": "AllowAppActionsForUserProfile",
                "Effect": "Allow",
                "Action": ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
                "Resource": "arn:aws:sagemaker:*:*:app/*/*/*/*",
                "Condition": {"Null": {"sagemaker:OwnerUserProfileArn": "true"}},
            },
            {
                "Sid": "AllowRelatedServiceActions",
                "Effect": "Allow",
                "Action": [
                    "application-autoscaling:DeleteScalingPolicy",
                    "application-autoscaling:DeregisterScalableTarget",
                    "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScalingActivities",
                    "application-autoscaling:DescribeScalingPolicies",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:RegisterScalableTarget",
                    "cloudwatch:DeleteAlarms",
                    "cloudwatch:DescribeAlarms",
                    "cloudwatch:GetMetricData",
                    "cloudwatch:GetMetricStatistics",
                    "cloudwatch:ListMetrics",
                    "cloudwatch:PutMetricAlarm",
                    "cloudwatch:PutMetricData",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:CreateRepository",
                    "ecr:Describe*",
                    "ecr:GetAuthorizationToken",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:StartImageScan",
                    "iam:ListRoles",
                    "kms:DescribeKey",
                    "kms:ListAliases",
                    "logs:CreateLogDelivery",
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:GetLogEvents",
                    "logs:PutLogEvents",
                ],
                "Resource": "*",
            },
            {
                "Sid": "AllowS3ObjectActions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                ],
                "Resource": [
                    "arn:aws:s3:::*SageMaker*",
                    "arn:aws:s3:::*Sagemaker*",
                    "arn:aws:s3:::*sagemaker*",
                ],
            },
            {
                "Sid": "AllowS3GetObjectWithSageMakerExistingObjectTag",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": ["arn:aws:s3:::*"],
                "Condition": {
                    "StringEqualsIgnoreCase": {"s3:ExistingObjectTag/SageMaker": "true"}
                },
            },
            {
                "Sid": "AllowS3BucketActions",
                "Effect": "Allow",
                "Action": [
                    "s3:CreateBucket",
                    "s3:GetBucketLocation",
                    "s3:ListBucket",
                    "s3:ListAllMyBuckets",
                    "s3:GetBucketCors",
                    "s3:PutBucketCors",
                ],
                "Resource": "*",
            },
            {
                "Sid": "AllowPassRoleForSageMakerRoles",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": "arn:aws:iam::*:role/*",
                "Condition": {
                    "StringEquals": {
                        "iam:PassedToService": [
                            "sagemaker.amazonaws.com",
                            "glue.amazonaws.com",
                            "robomaker.amazonaws.com",
                            "states.amazonaws.com",
                        ]
                    }
                },
            },
        ),
    ),
)

_BY_ARN = {policy.arn: policy for policy in _POLICIES}


def aws_managed_policy(arn: str) -> AwsManagedPolicy | None:
    """The AWS managed policy with this ARN, or None."""
    return _BY_ARN.get(arn)


def aws_managed_policies() -> tuple[AwsManagedPolicy, ...]:
    """Every AWS managed policy, by name."""
    return _POLICIES
