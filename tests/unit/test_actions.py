"""The action table beyond S3: IAM, STS, SageMaker, Logs, CloudWatch, CloudTrail."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from shipyard.iam.actions import has_entry, read_only, required_actions, services

ACCOUNT = "123456789012"
REGION = "eu-west-1"
SM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}"
IAM = f"arn:aws:iam::{ACCOUNT}"


def needs(
    service: str, operation: str, params: dict[str, Any], caller: str | None = None
) -> list[tuple[str, tuple[str, ...]]]:
    found = required_actions(
        service, operation, params, region=REGION, account_id=ACCOUNT, caller_arn=caller
    )
    return [(r.action, r.resources) for r in found]


def context(
    service: str, operation: str, params: dict[str, Any]
) -> dict[str, tuple[str, ...]]:
    return dict(
        required_actions(service, operation, params, region=REGION, account_id=ACCOUNT)[
            0
        ].context
    )


CASES = [
    # IAM
    (
        "iam",
        "CreateUser",
        {"UserName": "ana"},
        [("iam:CreateUser", (f"{IAM}:user/ana",))],
    ),
    ("iam", "GetUser", {"UserName": "ana"}, [("iam:GetUser", (f"{IAM}:user/ana",))]),
    ("iam", "ListUsers", {}, [("iam:ListUsers", ("*",))]),
    (
        "iam",
        "CreateGroup",
        {"GroupName": "ds"},
        [("iam:CreateGroup", (f"{IAM}:group/ds",))],
    ),
    (
        "iam",
        "AddUserToGroup",
        {"GroupName": "ds", "UserName": "ana"},
        [("iam:AddUserToGroup", (f"{IAM}:group/ds",))],
    ),
    (
        "iam",
        "CreateRole",
        {"RoleName": "Trainer", "AssumeRolePolicyDocument": "{}"},
        [("iam:CreateRole", (f"{IAM}:role/Trainer",))],
    ),
    (
        "iam",
        "CreatePolicy",
        {"PolicyName": "Read", "PolicyDocument": "{}"},
        [("iam:CreatePolicy", (f"{IAM}:policy/Read",))],
    ),
    (
        "iam",
        "GetPolicy",
        {"PolicyArn": f"{IAM}:policy/p/Read"},
        [("iam:GetPolicy", (f"{IAM}:policy/p/Read",))],
    ),
    (
        "iam",
        "AttachUserPolicy",
        {"UserName": "ana", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
        [("iam:AttachUserPolicy", (f"{IAM}:user/ana",))],
    ),
    (
        "iam",
        "PutRolePolicy",
        {"RoleName": "r", "PolicyName": "inline", "PolicyDocument": "{}"},
        [("iam:PutRolePolicy", (f"{IAM}:role/r",))],
    ),
    (
        "iam",
        "ListEntitiesForPolicy",
        {"PolicyArn": f"{IAM}:policy/x"},
        [("iam:ListEntitiesForPolicy", (f"{IAM}:policy/x",))],
    ),
    (
        "iam",
        "UpdateUser",
        {"UserName": "a", "NewUserName": "b"},
        [("iam:UpdateUser", (f"{IAM}:user/a", f"{IAM}:user/b"))],
    ),
    (
        "iam",
        "SimulatePrincipalPolicy",
        {"PolicySourceArn": f"{IAM}:user/a", "ActionNames": ["s3:*"]},
        [("iam:SimulatePrincipalPolicy", (f"{IAM}:user/a",))],
    ),
    (
        "iam",
        "CreateAccessKey",
        {},
        [("iam:CreateAccessKey", (f"{IAM}:user/team/ana",))],
    ),
    (
        "iam",
        "ChangePassword",
        {"OldPassword": "x", "NewPassword": "y"},
        [("iam:ChangePassword", (f"{IAM}:user/team/ana",))],
    ),
    (
        "iam",
        "GetAccountAuthorizationDetails",
        {},
        [("iam:GetAccountAuthorizationDetails", ("*",))],
    ),
    (
        "iam",
        "CreateWorkloadIdentityProvider",
        {"ProviderName": "Payments", "Scheme": "SPIFFE"},
        [
            (
                "iam:CreateWorkloadIdentityProvider",
                (f"{IAM}:workload-identity-provider/Payments",),
            )
        ],
    ),
    (
        "iam",
        "PutWorkloadIdentityProviderResourcePolicy",
        {
            "WorkloadIdentityProviderArn": f"{IAM}:workload-identity-provider/Payments",
            "PolicyDocument": "{}",
        },
        [
            (
                "iam:PutWorkloadIdentityProviderResourcePolicy",
                (f"{IAM}:workload-identity-provider/Payments",),
            )
        ],
    ),
    (
        "iam",
        "ListWorkloadIdentityTemplates",
        {"WorkloadIdentityProviderArn": f"{IAM}:workload-identity-provider/p"},
        [
            (
                "iam:ListWorkloadIdentityTemplates",
                (f"{IAM}:workload-identity-provider/p",),
            )
        ],
    ),
    (
        "iam",
        "GetWorkloadIdentityTemplateAttestationPolicy",
        {"WorkloadIdentityTemplateArn": f"{IAM}:workload-identity-template/Fleet"},
        [
            (
                "iam:GetWorkloadIdentityTemplateAttestationPolicy",
                (f"{IAM}:workload-identity-template/Fleet",),
            )
        ],
    ),
    # STS
    (
        "sts",
        "AssumeRole",
        {"RoleArn": f"{IAM}:role/Trainer", "RoleSessionName": "s"},
        [("sts:AssumeRole", (f"{IAM}:role/Trainer",))],
    ),
    ("sts", "GetCallerIdentity", {}, [("sts:GetCallerIdentity", ("*",))]),
    ("sts", "GetSessionToken", {}, [("sts:GetSessionToken", ("*",))]),
    (
        "sts",
        "GetFederationToken",
        {"Name": "bob"},
        [("sts:GetFederationToken", (f"arn:aws:sts::{ACCOUNT}:federated-user/bob",))],
    ),
    (
        "sts",
        "GetTrustBundles",
        {"ProviderArn": f"{IAM}:workload-identity-provider/p"},
        [("sts:GetTrustBundles", ("*",))],
    ),
    # CloudTrail
    ("cloudtrail", "LookupEvents", {}, [("cloudtrail:LookupEvents", ("*",))]),
    (
        "cloudtrail",
        "GetTrail",
        {"Name": "main"},
        [
            (
                "cloudtrail:GetTrail",
                (f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main",),
            )
        ],
    ),
    # SageMaker
    (
        "sagemaker",
        "CreateTrainingJob",
        {"TrainingJobName": "XGB-Run1"},
        [("sagemaker:CreateTrainingJob", (f"{SM}:training-job/xgb-run1",))],
    ),
    (
        "sagemaker",
        "DescribeTrainingJob",
        {"TrainingJobName": "xgb"},
        [("sagemaker:DescribeTrainingJob", (f"{SM}:training-job/xgb",))],
    ),
    (
        "sagemaker",
        "StopTrainingJob",
        {"TrainingJobName": "xgb"},
        [("sagemaker:StopTrainingJob", (f"{SM}:training-job/xgb",))],
    ),
    ("sagemaker", "ListTrainingJobs", {}, [("sagemaker:ListTrainingJobs", ("*",))]),
    (
        "sagemaker",
        "CreateProcessingJob",
        {"ProcessingJobName": "P"},
        [("sagemaker:CreateProcessingJob", (f"{SM}:processing-job/p",))],
    ),
    (
        "sagemaker",
        "CreateTransformJob",
        {"TransformJobName": "T", "ModelName": "m"},
        [("sagemaker:CreateTransformJob", (f"{SM}:transform-job/t",))],
    ),
    (
        "sagemaker",
        "CreateHyperParameterTuningJob",
        {"HyperParameterTuningJobName": "Tune"},
        [
            (
                "sagemaker:CreateHyperParameterTuningJob",
                (f"{SM}:hyper-parameter-tuning-job/tune",),
            )
        ],
    ),
    (
        "sagemaker",
        "ListTrainingJobsForHyperParameterTuningJob",
        {"HyperParameterTuningJobName": "tune"},
        [
            (
                "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                (f"{SM}:hyper-parameter-tuning-job/tune",),
            )
        ],
    ),
    (
        "sagemaker",
        "CreateModel",
        {"ModelName": "M", "ExecutionRoleArn": f"{IAM}:role/r"},
        [("sagemaker:CreateModel", (f"{SM}:model/m",)), ("iam:PassRole", (f"{IAM}:role/r",))],
    ),
    (
        "sagemaker",
        "CreateEndpointConfig",
        {"EndpointConfigName": "C"},
        [("sagemaker:CreateEndpointConfig", (f"{SM}:endpoint-config/c",))],
    ),
    (
        "sagemaker",
        "CreateEndpoint",
        {"EndpointName": "E", "EndpointConfigName": "C"},
        [("sagemaker:CreateEndpoint", (f"{SM}:endpoint/e", f"{SM}:endpoint-config/c"))],
    ),
    (
        "sagemaker",
        "DeleteEndpoint",
        {"EndpointName": "e"},
        [("sagemaker:DeleteEndpoint", (f"{SM}:endpoint/e",))],
    ),
    (
        "sagemaker",
        "CreateModelPackage",
        {"ModelPackageName": "pkg"},
        [("sagemaker:CreateModelPackage", (f"{SM}:model-package/pkg",))],
    ),
    (
        "sagemaker",
        "DescribeModelPackage",
        {"ModelPackageName": f"{SM}:model-package/grp/3"},
        [("sagemaker:DescribeModelPackage", (f"{SM}:model-package/grp/3",))],
    ),
    (
        "sagemaker",
        "CreateNotebookInstance",
        {"NotebookInstanceName": "NB", "InstanceType": "ml.t3.medium", "RoleArn": "r"},
        [("sagemaker:CreateNotebookInstance", (f"{SM}:notebook-instance/nb",)), ("iam:PassRole", ("r",))],
    ),
    (
        "sagemaker",
        "CreateMonitoringSchedule",
        {"MonitoringScheduleName": "Mon"},
        [("sagemaker:CreateMonitoringSchedule", (f"{SM}:monitoring-schedule/mon",))],
    ),
    (
        "sagemaker",
        "CreateDataQualityJobDefinition",
        {"JobDefinitionName": "Dq"},
        [
            (
                "sagemaker:CreateDataQualityJobDefinition",
                (f"{SM}:data-quality-job-definition/dq",),
            )
        ],
    ),
    (
        "sagemaker",
        "AddTags",
        {"ResourceArn": f"{SM}:model/m", "Tags": []},
        [("sagemaker:AddTags", (f"{SM}:model/m",))],
    ),
    (
        "sagemaker",
        "CreateUserProfile",
        {"DomainId": "d-abc", "UserProfileName": "Ana"},
        [("sagemaker:CreateUserProfile", (f"{SM}:user-profile/d-abc/ana",))],
    ),
    (
        "sagemaker",
        "DescribeDomain",
        {"DomainId": "d-abc"},
        [("sagemaker:DescribeDomain", (f"{SM}:domain/d-abc",))],
    ),
    (
        "sagemaker",
        "ListModelPackages",
        {"ModelPackageGroupName": "g"},
        [("sagemaker:ListModelPackages", ("*",))],
    ),
    (
        "sagemaker",
        "Search",
        {"Resource": "TrainingJob"},
        [("sagemaker:Search", ("*",))],
    ),
    (
        "sagemaker",
        "CreateModelMonitorConfig",
        {"ModelMonitorConfigName": "Drift", "RoleArn": f"{IAM}:role/r"},
        [
            ("sagemaker:CreateModelMonitorConfig", (f"{SM}:model-monitor-config/drift",)),
            ("iam:PassRole", (f"{IAM}:role/r",)),
        ],
    ),
    (
        "sagemaker",
        "GetModelMonitorExecution",
        {"ModelMonitorConfigNameOrArn": "Drift", "ScheduledAt": 0},
        [("sagemaker:GetModelMonitorExecution", (f"{SM}:model-monitor-config/drift",))],
    ),
    (
        "sagemaker",
        "DeleteModelMonitorConfig",
        {"ModelMonitorConfigNameOrArn": f"{SM}:model-monitor-config/drift"},
        [("sagemaker:DeleteModelMonitorConfig", (f"{SM}:model-monitor-config/drift",))],
    ),
    (
        "sagemaker",
        "ListModelMonitorConfigs",
        {"TargetType": "SageMakerEndpoint", "TargetName": "e"},
        [("sagemaker:ListModelMonitorConfigs", ("*",))],
    ),
    (
        "sagemaker",
        "CreateLeaderboard",
        {"Name": "Chat", "Type": "CUSTOMER_MODEL"},
        [("sagemaker:CreateLeaderboard", (f"{SM}:leaderboard/chat",))],
    ),
    (
        "sagemaker",
        "AddCandidate",
        {"LeaderboardArn": f"{SM}:leaderboard/chat", "CandidateConfig": {}},
        [("sagemaker:AddCandidate", (f"{SM}:leaderboard/chat",))],
    ),
    (
        "sagemaker",
        "CreateGlobalInferenceGateway",
        {"Name": "Edge", "ExecutionRoleArn": f"{IAM}:role/r", "Gateways": []},
        [
            (
                "sagemaker:CreateGlobalInferenceGateway",
                (f"{SM}:global-inference-gateway/edge",),
            ),
            ("iam:PassRole", (f"{IAM}:role/r",)),
        ],
    ),
    (
        "sagemaker",
        "DescribeGlobalInferenceGateway",
        {"Identifier": "abcdef123456"},
        [
            (
                "sagemaker:DescribeGlobalInferenceGateway",
                (f"{SM}:global-inference-gateway/abcdef123456",),
            )
        ],
    ),
    (
        "sagemaker",
        "ListInferenceGateways",
        {"Identifier": f"{SM}:global-inference-gateway/abcdef123456"},
        [
            (
                "sagemaker:ListInferenceGateways",
                (f"{SM}:global-inference-gateway/abcdef123456",),
            )
        ],
    ),
    (
        "sagemaker",
        "DescribeCapacityReservation",
        {"SMCapacityReservationArn": f"{SM}:sm-capacity-reservation/smcr-0123456789ab"},
        [
            (
                "sagemaker:DescribeCapacityReservation",
                (f"{SM}:sm-capacity-reservation/smcr-0123456789ab",),
            )
        ],
    ),
    (
        "sagemaker",
        "MoveClusterNodes",
        {
            "SourceClusterArn": f"{SM}:cluster/aaaaaaaaaaaa",
            "SourceInstanceGroupName": "g1",
            "TargetClusterArn": f"{SM}:cluster/bbbbbbbbbbbb",
            "TargetInstanceGroupName": "g2",
        },
        [
            (
                "sagemaker:MoveClusterNodes",
                (f"{SM}:cluster/aaaaaaaaaaaa", f"{SM}:cluster/bbbbbbbbbbbb"),
            )
        ],
    ),
    # SageMaker runtime
    (
        "sagemaker-runtime",
        "InvokeEndpoint",
        {"EndpointName": "Churn", "Body": b""},
        [("sagemaker:InvokeEndpoint", (f"{SM}:endpoint/churn",))],
    ),
    (
        "sagemaker-runtime",
        "InvokeEndpointWithResponseStream",
        {"EndpointName": "e", "Body": b""},
        [("sagemaker:InvokeEndpoint", (f"{SM}:endpoint/e",))],
    ),
    (
        "sagemaker-runtime",
        "InvokeEndpointAsync",
        {"EndpointName": "e"},
        [("sagemaker:InvokeEndpointAsync", (f"{SM}:endpoint/e",))],
    ),
    # CloudWatch Logs
    (
        "logs",
        "CreateLogGroup",
        {"logGroupName": "/aws/sagemaker/TrainingJobs"},
        [("logs:CreateLogGroup", (f"{LOGS}:log-group:/aws/sagemaker/TrainingJobs",))],
    ),
    ("logs", "DescribeLogGroups", {}, [("logs:DescribeLogGroups", ("*",))]),
    (
        "logs",
        "DescribeLogStreams",
        {"logGroupName": "/g"},
        [("logs:DescribeLogStreams", (f"{LOGS}:log-group:/g",))],
    ),
    (
        "logs",
        "FilterLogEvents",
        {"logGroupName": "/g", "logStreamNames": ["a"]},
        [("logs:FilterLogEvents", (f"{LOGS}:log-group:/g",))],
    ),
    (
        "logs",
        "GetLogEvents",
        {"logGroupName": "/g", "logStreamName": "job/algo-1"},
        [("logs:GetLogEvents", (f"{LOGS}:log-group:/g:log-stream:job/algo-1",))],
    ),
    (
        "logs",
        "PutLogEvents",
        {"logGroupName": "/g", "logStreamName": "s", "logEvents": []},
        [("logs:PutLogEvents", (f"{LOGS}:log-group:/g:log-stream:s",))],
    ),
    (
        "logs",
        "GetLogEvents",
        {"logGroupIdentifier": f"{LOGS}:log-group:/g:*", "logStreamName": "s"},
        [("logs:GetLogEvents", (f"{LOGS}:log-group:/g:log-stream:s",))],
    ),
    # CloudWatch
    (
        "cloudwatch",
        "PutMetricData",
        {"Namespace": "ML", "MetricData": []},
        [("cloudwatch:PutMetricData", ("*",))],
    ),
    (
        "cloudwatch",
        "GetMetricData",
        {"MetricDataQueries": []},
        [("cloudwatch:GetMetricData", ("*",))],
    ),
    ("cloudwatch", "ListMetrics", {}, [("cloudwatch:ListMetrics", ("*",))]),
    (
        "cloudwatch",
        "PutMetricAlarm",
        {"AlarmName": "High CPU"},
        [
            (
                "cloudwatch:PutMetricAlarm",
                (f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:High CPU",),
            )
        ],
    ),
    (
        "cloudwatch",
        "DeleteAlarms",
        {"AlarmNames": ["a", "b"]},
        [
            (
                "cloudwatch:DeleteAlarms",
                (
                    f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:a",
                    f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:b",
                ),
            )
        ],
    ),
    ("cloudwatch", "DescribeAlarms", {}, [("cloudwatch:DescribeAlarms", ("*",))]),
    (
        "cloudwatch",
        "GetDashboard",
        {"DashboardName": "d"},
        [("cloudwatch:GetDashboard", (f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/d",))],
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    CASES,
    ids=[f"{c[0]}.{c[1]}" for c in CASES],
)
def test_entries(
    service: str,
    operation: str,
    params: dict[str, Any],
    expected: list[tuple[str, tuple[str, ...]]],
) -> None:
    assert needs(service, operation, params, caller=f"{IAM}:user/team/ana") == expected


def test_every_operation_of_every_model_has_an_entry() -> None:
    session = botocore.session.get_session()
    missing = [
        f"{service}.{operation}"
        for service in services()
        for operation in session.get_service_model(service).operation_names
        if not has_entry(service, operation)
    ]
    assert services() == (
        "s3",
        "iam",
        "sts",
        "cloudtrail",
        "sagemaker",
        "sagemaker-runtime",
        "logs",
        "cloudwatch",
    )
    assert missing == []


def test_every_served_operation_has_an_entry() -> None:
    """A handler without an entry would be denied to everyone but root."""
    from shipyard.services.registry import ROUTERS

    served = [(service, name) for service, router in ROUTERS.items() for name in router.handlers]
    assert len(served) > 100
    assert [f"{service}.{name}" for service, name in served if not has_entry(service, name)] == []


def test_unknown_operations_have_no_entry() -> None:
    assert not has_entry("s3", "FrobnicateBucket")
    assert not has_entry("ec2", "RunInstances")
    with pytest.raises(KeyError):
        required_actions(
            "s3", "FrobnicateBucket", {}, region=REGION, account_id=ACCOUNT
        )


def test_self_service_without_a_caller_is_checked_everywhere() -> None:
    assert needs("iam", "GetUser", {}) == [("iam:GetUser", ("*",))]
    # An assumed role is no IAM user: it has no user resource to act on.
    assert needs(
        "iam", "ListAccessKeys", {}, caller=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"
    ) == [("iam:ListAccessKeys", ("*",))]


def test_iam_condition_keys() -> None:
    boundary = f"{IAM}:policy/Boundary"
    assert context(
        "iam", "CreateUser", {"UserName": "a", "PermissionsBoundary": boundary}
    )["iam:PermissionsBoundary"] == (boundary,)
    assert context(
        "iam", "AttachRolePolicy", {"RoleName": "r", "PolicyArn": boundary}
    ) == {"iam:PolicyARN": (boundary,)}
    assert context("iam", "DeletePolicy", {"PolicyArn": boundary}) == {}
    tags = [{"Key": "team", "Value": "ml"}, {"Key": "cost", "Value": "42"}]
    found = context(
        "iam",
        "CreateRole",
        {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Tags": tags},
    )
    assert found == {
        "aws:RequestTag/team": ("ml",),
        "aws:RequestTag/cost": ("42",),
        "aws:TagKeys": ("team", "cost"),
    }
    assert context("iam", "TagUser", {"UserName": "a", "Tags": tags})[
        "aws:TagKeys"
    ] == ("team", "cost")
    assert context("iam", "UntagUser", {"UserName": "a", "TagKeys": ["team"]}) == {
        "aws:TagKeys": ("team",)
    }
    provider = f"{IAM}:workload-identity-provider/p"
    assert context(
        "iam",
        "TagWorkloadIdentityProvider",
        {"WorkloadIdentityProviderArn": provider, "Tags": tags},
    )["aws:TagKeys"] == ("team", "cost")


def test_sts_condition_keys() -> None:
    params = {
        "RoleArn": f"{IAM}:role/r",
        "RoleSessionName": "job-1",
        "ExternalId": "x",
        "Tags": [{"Key": "p", "Value": "v"}],
    }
    found = context("sts", "AssumeRole", params)
    assert found["sts:RoleSessionName"] == ("job-1",)
    assert found["sts:ExternalId"] == ("x",)
    assert found["aws:RequestTag/p"] == ("v",)


def test_sagemaker_instance_types_and_keys() -> None:
    training = {
        "TrainingJobName": "t",
        "ResourceConfig": {
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 5,
            "VolumeKmsKeyId": "key-1",
        },
        "EnableNetworkIsolation": True,
        "VpcConfig": {"Subnets": ["s1", "s2"], "SecurityGroupIds": ["g"]},
        "Tags": [{"Key": "project", "Value": "churn"}],
    }
    found = context("sagemaker", "CreateTrainingJob", training)
    assert found["sagemaker:InstanceTypes"] == ("ml.m5.xlarge",)
    assert found["sagemaker:VolumeKmsKey"] == ("key-1",)
    assert found["sagemaker:NetworkIsolation"] == ("true",)
    assert found["sagemaker:VpcSubnets"] == ("s1", "s2")
    assert found["aws:RequestTag/project"] == ("churn",)
    assert "sagemaker:VolumeKmsKey" not in context(
        "sagemaker",
        "CreateTrainingJob",
        {"TrainingJobName": "t", "ResourceConfig": {"InstanceType": "ml.m5.large"}},
    )
    processing = {
        "ProcessingJobName": "p",
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.c5.xlarge"}},
    }
    assert context("sagemaker", "CreateProcessingJob", processing)[
        "sagemaker:InstanceTypes"
    ] == ("ml.c5.xlarge",)
    transform = {
        "TransformJobName": "t",
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    assert context("sagemaker", "CreateTransformJob", transform)[
        "sagemaker:InstanceTypes"
    ] == ("ml.m5.large",)
    variants = [
        {"VariantName": "a", "InstanceType": "ml.m5.large"},
        {"VariantName": "b", "InstanceType": "ml.g4dn.xlarge"},
    ]
    config = context(
        "sagemaker",
        "CreateEndpointConfig",
        {"EndpointConfigName": "c", "ProductionVariants": variants, "KmsKeyId": "k"},
    )
    assert config["sagemaker:InstanceTypes"] == ("ml.m5.large", "ml.g4dn.xlarge")
    assert config["sagemaker:VolumeKmsKey"] == ("k",)
    assert context(
        "sagemaker", "DeleteTags", {"ResourceArn": "arn", "TagKeys": ["a"]}
    ) == {"aws:TagKeys": ("a",)}


def test_logs_and_cloudwatch_tags() -> None:
    assert context(
        "logs", "CreateLogGroup", {"logGroupName": "g", "tags": {"team": "ml"}}
    ) == {
        "aws:RequestTag/team": ("ml",),
        "aws:TagKeys": ("team",),
    }
    assert context(
        "logs", "UntagLogGroup", {"logGroupName": "g", "tags": ["team"]}
    ) == {"aws:TagKeys": ("team",)}
    assert context(
        "cloudwatch", "PutMetricData", {"Namespace": "ML", "MetricData": []}
    ) == {"cloudwatch:namespace": ("ML",)}


@pytest.mark.parametrize(
    ("service", "operation", "expected"),
    [
        ("s3", "GetObject", True),
        ("s3", "HeadObject", True),
        ("s3", "ListObjectsV2", True),
        ("s3", "SelectObjectContent", True),
        ("s3", "PutObject", False),
        ("s3", "DeleteObjects", False),
        ("iam", "SimulatePrincipalPolicy", True),
        ("iam", "CreateUser", False),
        ("cloudtrail", "LookupEvents", True),
        ("sagemaker", "DescribeTrainingJob", True),
        ("sagemaker", "Search", True),
        ("sagemaker", "CreateTrainingJob", False),
        ("sagemaker-runtime", "InvokeEndpoint", False),
        ("logs", "FilterLogEvents", True),
        ("sts", "AssumeRole", False),
    ],
)
def test_read_only(service: str, operation: str, expected: bool) -> None:
    assert read_only(service, operation) is expected
