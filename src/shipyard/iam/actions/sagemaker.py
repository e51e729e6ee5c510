"""SageMaker and its runtime: ``sagemaker:<Operation>`` on ``<type>/<name>`` ARNs.

SageMaker lower-cases names in its ARNs (``arn:aws:sagemaker:<region>:<account>:
training-job/<name>``); a member that holds an ARN already passes unchanged. The runtime's
operations are SageMaker actions on the endpoint.

A global inference gateway's ARN carries the id it is given at creation
(``global-inference-gateway/<id>``); its ``Identifier`` takes that id, the ARN or the name, and
a name (or the name it is created with) gives ``global-inference-gateway/<name>``.
"""

from __future__ import annotations

from typing import Any

from shipyard.iam.actions.base import ArnBuilder, Request, passthrough, regional
from shipyard.iam.actions.generic import ConditionKey, ServiceTable


def _arn(kind: str) -> ArnBuilder:
    return regional("sagemaker", "/", kind, lower=True)


def _nested(kind: str, *parents: str) -> ArnBuilder:
    """``<kind>/<parent>/.../<name>`` for resources that live inside another (a domain's apps)."""

    def build(value: Any, request: Request) -> str | None:
        if not isinstance(value, str) or not value:
            return None
        if value.startswith("arn:"):
            return value
        path = [
            str(request.params.get(parent, ""))
            for parent in parents
            if request.params.get(parent)
        ]
        return f"arn:aws:sagemaker:{request.region}:{request.account_id}:{kind}/{'/'.join([*path, value]).lower()}"

    return build


#: Request member -> the resource type it names, in priority order.
_RESOURCES: dict[str, ArnBuilder] = {
    "AppName": _nested("app", "DomainId", "UserProfileName", "SpaceName", "AppType"),
    "UserProfileName": _nested("user-profile", "DomainId"),
    "SpaceName": _nested("space", "DomainId"),
    "DeviceName": _nested("device-fleet", "DeviceFleetName"),
    "HubContentName": _nested("hub-content", "HubName", "HubContentType"),
    **{
        f"{noun}Name": _arn(kind)
        for noun, kind in {
            "AIBenchmarkJob": "ai-benchmark-job",
            "AIRecommendationJob": "ai-recommendation-job",
            "AIWorkloadConfig": "ai-workload-config",
            "Action": "action",
            "Algorithm": "algorithm",
            "AppImageConfig": "app-image-config",
            "AutoMLJob": "automl-job",
            "Cluster": "cluster",
            "CodeRepository": "code-repository",
            "CompilationJob": "compilation-job",
            "Context": "context",
            "DeviceFleet": "device-fleet",
            "EdgeDeploymentPlan": "edge-deployment-plan",
            "EdgePackagingJob": "edge-packaging-job",
            "Endpoint": "endpoint",
            "EndpointConfig": "endpoint-config",
            "Experiment": "experiment",
            "FeatureGroup": "feature-group",
            "FlowDefinition": "flow-definition",
            "Hub": "hub",
            "HumanTaskUi": "human-task-ui",
            "HyperParameterTuningJob": "hyper-parameter-tuning-job",
            "Image": "image",
            "InferenceComponent": "inference-component",
            "InferenceRecommendationsJob": "inference-recommendations-job",
            "InferenceRouter": "inference-router",
            "LabelingJob": "labeling-job",
            "LineageGroup": "lineage-group",
            "Model": "model",
            "ModelCard": "model-card",
            "ModelCardExportJob": "model-card-export-job",
            "ModelMonitorConfig": "model-monitor-config",
            "ModelPackage": "model-package",
            "ModelPackageGroup": "model-package-group",
            "MonitoringSchedule": "monitoring-schedule",
            "NotebookInstance": "notebook-instance",
            "NotebookInstanceLifecycleConfig": "notebook-instance-lifecycle-config",
            "OptimizationJob": "optimization-job",
            "Pipeline": "pipeline",
            "ProcessingJob": "processing-job",
            "Project": "project",
            "StudioLifecycleConfig": "studio-lifecycle-config",
            "TrackingServer": "mlflow-tracking-server",
            "TrainingJob": "training-job",
            "TrainingPlan": "training-plan",
            "TrainingSession": "training-session",
            "TransformJob": "transform-job",
            "Trial": "experiment-trial",
            "TrialComponent": "experiment-trial-component",
            "Workforce": "workforce",
            "Workteam": "workteam",
        }.items()
    },
    "DomainId": _arn("domain"),
    "ResourceArn": passthrough,
    "Arn": passthrough,
    "ArtifactArn": passthrough,
    "ClusterArn": passthrough,
    "SourceClusterArn": passthrough,
    "TargetClusterArn": passthrough,
    "ModelMonitorConfigNameOrArn": _arn("model-monitor-config"),
    "LeaderboardArn": passthrough,
    "SMCapacityReservationArn": passthrough,
    "ModelPackageArn": passthrough,
    "ModelCardExportJobArn": passthrough,
    "PipelineArn": passthrough,
    "PipelineExecutionArn": passthrough,
    "WorkteamArn": passthrough,
    "TrainingPlanArn": passthrough,
    "ReservedCapacityArn": passthrough,
    "SourceArn": passthrough,
    "HumanTaskUiArn": passthrough,
    "ResourceIdentifier": passthrough,
}

#: Operations whose only name member is a bare ``Name``/``JobName``/``JobDefinitionName``/
#: ``Identifier``: their noun says which resource type it names.
_NOUNS: dict[str, ArnBuilder] = {
    noun: _arn(kind)
    for noun, kind in {
        "InferenceExperiment": "inference-experiment",
        "InferenceRecommendationsJob": "inference-recommendations-job",
        "InferenceRecommendationsJobSteps": "inference-recommendations-job",
        "DataQualityJobDefinition": "data-quality-job-definition",
        "ModelBiasJobDefinition": "model-bias-job-definition",
        "ModelExplainabilityJobDefinition": "model-explainability-job-definition",
        "ModelQualityJobDefinition": "model-quality-job-definition",
        "ClusterSchedulerConfig": "cluster-scheduler-config",
        "ComputeQuota": "compute-quota",
        "Job": "job",
        "MlflowApp": "mlflow-app",
        "PartnerApp": "partner-app",
        "GlobalInferenceGateway": "global-inference-gateway",
        "InferenceGateways": "global-inference-gateway",
        "Leaderboard": "leaderboard",
    }.items()
}

_CONDITIONS = (
    ConditionKey(
        "sagemaker:InstanceTypes",
        (
            "ResourceConfig.InstanceType",
            "ResourceConfig.InstanceGroups[].InstanceType",
            "ProcessingResources.ClusterConfig.InstanceType",
            "TransformResources.InstanceType",
            "ProductionVariants[].InstanceType",
            "ShadowProductionVariants[].InstanceType",
            "TrainingJobDefinition.ResourceConfig.InstanceType",
            "TrainingJobDefinitions[].ResourceConfig.InstanceType",
            "JobResources.ClusterConfig.InstanceType",
            "MonitoringScheduleConfig.MonitoringJobDefinition.MonitoringResources.ClusterConfig.InstanceType",
            "InstanceType",
        ),
    ),
    ConditionKey(
        "sagemaker:VolumeKmsKey",
        (
            "ResourceConfig.VolumeKmsKeyId",
            "ProcessingResources.ClusterConfig.VolumeKmsKeyId",
            "TransformResources.VolumeKmsKeyId",
            "TrainingJobDefinition.ResourceConfig.VolumeKmsKeyId",
            "JobResources.ClusterConfig.VolumeKmsKeyId",
            "MonitoringScheduleConfig.MonitoringJobDefinition.MonitoringResources.ClusterConfig.VolumeKmsKeyId",
        ),
    ),
    ConditionKey(
        "sagemaker:VolumeKmsKey",
        ("KmsKeyId",),
        operations="Create(EndpointConfig|NotebookInstance)",
    ),
    ConditionKey(
        "sagemaker:OutputKmsKey",
        (
            "OutputDataConfig.KmsKeyId",
            "ProcessingOutputConfig.KmsKeyId",
            "TransformOutput.KmsKeyId",
        ),
    ),
    ConditionKey(
        "sagemaker:MaxRuntimeInSeconds", ("StoppingCondition.MaxRuntimeInSeconds",)
    ),
    ConditionKey(
        "sagemaker:NetworkIsolation",
        ("EnableNetworkIsolation", "NetworkConfig.EnableNetworkIsolation"),
    ),
    ConditionKey(
        "sagemaker:InterContainerTrafficEncryption",
        (
            "EnableInterContainerTrafficEncryption",
            "NetworkConfig.EnableInterContainerTrafficEncryption",
        ),
    ),
    ConditionKey(
        "sagemaker:VpcSubnets",
        ("VpcConfig.Subnets", "NetworkConfig.VpcConfig.Subnets", "SubnetId"),
    ),
    ConditionKey(
        "sagemaker:VpcSecurityGroupIds",
        (
            "VpcConfig.SecurityGroupIds",
            "NetworkConfig.VpcConfig.SecurityGroupIds",
            "SecurityGroupIds",
        ),
    ),
    ConditionKey("sagemaker:DirectInternetAccess", ("DirectInternetAccess",)),
    ConditionKey("sagemaker:RootAccess", ("RootAccess",)),
)

TABLE = ServiceTable(
    prefix="sagemaker",
    resources=_RESOURCES,
    nouns=_NOUNS,
    noun_members=("Name", "JobName", "JobDefinitionName", "Identifier"),
    # Creating or updating an endpoint uses its configuration; a trial association, the trial;
    # moving cluster nodes, both clusters.
    also={
        "CreateEndpoint": ("EndpointConfigName",),
        "UpdateEndpoint": ("EndpointConfigName",),
        "AssociateTrialComponent": ("TrialName",),
        "DisassociateTrialComponent": ("TrialName",),
        "MoveClusterNodes": ("TargetClusterArn",),
    },
    conditions=_CONDITIONS,
    # A domain's ARN carries the id it is given at creation; an extension is no resource;
    # a role is passed (the caller needs iam:PassRole on it), not acted on; the target whose model monitor
    # configurations are listed (an endpoint or a Bedrock model) filters a listing.
    not_resources=frozenset({"DomainName", "ExtensionName", "RoleArn", "TargetName"}),
    passed_roles=frozenset({"RoleArn", "ExecutionRoleArn"}),
    service_principal="sagemaker.amazonaws.com",
)

RUNTIME = ServiceTable(
    prefix="sagemaker",
    resources={"EndpointName": _arn("endpoint")},
    conditions=(ConditionKey("sagemaker:TargetModel", ("TargetModel",)),),
    actions={"InvokeEndpointWithResponseStream": "sagemaker:InvokeEndpoint"},
)
