"""Shipyard monitoring walkthrough: deploy a model with data capture, baseline its training
data, watch live traffic with Model Monitor and a CloudWatch alarm, and see drift caught.

Start the server, then run this in another terminal:

    shipyard up                            # writes the AWS profile "shipyard" on first start
    AWS_PROFILE=shipyard python examples/monitoring.py

The server writes captured requests to S3 at least every minute and evaluates alarms every
minute, so the walkthrough waits for both; `SHIPYARD_CAPTURE_FLUSH_SECONDS=2
SHIPYARD_ALARM_EVALUATION_SECONDS=2 shipyard up` makes it take seconds instead.

Everything is plain boto3 except step 6's `shipyard monitor run`, which starts a monitoring
execution now instead of at the next hour (AWS has no such call: there you wait for the hour).

The walkthrough:
  1. a bucket with a seeded dataset (three features, a numeric target) and a role;
  2. a built-in XGBoost training job fits a regressor;
  3. a baseline job (Model Monitor's analyzer image) computes statistics.json and
     constraints.json from the training features;
  4. the model is deployed on an endpoint that captures every request;
  5. a data quality monitoring schedule (hourly) compares captured traffic with the baseline,
     and an alarm watches the drift metric it publishes for feature f2;
  6. normal traffic: the execution completes without violations and the alarm is OK;
  7. traffic whose f2 has shifted: the execution reports a baseline_drift_check on f2 only,
     and the alarm goes to ALARM;
  8. clean up: the schedule, the alarm and the endpoint are deleted.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import uuid

import boto3
from botocore.exceptions import WaiterError

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
# What sagemaker.image_uris.retrieve("model-monitor", "us-east-1") returns.
ANALYZER_IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
FEATURES = ("f0", "f1", "f2")
INSTANCE = {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10}


def rows(count: int, seed: int, f2_shift: float = 0.0) -> list[list[float]]:
    """``count`` feature rows (f0, f1, f2), standard normal; f2 moved by ``f2_shift``."""
    generator = random.Random(seed)
    return [
        [round(generator.gauss(0, 1), 4), round(generator.gauss(0, 1), 4), round(generator.gauss(f2_shift, 1), 4)]
        for _ in range(count)
    ]


def target(row: list[float]) -> float:
    f0, f1, f2 = row
    return round(2 * f0 - f1 + 0.5 * f2, 4)


def csv_lines(table: list[list[float]]) -> str:
    return "".join(",".join(str(value) for value in row) + "\n" for row in table)


def wait_for_job(sagemaker, kind: str, name: str) -> dict:
    """Wait with boto3's waiter until the job ends; exit non-zero if it did not complete."""
    key, status_key = ("TrainingJobName", "TrainingJobStatus") if kind == "training" else ("ProcessingJobName", "ProcessingJobStatus")
    try:
        sagemaker.get_waiter(f"{kind}_job_completed_or_stopped").wait(**{key: name}, WaiterConfig={"Delay": 1, "MaxAttempts": 600})
    except WaiterError:
        pass  # the waiter gives up on Failed; the description below says why
    job = getattr(sagemaker, f"describe_{kind}_job")(**{key: name})
    if job[status_key] != "Completed":
        print(f"  {kind} job {name}: {job[status_key]}: {job.get('FailureReason', '')}", file=sys.stderr)
        sys.exit(1)
    return job


def wait_for_capture(s3, bucket: str, prefix: str, records: int) -> None:
    """Wait until at least ``records`` captured requests are in S3 (the server writes them in batches)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        found = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found += s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().count(b"\n")
        if found >= records:
            print(f"  {found} captured requests in s3://{bucket}/{prefix}")
            return
        time.sleep(1)
    sys.exit(f"  captured data did not reach s3://{bucket}/{prefix}")


def run_monitor(schedule: str) -> dict:
    """``shipyard monitor run SCHEDULE --wait --json``: an execution over the last hour, now."""
    command = [sys.executable, "-m", "shipyard", "monitor", "run", schedule, "--wait", "--json"]  # the `shipyard` command
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        sys.exit(f"  shipyard monitor run failed: {finished.stderr.strip()}")
    return json.loads(finished.stdout)


def wait_for_alarm(cloudwatch, name: str, state: str) -> dict:
    """The alarm once the server's evaluation (every minute by default) has put it in ``state``."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        if alarm["StateValue"] == state:
            return alarm
        time.sleep(1)
    sys.exit(f"  alarm {name} did not reach {state}: {alarm['StateValue']} ({alarm['StateReason']})")


def send(runtime, endpoint: str, table: list[list[float]]) -> None:
    for row in table:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=",".join(map(str, row)))


def main() -> None:
    run = uuid.uuid4().hex[:8]                  # unique names, so the walkthrough can run again
    bucket, name = f"monitoring-{run}", f"monitoring-{run}"
    s3, iam, sagemaker = boto3.client("s3"), boto3.client("iam"), boto3.client("sagemaker")
    runtime, cloudwatch = boto3.client("sagemaker-runtime"), boto3.client("cloudwatch")

    # 1. The data: 2,000 training rows (target first, as built-in XGBoost reads CSV), and the
    # same features with a header for the baseline. A role SageMaker may assume, for this bucket.
    training_rows = rows(2000, seed=1)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="train/train.csv", Body=csv_lines([[target(row), *row] for row in training_rows]).encode())
    s3.put_object(Bucket=bucket, Key="baseline-data/features.csv", Body=(",".join(FEATURES) + "\n" + csv_lines(training_rows)).encode())
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    access = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="s3-access", PolicyDocument=json.dumps(access))
    print(f"1. bucket s3://{bucket}, role {role}")

    # 2. Train: built-in XGBoost, 30 rounds of squared-error regression.
    sagemaker.create_training_job(
        TrainingJobName=name,
        RoleArn=role,
        AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        HyperParameters={"objective": "reg:squarederror", "num_round": "30", "max_depth": "3"},
        InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/train", "S3DataDistributionType": "FullyReplicated"}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/models"},
        ResourceConfig=INSTANCE,
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    model = wait_for_job(sagemaker, "training", name)["ModelArtifacts"]["S3ModelArtifacts"]
    print(f"2. training job {name}: model {model}")

    # 3. Baseline: the analyzer reads the features and suggests constraints (types,
    # completeness, and how far each distribution may drift).
    baseline = f"{name}-baseline"
    sagemaker.create_processing_job(
        ProcessingJobName=baseline,
        RoleArn=role,
        AppSpecification={"ImageUri": ANALYZER_IMAGE},
        ProcessingResources={"ClusterConfig": INSTANCE},
        ProcessingInputs=[{"InputName": "baseline_dataset_input", "S3Input": {
            "S3Uri": f"s3://{bucket}/baseline-data", "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "monitoring_output", "S3Output": {
            "S3Uri": f"s3://{bucket}/baseline", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        Environment={
            "dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
            "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
            "output_path": "/opt/ml/processing/output",
        },
    )
    wait_for_job(sagemaker, "processing", baseline)
    statistics = json.loads(s3.get_object(Bucket=bucket, Key="baseline/statistics.json")["Body"].read())
    constraints = json.loads(s3.get_object(Bucket=bucket, Key="baseline/constraints.json")["Body"].read())
    print(f"3. baseline job {baseline}: {statistics['dataset']['item_count']} rows")
    for feature in statistics["features"]:
        numbers = feature["numerical_statistics"]
        print(f"  {feature['name']}: {feature['inferred_type']}, mean {numbers['mean']:.3f}, std {numbers['std_dev']:.3f}")
    drift = constraints["monitoring_config"]["distribution_constraints"]
    threshold = drift["comparison_threshold"]
    print(f"  drift check: {drift['comparison_method']} distance above {threshold}")

    # 4. Deploy with data capture: every request (and response) goes to S3 as JSON lines.
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": model})
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{bucket}/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
        },
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    print(f"4. endpoint {name}: InService, capturing to s3://{bucket}/capture")

    # 5. The monitoring schedule (hourly, as on AWS) and an alarm on the drift it publishes.
    sagemaker.create_data_quality_job_definition(
        JobDefinitionName=name,
        DataQualityBaselineConfig={
            "ConstraintsResource": {"S3Uri": f"s3://{bucket}/baseline/constraints.json"},
            "StatisticsResource": {"S3Uri": f"s3://{bucket}/baseline/statistics.json"},
        },
        DataQualityAppSpecification={"ImageUri": ANALYZER_IMAGE},
        DataQualityJobInput={"EndpointInput": {"EndpointName": name, "LocalPath": "/opt/ml/processing/input/endpoint"}},
        DataQualityJobOutputConfig={"MonitoringOutputs": [{"S3Output": {
            "S3Uri": f"s3://{bucket}/reports", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        JobResources={"ClusterConfig": INSTANCE},
        RoleArn=role,
    )
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=name,
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": name,
            "MonitoringType": "DataQuality",
        },
    )
    cloudwatch.put_metric_alarm(
        AlarmName=f"{name}-f2-drift",
        AlarmDescription="Live traffic's f2 no longer looks like the training data",
        Namespace="aws/sagemaker/Endpoints/data-metrics",
        MetricName="feature_baseline_drift_f2",
        Dimensions=[{"Name": "Endpoint", "Value": name}, {"Name": "MonitoringSchedule", "Value": name}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore",
    )
    print(f"5. monitoring schedule {name} (hourly) and alarm {name}-f2-drift (drift of f2 > {threshold})")

    # 6. Normal traffic: 200 requests like the training data.
    send(runtime, name, rows(200, seed=2))
    wait_for_capture(s3, bucket, f"capture/{name}/", 200)
    execution = run_monitor(name)
    print(f"6. normal traffic: {execution['MonitoringExecutionStatus']}, {len(execution['Violations'])} violations")
    alarm = wait_for_alarm(cloudwatch, f"{name}-f2-drift", "OK")
    print(f"  alarm: {alarm['StateValue']}")

    # 7. Shifted traffic: f2 now arrives three standard deviations higher.
    send(runtime, name, rows(400, seed=3, f2_shift=3.0))
    wait_for_capture(s3, bucket, f"capture/{name}/", 600)
    execution = run_monitor(name)
    print(f"7. shifted traffic: {execution['MonitoringExecutionStatus']}, {len(execution['Violations'])} violations")
    for violation in execution["Violations"]:
        print(f"  {violation['constraint_check_type']} on {violation['feature_name']}: {violation['description']}")
    alarm = wait_for_alarm(cloudwatch, f"{name}-f2-drift", "ALARM")
    print(f"  alarm: {alarm['StateValue']} ({alarm['StateReason']})")

    # 8. Clean up what keeps running: the schedule, the alarm and the endpoint.
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)
    cloudwatch.delete_alarms(AlarmNames=[f"{name}-f2-drift"])
    sagemaker.delete_endpoint(EndpointName=name)
    print("8. schedule, alarm and endpoint deleted")


if __name__ == "__main__":
    main()
