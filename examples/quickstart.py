"""Shipyard quickstart: feature engineering, training, tuning and deployment, the SageMaker
way, on this machine.

Start the server, then run this in another terminal:

    shipyard up                            # writes the AWS profile "shipyard" on first start
    AWS_PROFILE=shipyard python examples/quickstart.py

Nothing here is Shipyard-specific: it is plain boto3, and the profile carries the endpoint
and the keys. The same code runs against AWS (with a real account, role and bucket).

The walkthrough:
  1. create a bucket holding a small labelled dataset (300 rows, 2 classes, seeded);
  2. create an IAM role SageMaker may assume, allowed to use that bucket;
  3. a processing job standardizes the features and splits them into train / validation;
  4. a script-mode training job fits a logistic regression and reports its accuracy;
  5. print the job's metrics and where the model is;
  6. a tuning job searches the learning rate and the number of epochs for the best accuracy;
  7. deploy the best trial's model to an endpoint (script mode: an inference.py beside train.py);
  8. invoke the endpoint through sagemaker-runtime and print a prediction, then delete it.

The job and inference scripts use only the standard library, so they run wherever the
server's Python runs.
"""

from __future__ import annotations

import io
import json
import random
import sys
import tarfile
import textwrap
import time
import uuid

import boto3
from botocore.exceptions import WaiterError

# The image SageMaker's scikit-learn estimator and processor use; Shipyard runs its
# equivalent (script mode with the server's Python) without Docker.
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"

# --- The processing script: runs inside the processing job ------------------------------
# SageMaker copies each ProcessingInput to its LocalPath before the script starts, and
# uploads each ProcessingOutput's LocalPath to S3 when it ends.
PREPROCESS = """
    import csv, math, os, random

    rows = list(csv.reader(open("/opt/ml/processing/input/data/raw.csv")))
    header, rows = rows[0], [[float(v) for v in row] for row in rows[1:]]
    columns = len(header) - 1                                 # the last column is the label

    # Standardize every feature to mean 0, standard deviation 1.
    means = [sum(row[c] for row in rows) / len(rows) for c in range(columns)]
    stds = [math.sqrt(sum((row[c] - means[c]) ** 2 for row in rows) / len(rows)) or 1.0 for c in range(columns)]
    scaled = [[(row[c] - means[c]) / stds[c] for c in range(columns)] + [int(row[-1])] for row in rows]

    # Shuffle (seeded) and keep 20% aside for validation.
    random.Random(0).shuffle(scaled)
    cut = int(len(scaled) * 0.8)
    for split, part in (("train", scaled[:cut]), ("validation", scaled[cut:])):
        folder = f"/opt/ml/processing/output/{split}"
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{split}.csv"), "w", newline="") as handle:
            csv.writer(handle).writerows(part)
        print(f"{split}: {len(part)} rows", flush=True)
"""

# --- The training script: runs inside the training job ----------------------------------
# Script mode: hyperparameters arrive as command-line flags, each channel's files in
# SM_CHANNEL_<NAME>, and whatever is written to SM_MODEL_DIR becomes model.tar.gz in S3.
TRAIN = """
    import argparse, csv, json, math, os

    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--learning-rate", type=float, default=0.5)
    # Trials of a tuning job also get --_tuning_objective_metric (SageMaker adds it): ignore it.
    args, _ = parser.parse_known_args()

    def load(channel):
        folder = os.environ[f"SM_CHANNEL_{channel.upper()}"]
        rows = [row for name in sorted(os.listdir(folder)) for row in csv.reader(open(os.path.join(folder, name)))]
        return [[float(v) for v in row[:-1]] for row in rows], [int(row[-1]) for row in rows]

    x_train, y_train = load("train")
    x_valid, y_valid = load("validation")

    def predict(weights, bias, x):
        z = bias + sum(w * v for w, v in zip(weights, x))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    # Logistic regression by full-batch gradient descent.
    weights, bias = [0.0] * len(x_train[0]), 0.0
    for epoch in range(args.epochs):
        grad_w, grad_b = [0.0] * len(weights), 0.0
        for x, y in zip(x_train, y_train):
            error = predict(weights, bias, x) - y
            grad_w = [g + error * v for g, v in zip(grad_w, x)]
            grad_b += error
        weights = [w - args.learning_rate * g / len(x_train) for w, g in zip(weights, grad_w)]
        bias -= args.learning_rate * grad_b / len(x_train)
        probabilities = [predict(weights, bias, x) for x in x_train]
        loss = -sum(math.log(max(1e-12, p if y else 1.0 - p)) for p, y in zip(probabilities, y_train)) / len(y_train)
        accuracy = sum((predict(weights, bias, x) >= 0.5) == bool(y) for x, y in zip(x_valid, y_valid)) / len(y_valid)
        # MetricDefinitions below turn this line into the metrics train:loss and validation:accuracy.
        print(f"epoch={epoch} train:loss={loss:.4f} validation:accuracy={accuracy:.4f}", flush=True)

    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as handle:
        json.dump({"weights": weights, "bias": bias}, handle)
"""


# --- The inference script: runs inside the endpoint's model server ---------------------
# The SageMaker inference toolkit's convention: model_fn loads what training wrote to
# SM_MODEL_DIR (unpacked from model.tar.gz), input_fn decodes a request, predict_fn predicts.
INFERENCE = """
    import json, math, os

    def model_fn(model_dir):
        with open(os.path.join(model_dir, "model.json")) as handle:
            return json.load(handle)

    def input_fn(body, content_type):
        text = body.decode() if isinstance(body, bytes) else body
        return [[float(value) for value in line.split(",")] for line in text.splitlines() if line.strip()]

    def predict_fn(rows, model):
        def probability(x):
            z = model["bias"] + sum(w * v for w, v in zip(model["weights"], x))
            return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        return [round(probability(row), 4) for row in rows]

    def output_fn(probabilities, accept):
        return json.dumps({"predictions": probabilities}), "application/json"
"""


def make_dataset(rows: int = 300, seed: int = 7) -> str:
    """A CSV of two Gaussian blobs in three features, with a 0/1 label in the last column."""
    rng = random.Random(seed)
    lines = ["f0,f1,f2,label"]
    for index in range(rows):
        label = index % 2
        centre = (2.0, -1.0, 0.5) if label else (-1.0, 1.0, 0.0)
        features = [rng.gauss(mu, 1.2) * scale for mu, scale in zip(centre, (1.0, 3.0, 10.0))]
        lines.append(",".join(f"{value:.5f}" for value in features) + f",{label}")
    return "\n".join(lines) + "\n"


def sourcedir(files: dict[str, str]) -> bytes:
    """A sourcedir.tar.gz, as the SageMaker SDK packs ``source_dir`` / ``entry_point``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def wait(sagemaker, kind: str, name: str) -> dict:
    """Wait with boto3's waiter until the job ends; exit non-zero if it did not complete."""
    key = "TrainingJobName" if kind == "training" else "ProcessingJobName"
    try:
        sagemaker.get_waiter(f"{kind}_job_completed_or_stopped").wait(
            **{key: name}, WaiterConfig={"Delay": 1, "MaxAttempts": 600}
        )
    except WaiterError:
        pass  # the waiter gives up on Failed; the description below says why
    job = getattr(sagemaker, f"describe_{kind}_job")(**{key: name})
    status = job["TrainingJobStatus" if kind == "training" else "ProcessingJobStatus"]
    print(f"  {kind} job {name}: {status}")
    if status != "Completed":
        print(f"  FailureReason: {job.get('FailureReason', '(none)')}", file=sys.stderr)
        hint = "" if kind == "training" else f" --kind {kind}"
        print(f"  see the log: shipyard logs {name}{hint}", file=sys.stderr)
        sys.exit(1)
    return job


def main() -> None:
    run = uuid.uuid4().hex[:8]                  # unique names, so the walkthrough can run again
    bucket, role_name = f"quickstart-{run}", f"quickstart-sagemaker-{run}"
    s3, iam, sagemaker = boto3.client("s3"), boto3.client("iam"), boto3.client("sagemaker")

    # 1. A bucket holding the raw data (made here, seeded) and the processing script.
    print(f"1. bucket s3://{bucket} with 300 raw rows")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="raw/raw.csv", Body=make_dataset().encode())
    s3.put_object(Bucket=bucket, Key="code/preprocess.py", Body=textwrap.dedent(PREPROCESS).encode())

    # 2. A role the SageMaker service may assume (trust policy), allowed to use this bucket.
    # Jobs act with this role's temporary credentials, and with no more rights than it has.
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    access = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}
        ],
    }
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role_name, PolicyName="s3-access", PolicyDocument=json.dumps(access))
    print(f"2. role {role}")

    # 3. Processing job: raw.csv -> standardized train/ and validation/ prefixes.
    processing = f"quickstart-features-{run}"
    print(f"3. processing job {processing}")

    def s3_input(name: str, uri: str, path: str) -> dict:
        source = {"S3Uri": uri, "LocalPath": path, "S3DataType": "S3Prefix", "S3InputMode": "File"}
        return {"InputName": name, "S3Input": source}

    def s3_output(name: str) -> dict:
        target = {
            "S3Uri": f"s3://{bucket}/features/{name}",
            "LocalPath": f"/opt/ml/processing/output/{name}",
            "S3UploadMode": "EndOfJob",
        }
        return {"OutputName": name, "S3Output": target}

    sagemaker.create_processing_job(
        ProcessingJobName=processing,
        RoleArn=role,
        AppSpecification={
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
        },
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
        ProcessingInputs=[
            s3_input("code", f"s3://{bucket}/code/preprocess.py", "/opt/ml/processing/input/code"),
            s3_input("data", f"s3://{bucket}/raw", "/opt/ml/processing/input/data"),
        ],
        ProcessingOutputConfig={"Outputs": [s3_output("train"), s3_output("validation")]},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    wait(sagemaker, "processing", processing)

    # 4. Script-mode training job: the SDK uploads the code as sourcedir.tar.gz and names it
    # (and the entry point) in JSON-encoded hyperparameters; so do we.
    code = {"train.py": textwrap.dedent(TRAIN), "inference.py": textwrap.dedent(INFERENCE)}
    s3.put_object(Bucket=bucket, Key="code/sourcedir.tar.gz", Body=sourcedir(code))
    training = f"quickstart-train-{run}"
    print(f"4. training job {training}")

    def channel(name: str) -> dict:
        source = {
            "S3DataType": "S3Prefix",
            "S3Uri": f"s3://{bucket}/features/{name}",
            "S3DataDistributionType": "FullyReplicated",
        }
        return {"ChannelName": name, "DataSource": {"S3DataSource": source}, "ContentType": "text/csv"}

    # What every training job of this walkthrough runs: the tuning job below reuses it.
    definition = {
        "RoleArn": role,
        "AlgorithmSpecification": {
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [
                {"Name": "train:loss", "Regex": r"train:loss=([0-9.]+)"},
                {"Name": "validation:accuracy", "Regex": r"validation:accuracy=([0-9.]+)"},
            ],
        },
        "InputDataConfig": [channel("train"), channel("validation")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    program = {
        "sagemaker_program": json.dumps("train.py"),
        "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/code/sourcedir.tar.gz"),
    }
    sagemaker.create_training_job(
        TrainingJobName=training,
        HyperParameters={**program, "epochs": json.dumps(20), "learning-rate": json.dumps(0.5)},
        **definition,
    )
    job = wait(sagemaker, "training", training)

    # 5. What came out: the final value of each metric, and the model in S3.
    print("5. results")
    for metric in job.get("FinalMetricDataList", []):
        print(f"  {metric['MetricName']} = {metric['Value']:.4f}")
    print(f"  model: {job['ModelArtifacts']['S3ModelArtifacts']}")
    print(f"  the job's log: shipyard logs {training}")

    # 6. Tuning job: the same training job with the learning rate and the number of epochs
    # left open. Bayesian search proposes 6 trials, 2 at a time, each one an ordinary training
    # job, and keeps the one whose validation:accuracy (read by the MetricDefinitions) is highest.
    tuning = f"quickstart-tune-{run}"            # tuning job names are at most 32 characters
    print(f"6. tuning job {tuning}")
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    {"Name": "learning-rate", "MinValue": "0.01", "MaxValue": "1", "ScalingType": "Logarithmic"}
                ],
                "IntegerParameterRanges": [{"Name": "epochs", "MinValue": "5", "MaxValue": "40"}],
            },
        },
        TrainingJobDefinition={**definition, "StaticHyperParameters": program},
    )
    while True:                                  # boto3 has no waiter for tuning jobs
        tuned = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning)
        status = tuned["HyperParameterTuningJobStatus"]
        if status in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(1)
    print(f"  tuning job {tuning}: {status} ({tuned['TrainingJobStatusCounters']['Completed']} trials completed)")
    if status != "Completed" or "BestTrainingJob" not in tuned:
        print(f"  FailureReason: {tuned.get('FailureReason', '(none)')}", file=sys.stderr)
        sys.exit(1)
    best = tuned["BestTrainingJob"]
    accuracy = best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    print(f"  best trial: {best['TrainingJobName']} (validation:accuracy = {accuracy:.4f})")
    print("  its hyperparameters: " + ", ".join(f"{k} = {v}" for k, v in sorted(best["TunedHyperParameters"].items())))
    best_model = sagemaker.describe_training_job(TrainingJobName=best["TrainingJobName"])["ModelArtifacts"]["S3ModelArtifacts"]
    print(f"  best model: {best_model}")

    # 7. Deploy the best trial's model: a model (the artifacts, the image, the inference code),
    # an endpoint config (one variant on one instance) and the endpoint; boto3's waiter follows
    # it to InService.
    endpoint = f"quickstart-{run}"
    print(f"7. endpoint {endpoint}")
    sagemaker.create_model(
        ModelName=endpoint,
        ExecutionRoleArn=role,
        PrimaryContainer={
            "Image": SKLEARN_IMAGE,
            "ModelDataUrl": best_model,
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": f"s3://{bucket}/code/sourcedir.tar.gz",
            },
        },
    )
    variant = {"VariantName": "AllTraffic", "ModelName": endpoint, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
    sagemaker.create_endpoint_config(EndpointConfigName=endpoint, ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)
    try:
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    except WaiterError:
        reason = sagemaker.describe_endpoint(EndpointName=endpoint).get("FailureReason", "(none)")
        print(f"  the endpoint failed: {reason}\n  see the log: shipyard logs {endpoint} --kind endpoint", file=sys.stderr)
        sys.exit(1)
    print("  InService")

    # 8. Invoke it with a validation row (features only; the label is the last column).
    row = s3.get_object(Bucket=bucket, Key="features/validation/validation.csv")["Body"].read().decode().splitlines()[0]
    *features, label = row.split(",")
    answer = boto3.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Accept="application/json", Body=",".join(features)
    )
    probability = json.loads(answer["Body"].read())["predictions"][0]
    print(f"8. prediction: P(label=1) = {probability:.4f} (the row's label: {label})")
    sagemaker.delete_endpoint(EndpointName=endpoint)
    print(f"  endpoint {endpoint} deleted")


if __name__ == "__main__":
    main()
