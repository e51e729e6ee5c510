"""Model Monitor's SageMaker API through boto3: data and model quality job definitions,
monitoring schedules (by definition name and inline; cron and NOW), their validation and
errors, listings and tags; executions started by ``POST /_shipyard/monitoring/run`` (SigV4
signed, authorized) and by ``shipyard monitor run``, failing with SageMaker's "Job inputs had
no data" over an endpoint that captured nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.hosting import (
    create_model,
    deploy,
    upload,
    variant,
    xgboost_model,
)
from shipyard.testing.identities import allow, create_user, unique_name
from shipyard.testing.jobs import sagemaker_role
from shipyard.testing.sdk import sagemaker_session

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
RESOURCES = {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}}


@pytest.fixture(scope="module")
def setup(server: RunningServer) -> dict[str, str]:
    """A role, a bucket, an endpoint capturing its traffic and one that does not (both left
    Creating: the API only needs them to exist)."""
    sagemaker = server.client("sagemaker")
    bucket = unique_name("monitor")
    server.client("s3").create_bucket(Bucket=bucket)
    role = sagemaker_role(server)
    archive, _ = xgboost_model()
    model = unique_name("model")
    create_model(sagemaker, model, role, upload(server, bucket, "model/model.tar.gz", archive))
    captured, plain = unique_name("captured"), unique_name("plain")
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{bucket}/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    deploy(sagemaker, captured, [variant("AllTraffic", model)], wait=False, DataCaptureConfig=capture)
    deploy(sagemaker, plain, [variant("AllTraffic", model)], wait=False)
    yield {"bucket": bucket, "role": role, "endpoint": captured, "plain": plain}
    for endpoint in (captured, plain):
        sagemaker.delete_endpoint(EndpointName=endpoint)


def endpoint_input(endpoint: str, **extra: Any) -> dict[str, Any]:
    return {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint", **extra}


def data_quality(setup: Mapping[str, str], name: str, **changes: Any) -> dict[str, Any]:
    """A CreateDataQualityJobDefinition request."""
    bucket = setup["bucket"]
    request = {
        "JobDefinitionName": name,
        "DataQualityBaselineConfig": {
            "ConstraintsResource": {"S3Uri": f"s3://{bucket}/baseline/constraints.json"},
            "StatisticsResource": {"S3Uri": f"s3://{bucket}/baseline/statistics.json"},
        },
        "DataQualityAppSpecification": {"ImageUri": ANALYZER, "Environment": {"publish_cloudwatch_metrics": "Enabled"}},
        "DataQualityJobInput": {"EndpointInput": endpoint_input(setup["endpoint"])},
        "DataQualityJobOutputConfig": {
            "MonitoringOutputs": [{"S3Output": {"S3Uri": f"s3://{bucket}/reports", "LocalPath": "/opt/ml/processing/output"}}]
        },
        "JobResources": RESOURCES,
        "RoleArn": setup["role"],
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    return {**request, **changes}


def model_quality(setup: Mapping[str, str], name: str, **changes: Any) -> dict[str, Any]:
    """A CreateModelQualityJobDefinition request."""
    bucket = setup["bucket"]
    request = {
        "JobDefinitionName": name,
        "ModelQualityAppSpecification": {"ImageUri": ANALYZER, "ProblemType": "BinaryClassification"},
        "ModelQualityJobInput": {
            "EndpointInput": endpoint_input(
                setup["endpoint"],
                InferenceAttribute="0",
                ProbabilityAttribute="0",
                ProbabilityThresholdAttribute=0.5,
                StartTimeOffset="-PT2H",
                EndTimeOffset="-PT1H",
            ),
            "GroundTruthS3Input": {"S3Uri": f"s3://{bucket}/ground-truth"},
        },
        "ModelQualityJobOutputConfig": {
            "MonitoringOutputs": [{"S3Output": {"S3Uri": f"s3://{bucket}/mq-reports", "LocalPath": "/opt/ml/processing/output"}}]
        },
        "JobResources": RESOURCES,
        "RoleArn": setup["role"],
    }
    return {**request, **changes}


def hourly(definition: str, monitoring_type: str = "DataQuality") -> dict[str, Any]:
    return {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringJobDefinitionName": definition,
        "MonitoringType": monitoring_type,
    }


def wait_for_schedule(sagemaker: Any, name: str, status: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        description = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
        if description["MonitoringScheduleStatus"] == status:
            return description
        assert time.monotonic() < deadline, f"schedule {name} is {description['MonitoringScheduleStatus']}, not {status}"
        time.sleep(0.1)


def post_run(server: RunningServer, schedule: str, credentials: Mapping[str, str] | None = None, *, sign: bool = True) -> tuple[int, dict[str, Any]]:
    """``POST /_shipyard/monitoring/run`` signed (SigV4, service sagemaker) with ``credentials``
    (default: the root key); the status and the JSON body."""
    if credentials is None:
        key, secret = server.credentials
        credentials = {"AccessKeyId": key, "SecretAccessKey": secret}
    request = AWSRequest(
        method="POST",
        url=f"{server.endpoint_url}/_shipyard/monitoring/run",
        data=json.dumps({"MonitoringScheduleName": schedule}).encode(),
        headers={"Content-Type": "application/json"},
    )
    if sign:
        signer = SigV4Auth(Credentials(credentials["AccessKeyId"], credentials["SecretAccessKey"]), "sagemaker", server.region)
        signer.add_auth(request)
    prepared = request.prepare()
    sent = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(sent, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for_execution(sagemaker: Any, schedule: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = sagemaker.list_monitoring_executions(MonitoringScheduleName=schedule)["MonitoringExecutionSummaries"]
        if found and found[0]["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations", "Failed", "Stopped"):
            return found[0]
        assert time.monotonic() < deadline, f"the execution of {schedule} did not end: {found}"
        time.sleep(0.2)


def test_data_quality_job_definition_lifecycle(server: RunningServer, setup: dict[str, str]) -> None:
    sagemaker = server.client("sagemaker")
    name = unique_name("dq")
    arn = sagemaker.create_data_quality_job_definition(**data_quality(setup, name), Tags=[{"Key": "team", "Value": "ml"}])["JobDefinitionArn"]
    assert arn == f"arn:aws:sagemaker:{server.region}:{arn.split(':')[4]}:data-quality-job-definition/{name}"
    described = sagemaker.describe_data_quality_job_definition(JobDefinitionName=name)
    sent = data_quality(setup, name)
    for member in ("DataQualityBaselineConfig", "DataQualityAppSpecification", "DataQualityJobInput", "JobResources", "RoleArn", "StoppingCondition"):
        assert described[member] == sent[member]
    assert described["JobDefinitionArn"] == arn
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]

    listed = sagemaker.list_data_quality_job_definitions(EndpointName=setup["endpoint"], NameContains=name)
    assert [item["MonitoringJobDefinitionName"] for item in listed["JobDefinitionSummaries"]] == [name]
    assert listed["JobDefinitionSummaries"][0]["EndpointName"] == setup["endpoint"]
    assert sagemaker.list_data_quality_job_definitions(EndpointName=setup["plain"])["JobDefinitionSummaries"] == []

    with pytest.raises(ClientError) as raised:
        sagemaker.create_data_quality_job_definition(**data_quality(setup, name))
    assert error_of(raised) == ("ResourceInUse", 400)
    assert "already exists" in raised.value.response["Error"]["Message"]

    sagemaker.delete_data_quality_job_definition(JobDefinitionName=name)
    with pytest.raises(sagemaker.exceptions.ResourceNotFound) as missing:
        sagemaker.describe_data_quality_job_definition(JobDefinitionName=name)
    assert "Could not find" in missing.value.response["Error"]["Message"]
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        sagemaker.delete_data_quality_job_definition(JobDefinitionName=name)


def test_model_quality_job_definition_keeps_its_endpoint_input(server: RunningServer, setup: dict[str, str]) -> None:
    sagemaker = server.client("sagemaker")
    name = unique_name("mq")
    sagemaker.create_model_quality_job_definition(**model_quality(setup, name))
    described = sagemaker.describe_model_quality_job_definition(JobDefinitionName=name)
    assert described["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    source = described["ModelQualityJobInput"]["EndpointInput"]
    assert (source["InferenceAttribute"], source["ProbabilityThresholdAttribute"]) == ("0", 0.5)
    assert (source["StartTimeOffset"], source["EndTimeOffset"]) == ("-PT2H", "-PT1H")
    assert described["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"].endswith("/ground-truth")
    listed = sagemaker.list_model_quality_job_definitions(NameContains=name)["JobDefinitionSummaries"]
    assert [item["MonitoringJobDefinitionName"] for item in listed] == [name]
    assert sagemaker.list_data_quality_job_definitions(NameContains=name)["JobDefinitionSummaries"] == []
    sagemaker.delete_model_quality_job_definition(JobDefinitionName=name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: {"DataQualityJobInput": {"EndpointInput": endpoint_input("no-such-endpoint")}}, "Could not find endpoint"),
        (lambda s: {"DataQualityJobInput": {"EndpointInput": endpoint_input(s["plain"])}}, "Data capture is not enabled"),
        (lambda s: {"RoleArn": s["role"] + "-missing"}, "Could not assume role"),
        (
            lambda s: {"DataQualityJobInput": {"EndpointInput": endpoint_input(s["endpoint"], StartTimeOffset="-PT1H", EndTimeOffset="-PT2H")}},
            "must come before",
        ),
        (lambda s: {"DataQualityJobInput": {"EndpointInput": endpoint_input(s["endpoint"], StartTimeOffset="PT1H")}}, "not a valid offset"),
    ],
)
def test_bad_definitions_are_refused(server: RunningServer, setup: dict[str, str], change: Any, message: str) -> None:
    sagemaker = server.client("sagemaker")
    name = unique_name("bad")
    with pytest.raises(ClientError) as raised:
        sagemaker.create_data_quality_job_definition(**data_quality(setup, name, **change(setup)))
    assert error_of(raised) == ("ValidationException", 400)
    assert message in raised.value.response["Error"]["Message"]
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        sagemaker.describe_data_quality_job_definition(JobDefinitionName=name)


def test_model_quality_needs_a_problem_type(server: RunningServer, setup: dict[str, str]) -> None:
    sagemaker = server.client("sagemaker")
    with pytest.raises(ClientError) as raised:
        sagemaker.create_model_quality_job_definition(
            **model_quality(setup, unique_name("mq"), ModelQualityAppSpecification={"ImageUri": ANALYZER})
        )
    assert error_of(raised) == ("ValidationException", 400)
    assert "ProblemType" in raised.value.response["Error"]["Message"]


def test_schedule_lifecycle(server: RunningServer, setup: dict[str, str]) -> None:
    sagemaker = server.client("sagemaker")
    definition, name = unique_name("dq"), unique_name("schedule")
    sagemaker.create_data_quality_job_definition(**data_quality(setup, definition))
    arn = sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=name, MonitoringScheduleConfig=hourly(definition), Tags=[{"Key": "k", "Value": "v"}]
    )["MonitoringScheduleArn"]
    assert arn.endswith(f":monitoring-schedule/{name}")
    described = wait_for_schedule(sagemaker, name, "Scheduled")
    assert described["MonitoringType"] == "DataQuality"
    assert described["EndpointName"] == setup["endpoint"]
    assert described["MonitoringScheduleConfig"] == hourly(definition)
    assert "LastMonitoringExecutionSummary" not in described
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2"}])
    assert len(sagemaker.list_tags(ResourceArn=arn)["Tags"]) == 2

    listed = sagemaker.list_monitoring_schedules(EndpointName=setup["endpoint"], NameContains=name)["MonitoringScheduleSummaries"]
    assert [(item["MonitoringScheduleName"], item["MonitoringJobDefinitionName"], item["MonitoringType"]) for item in listed] == [
        (name, definition, "DataQuality")
    ]
    assert sagemaker.list_monitoring_schedules(NameContains=name, MonitoringTypeEquals="ModelQuality")["MonitoringScheduleSummaries"] == []
    assert sagemaker.list_monitoring_schedules(NameContains=name, StatusEquals="Stopped")["MonitoringScheduleSummaries"] == []

    with pytest.raises(ClientError) as in_use:
        sagemaker.delete_data_quality_job_definition(JobDefinitionName=definition)
    assert error_of(in_use) == ("ResourceInUse", 400)
    with pytest.raises(ClientError) as taken:
        sagemaker.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly(definition))
    assert error_of(taken) == ("ResourceInUse", 400)

    daily = {**hourly(definition), "ScheduleConfig": {"ScheduleExpression": "cron(0 0 ? * * *)"}}
    sagemaker.update_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=daily)
    described = wait_for_schedule(sagemaker, name, "Scheduled")
    assert described["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == "cron(0 0 ? * * *)"

    sagemaker.stop_monitoring_schedule(MonitoringScheduleName=name)
    assert sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleStatus"] == "Stopped"
    assert [item["MonitoringScheduleName"] for item in sagemaker.list_monitoring_schedules(NameContains=name, StatusEquals="Stopped")["MonitoringScheduleSummaries"]] == [name]
    sagemaker.start_monitoring_schedule(MonitoringScheduleName=name)
    wait_for_schedule(sagemaker, name, "Scheduled")

    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)
    with pytest.raises(sagemaker.exceptions.ResourceNotFound) as gone:
        sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert "Could not find" in gone.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as untagged:
        sagemaker.list_tags(ResourceArn=arn)
    assert error_of(untagged) == ("ValidationException", 400)
    sagemaker.delete_data_quality_job_definition(JobDefinitionName=definition)


def test_one_time_schedule_runs_once(server: RunningServer, setup: dict[str, str]) -> None:
    sagemaker = server.client("sagemaker")
    definition, name = unique_name("dq"), unique_name("once")
    sagemaker.create_data_quality_job_definition(**data_quality(setup, definition))
    config = {
        **hourly(definition),
        "ScheduleConfig": {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H", "DataAnalysisEndTime": "-PT0H"},
    }
    sagemaker.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config)
    ended = wait_for_execution(sagemaker, name)
    assert ended["MonitoringExecutionStatus"] == "Failed"  # nothing was captured
    assert ended["FailureReason"] == "Job inputs had no data"
    time.sleep(1.5)
    assert len(sagemaker.list_monitoring_executions(MonitoringScheduleName=name)["MonitoringExecutionSummaries"]) == 1
    assert sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleStatus"] == "Scheduled"
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)
    sagemaker.delete_data_quality_job_definition(JobDefinitionName=definition)


def test_inline_definition_and_listing_pages(server: RunningServer, setup: dict[str, str]) -> None:
    """What ``ModelMonitor.create_monitoring_schedule`` sends: the definition inline."""
    sagemaker = server.client("sagemaker")
    request = data_quality(setup, "unused")
    inline = {
        "BaselineConfig": request["DataQualityBaselineConfig"],
        "MonitoringInputs": [{"EndpointInput": endpoint_input(setup["endpoint"])}],
        "MonitoringOutputConfig": request["DataQualityJobOutputConfig"],
        "MonitoringResources": RESOURCES,
        "MonitoringAppSpecification": {"ImageUri": ANALYZER},
        "Environment": {"publish_cloudwatch_metrics": "Disabled"},
        "RoleArn": setup["role"],
    }
    prefix = unique_name("page")
    names = [f"{prefix}-{index}" for index in range(3)]
    for name in names:
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName=name,
            MonitoringScheduleConfig={"ScheduleConfig": {"ScheduleExpression": "cron(0 */6 ? * * *)"}, "MonitoringJobDefinition": inline},
        )
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=names[0])
    assert described["MonitoringScheduleConfig"]["MonitoringJobDefinition"]["MonitoringInputs"] == inline["MonitoringInputs"]
    assert described["MonitoringType"] == "DataQuality"
    first = sagemaker.list_monitoring_schedules(NameContains=prefix, SortBy="Name", SortOrder="Ascending", MaxResults=2)
    assert [item["MonitoringScheduleName"] for item in first["MonitoringScheduleSummaries"]] == names[:2]
    assert "MonitoringJobDefinitionName" not in first["MonitoringScheduleSummaries"][0]
    rest = sagemaker.list_monitoring_schedules(NameContains=prefix, SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=first["NextToken"])
    assert [item["MonitoringScheduleName"] for item in rest["MonitoringScheduleSummaries"]] == names[2:]
    assert "NextToken" not in rest
    for name in names:
        sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)


@pytest.mark.parametrize(
    ("config", "code", "message"),
    [
        ({"ScheduleConfig": {"ScheduleExpression": "cron(30 * ? * * *)"}}, "ValidationException", "minutes field must be 0"),
        ({"ScheduleConfig": {"ScheduleExpression": "rate(1 hour)"}}, "ValidationException", "Invalid ScheduleExpression"),
        ({"ScheduleConfig": {"ScheduleExpression": "NOW"}}, "ValidationException", "DataAnalysisStartTime"),
        (
            {"ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)", "DataAnalysisStartTime": "-PT1H", "DataAnalysisEndTime": "-PT0H"}},
            "ValidationException",
            "only for one-time",
        ),
        ({"MonitoringJobDefinitionName": "no-such-definition"}, "ResourceNotFound", "Could not find"),
        ({"MonitoringType": "ModelBias"}, "ValidationException", "not supported"),
        ({"ScheduleConfig": None}, "ValidationException", "ScheduleConfig is required"),
    ],
)
def test_bad_schedules_are_refused(server: RunningServer, setup: dict[str, str], config: dict[str, Any], code: str, message: str) -> None:
    sagemaker = server.client("sagemaker")
    definition = unique_name("dq")
    sagemaker.create_data_quality_job_definition(**data_quality(setup, definition))
    sent = {key: value for key, value in {**hourly(definition), **config}.items() if value is not None}
    name = unique_name("bad")
    with pytest.raises(ClientError) as raised:
        sagemaker.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=sent)
    assert error_of(raised)[0] == code
    assert message in raised.value.response["Error"]["Message"]
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    sagemaker.delete_data_quality_job_definition(JobDefinitionName=definition)


def test_run_now_is_signed_authorized_and_fails_without_data(server: RunningServer, setup: dict[str, str]) -> None:
    sagemaker = server.client("sagemaker")
    definition, name = unique_name("dq"), unique_name("run")
    sagemaker.create_data_quality_job_definition(**data_quality(setup, definition))
    sagemaker.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly(definition))

    status, body = post_run(server, name, sign=False)
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")
    key, _ = server.credentials
    status, body = post_run(server, name, {"AccessKeyId": key, "SecretAccessKey": "wrong"})
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    arn = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleArn"]
    outsider = create_user(server, policy=allow("sagemaker:StartMonitoringSchedule", arn + "-other"))
    status, body = post_run(server, name, outsider.credentials)
    assert (status, body["__type"]) == (400, "AccessDeniedException")
    assert sagemaker.list_monitoring_executions(MonitoringScheduleName=name)["MonitoringExecutionSummaries"] == []
    status, body = post_run(server, "no-such-schedule")
    assert (status, body["__type"]) == (400, "ResourceNotFound")

    member = create_user(server, policy=allow("sagemaker:StartMonitoringSchedule", arn))
    status, body = post_run(server, name, member.credentials)
    assert status == 200, body
    assert body["MonitoringScheduleName"] == name
    assert body["MonitoringExecutionStatus"] == "Pending"
    assert body["EndpointName"] == setup["endpoint"]
    assert body["MonitoringJobDefinitionName"] == definition
    ended = wait_for_execution(sagemaker, name)
    assert ended["MonitoringExecutionStatus"] == "Failed"
    assert ended["FailureReason"] == "Job inputs had no data"
    assert ended["ScheduledTime"].timestamp() == body["ScheduledTime"]
    summary = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)["LastMonitoringExecutionSummary"]
    assert summary["MonitoringExecutionStatus"] == "Failed"

    cloudtrail = server.client("cloudtrail")
    for user, error in ((outsider, "AccessDeniedException"), (member, None)):
        [event] = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": user.name}])["Events"]
        record = json.loads(event["CloudTrailEvent"])
        assert (event["EventName"], record.get("errorCode")) == ("RunMonitoringSchedule", error)
        assert record["requestParameters"] == {"MonitoringScheduleName": name}
        assert [item["ResourceName"] for item in event["Resources"]] == [arn]

    listed = sagemaker.list_monitoring_executions(EndpointName=setup["endpoint"], StatusEquals="Failed", MonitoringJobDefinitionName=definition)
    assert [item["MonitoringScheduleName"] for item in listed["MonitoringExecutionSummaries"]] == [name]
    after = sagemaker.list_monitoring_executions(MonitoringScheduleName=name, ScheduledTimeAfter=ended["ScheduledTime"])
    assert after["MonitoringExecutionSummaries"] == []
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)
    assert sagemaker.list_monitoring_executions(MonitoringScheduleName=name)["MonitoringExecutionSummaries"] == []
    sagemaker.delete_data_quality_job_definition(JobDefinitionName=definition)


@pytest.fixture(scope="module")
def sqlite_setup(sqlite_server: RunningServer) -> Iterator[dict[str, str]]:
    """An endpoint capturing its requests on the SQLite server (left Creating)."""
    setup = _captured_endpoint_setup(sqlite_server)
    yield setup
    sqlite_server.client("sagemaker").delete_endpoint(EndpointName=setup["endpoint"])


def test_cli_monitor_run_waits_and_reports(sqlite_server: RunningServer, sqlite_setup: dict[str, str]) -> None:
    server, setup = sqlite_server, sqlite_setup
    sagemaker = server.client("sagemaker")
    definition, name = unique_name("dq"), unique_name("cli")
    sagemaker.create_data_quality_job_definition(**data_quality(setup, definition))
    sagemaker.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly(definition))
    command = [sys.executable, "-m", "shipyard", "monitor", "run", name, "--wait", "--json", "--timeout", "60"]
    done = subprocess.run(command, check=False, env=server.client_env(), capture_output=True, text=True, timeout=90)
    assert done.returncode == 1, done.stderr
    printed = json.loads(done.stdout)
    assert printed["MonitoringExecutionStatus"] == "Failed"
    assert printed["FailureReason"] == "Job inputs had no data"
    assert printed["Violations"] == []
    missing = subprocess.run([*command[:5], "no-such-schedule"], check=False, env=server.client_env(), capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert "ResourceNotFound" in missing.stderr
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)


def test_sdk_default_model_monitor_schedules(sqlite_server: RunningServer, sqlite_setup: dict[str, str], tmp_path: Path) -> None:
    """The SageMaker SDK's DefaultModelMonitor: a job definition and a schedule of it, described,
    listed, stopped, started and deleted through the SDK."""
    from sagemaker.model_monitor import CronExpressionGenerator, DefaultModelMonitor

    bucket = sqlite_setup["bucket"]
    for kind in ("statistics", "constraints"):  # the SDK reads them
        upload(sqlite_server, bucket, f"baseline/{kind}.json", json.dumps({"version": 0.0, "features": []}).encode())
    with sagemaker_session(sqlite_server, tmp_path) as session:
        monitor = DefaultModelMonitor(
            role=sqlite_setup["role"], instance_count=1, instance_type="ml.m5.large", sagemaker_session=session
        )
        name = unique_name("sdk")
        monitor.create_monitoring_schedule(
            monitor_schedule_name=name,
            endpoint_input=sqlite_setup["endpoint"],
            output_s3_uri=f"s3://{bucket}/sdk-reports",
            statistics=f"s3://{bucket}/baseline/statistics.json",
            constraints=f"s3://{bucket}/baseline/constraints.json",
            schedule_cron_expression=CronExpressionGenerator.hourly(),
        )
        described = monitor.describe_schedule()
        assert described["MonitoringScheduleName"] == name
        assert described["MonitoringType"] == "DataQuality"
        assert described["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == "cron(0 * ? * * *)"
        definition = described["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]
        job = sqlite_server.client("sagemaker").describe_data_quality_job_definition(JobDefinitionName=definition)
        assert job["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == sqlite_setup["endpoint"]
        assert job["DataQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"].endswith("/constraints.json")
        assert monitor.list_executions() == []
        monitor.stop_monitoring_schedule()
        assert monitor.describe_schedule()["MonitoringScheduleStatus"] == "Stopped"
        monitor.start_monitoring_schedule()
        monitor.delete_monitoring_schedule()
    client = sqlite_server.client("sagemaker")
    with pytest.raises(client.exceptions.ResourceNotFound):
        client.describe_monitoring_schedule(MonitoringScheduleName=name)
    with pytest.raises(client.exceptions.ResourceNotFound):
        client.describe_data_quality_job_definition(JobDefinitionName=definition)


def _captured_endpoint_setup(server: RunningServer) -> dict[str, str]:
    sagemaker = server.client("sagemaker")
    bucket = unique_name("monitor-cli")
    server.client("s3").create_bucket(Bucket=bucket)
    role = sagemaker_role(server)
    archive, _ = xgboost_model()
    model = unique_name("model")
    create_model(sagemaker, model, role, upload(server, bucket, "model/model.tar.gz", archive))
    endpoint = unique_name("cli")
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{bucket}/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}],
    }
    deploy(sagemaker, endpoint, [variant("AllTraffic", model)], wait=False, DataCaptureConfig=capture)
    return {"bucket": bucket, "role": role, "endpoint": endpoint, "plain": ""}


def test_scheduled_executions_run_on_time_and_survive_a_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    """With ``monitoring_interval_seconds`` every scheduled schedule runs each interval;
    executions are neither lost nor repeated across a restart, and stop with the schedule."""
    from shipyard.testing import start_server

    env = {"SHIPYARD_MONITORING_INTERVAL_SECONDS": "1", "SHIPYARD_CPUS": "32", "SHIPYARD_MEMORY": "131072"}
    with start_server(tmp_path_factory.mktemp("interval"), extra_env=env) as server:
        sagemaker = server.client("sagemaker")
        setup = _captured_endpoint_setup(server)
        definition, name = unique_name("dq"), unique_name("every")
        sagemaker.create_data_quality_job_definition(**data_quality(setup, definition))
        sagemaker.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly(definition))

        def executions(at_least: int) -> list[dict[str, Any]]:
            deadline = time.monotonic() + 30
            while True:
                found = sagemaker.list_monitoring_executions(MonitoringScheduleName=name, MaxResults=100)["MonitoringExecutionSummaries"]
                if len(found) >= at_least:
                    return found
                assert time.monotonic() < deadline, f"only {len(found)} executions"
                time.sleep(0.2)

        before = executions(2)
        server.restart()
        after = executions(len(before) + 2)
        times = [item["ScheduledTime"].timestamp() for item in after]
        assert len(set(times)) == len(times)
        assert all(value == int(value) for value in times)  # whole seconds, one interval apart at least
        assert {item["ScheduledTime"] for item in before} <= {item["ScheduledTime"] for item in after}
        ended = [item for item in after if item["MonitoringExecutionStatus"] != "Pending"]
        assert ended and all(item["FailureReason"] == "Job inputs had no data" for item in ended)

        sagemaker.stop_monitoring_schedule(MonitoringScheduleName=name)
        time.sleep(0.5)
        stopped = len(executions(0))
        time.sleep(2.5)
        assert len(executions(0)) == stopped
