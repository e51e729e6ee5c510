"""The job runner against a real Shipyard server: the SageMaker job contract, end to end."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipyard.jobs.spec import HostResult, HostSpec, Image, Resources, read_events
from shipyard.testing import RunningServer, start_server
from shipyard.testing.jobs import sourcedir_tar

ROLE = "arn:aws:iam::123456789012:role/job"


@pytest.fixture(scope="module")
def shipyard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with start_server(tmp_path_factory.mktemp("runner-server")) as running:
        yield running


@pytest.fixture(scope="module")
def s3(shipyard: RunningServer) -> Any:
    return shipyard.client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = f"jobs-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    return name


def host_spec(
    shipyard: RunningServer,
    host_dir: Path,
    request: dict[str, Any],
    *,
    kind: str = "training",
    image: Image | None = None,
    host: str = "algo-1",
    hosts: list[str] | None = None,
    resources: Resources | None = None,
    **extra: Any,
) -> HostSpec:
    """Write a host.json for a job named after the host dir's parent test."""
    access_key, secret_key = shipyard.credentials
    host_dir.mkdir(parents=True, exist_ok=True)
    spec = HostSpec(
        kind=kind,  # type: ignore[arg-type]
        job_name=request.get("TrainingJobName") or request.get("ProcessingJobName") or "job",
        job_arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/job",
        region="us-east-1",
        host=host,
        hosts=hosts or [host],
        request={"RoleArn": ROLE, **request},
        image=image or Image(uri="123.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1", kind="script", framework="pytorch"),
        resources=resources
        or Resources(instance_type="ml.m5.large", vcpus=2, cpu_ids=sorted(os.sched_getaffinity(0)), memory_mib=8192),
        endpoint_url=shipyard.endpoint_url,
        credentials={"AccessKeyId": access_key, "SecretAccessKey": secret_key, "SessionToken": ""},
        **extra,
    )
    spec.write(host_dir)
    return spec


def start_runner(host_dir: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    runner_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | (env or {})
    log = (host_dir / "runner.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "shipyard.jobs.runner", str(host_dir)], cwd=host_dir, stdout=log, stderr=log, env=runner_env, start_new_session=True)


def finish(process: subprocess.Popen, host_dir: Path, timeout: float = 60) -> HostResult:
    """Wait for a runner; kill it (and its job) if it hangs; its result."""
    try:
        assert process.wait(timeout=timeout) == 0, (host_dir / "runner.log").read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    result = HostResult.read(host_dir)
    assert result is not None, (host_dir / "runner.log").read_text()
    return result


def run_runner(host_dir: Path, env: dict[str, str] | None = None) -> HostResult:
    return finish(start_runner(host_dir, env), host_dir)


def statuses(host_dir: Path) -> list[str]:
    return [event.status for event in read_events(host_dir)[0]]


def output_log(host_dir: Path) -> str:
    return (host_dir / "output.log").read_text()


def upload_source(s3: Any, bucket: str, prefix: str, files: dict[str, str]) -> str:
    key = f"{prefix}/source/sourcedir.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=sourcedir_tar(files))
    return f"s3://{bucket}/{key}"


def read_tar(s3: Any, bucket: str, key: str) -> dict[str, bytes]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()}


def script_request(name: str, bucket: str, source: str, program: str = "train.py", **fields: Any) -> dict[str, Any]:
    hyperparameters = {"sagemaker_program": json.dumps(program), "sagemaker_submit_directory": json.dumps(source)}
    hyperparameters.update(fields.pop("HyperParameters", {}))
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": "pytorch-training:2.1", "TrainingInputMode": "File"},
        "HyperParameters": hyperparameters,
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        **fields,
    }


def command_request(name: str, bucket: str, shell: str, **fields: Any) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": "example/any:1", "TrainingInputMode": "File", "ContainerEntrypoint": ["/bin/sh", "-c", shell]},
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        **fields,
    }


COMMAND = Image(uri="example/any:1", kind="command")

TRAIN_PY = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path

    model = Path(os.environ["SM_MODEL_DIR"])
    files = {}
    for channel in json.loads(os.environ["SM_CHANNELS"]):
        root = Path(os.environ["SM_CHANNEL_" + channel.upper()])
        files[channel] = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    seen = {
        "argv": sys.argv[1:],
        "env": {k: v for k, v in os.environ.items() if k.startswith(("SM_", "AWS_", "TRAINING_"))},
        "files": files,
        "cwd": os.getcwd(),
        "old_checkpoint": Path("/opt/ml/checkpoints/old.txt").read_text(),
        "hyperparameters": json.loads(Path("/opt/ml/input/config/hyperparameters.json").read_text()),
        "resourceconfig": json.loads(Path("/opt/ml/input/config/resourceconfig.json").read_text()),
        "inputdataconfig": json.loads(Path("/opt/ml/input/config/inputdataconfig.json").read_text()),
    }
    (model / "seen.json").write_text(json.dumps(seen))
    Path("/opt/ml/model/literal.txt").write_text("written to /opt/ml/model")
    Path(os.environ["SM_OUTPUT_DATA_DIR"], "metrics.txt").write_text("auc=0.9")
    Path("/opt/ml/checkpoints/new.txt").write_text("new")
    print("hello from train.py")
    print("to stderr", file=sys.stderr)
    """
)


def test_script_mode_trains_with_channels_and_uploads_the_model(shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    for key in ("data/train/a.csv", "data/train/nested/b.csv", "data/other/x.csv", "manifest-base/m1.csv", "manifest-base/sub/m2.csv", "ckpt/j1/old.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"1,2\n" if not key.endswith("old.txt") else b"old")
    s3.put_object(Bucket=bucket, Key="manifests/m.json", Body=json.dumps([{"prefix": f"s3://{bucket}/manifest-base/"}, "m1.csv", "sub/m2.csv"]).encode())
    source = upload_source(s3, bucket, "j1", {"train.py": TRAIN_PY})
    request = script_request(
        "j1",
        bucket,
        source,
        HyperParameters={"epochs": "3", "optimizer": '"adam"', "x": "1"},
        InputDataConfig=[
            {"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/data/train"}}},
            {"ChannelName": "listed", "DataSource": {"S3DataSource": {"S3DataType": "ManifestFile", "S3Uri": f"s3://{bucket}/manifests/m.json"}}},
        ],
        CheckpointConfig={"S3Uri": f"s3://{bucket}/ckpt/j1"},
        Environment={"MY_SETTING": "on"},
    )
    host_dir = tmp_path / "algo-1"
    host_spec(shipyard, host_dir, request)

    result = run_runner(host_dir)

    assert result.outcome == "Completed", output_log(host_dir)
    assert result.exit_code == 0
    assert result.model_artifacts == f"s3://{bucket}/output/j1/output/model.tar.gz"
    assert result.output_data == f"s3://{bucket}/output/j1/output/output.tar.gz"
    assert statuses(host_dir) == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    model = read_tar(s3, bucket, "output/j1/output/model.tar.gz")
    assert model["literal.txt"] == b"written to /opt/ml/model"
    seen = json.loads(model["seen.json"])
    assert seen["argv"] == ["--epochs", "3", "--optimizer", "adam", "-x", "1"]
    assert seen["files"] == {"listed": ["m1.csv", "sub/m2.csv"], "train": ["a.csv", "nested/b.csv"]}
    assert seen["cwd"] == "/opt/ml/code"
    assert seen["old_checkpoint"] == "old"
    env = seen["env"]
    assert env["SM_MODEL_DIR"] == "/opt/ml/model"
    assert env["SM_CHANNELS"] == '["listed", "train"]'
    assert env["SM_CHANNEL_TRAIN"] == "/opt/ml/input/data/train"
    assert json.loads(env["SM_HPS"]) == {"epochs": 3, "optimizer": "adam", "x": 1}
    assert env["SM_HP_OPTIMIZER"] == "adam" and env["SM_HP_EPOCHS"] == "3"
    assert json.loads(env["SM_USER_ARGS"]) == seen["argv"]
    assert env["SM_HOSTS"] == '["algo-1"]' and env["SM_CURRENT_HOST"] == "algo-1"
    assert env["SM_USER_ENTRY_POINT"] == "train.py" and env["SM_MODULE_DIR"] == source
    assert env["SM_NUM_CPUS"] == "2" and env["SM_NUM_GPUS"] == "0"
    assert json.loads(env["SM_TRAINING_ENV"])["hyperparameters"] == {"epochs": 3, "optimizer": "adam", "x": 1}
    assert env["TRAINING_JOB_NAME"] == "j1" and env["TRAINING_JOB_ARN"].endswith(":training-job/job")
    assert env["AWS_ENDPOINT_URL"] == shipyard.endpoint_url and "AWS_SESSION_TOKEN" not in env
    assert seen["hyperparameters"]["optimizer"] == '"adam"'
    assert seen["resourceconfig"]["hosts"] == ["algo-1"] and seen["resourceconfig"]["current_group_name"] == "homogeneousCluster"
    assert seen["inputdataconfig"]["train"] == {"ContentType": "text/csv", "RecordWrapperType": "None", "S3DistributionType": "FullyReplicated", "TrainingInputMode": "File"}
    assert read_tar(s3, bucket, "output/j1/output/output.tar.gz") == {"metrics.txt": b"auc=0.9"}
    assert s3.get_object(Bucket=bucket, Key="ckpt/j1/new.txt")["Body"].read() == b"new"
    log = output_log(host_dir)
    assert "hello from train.py" in log and "to stderr" in log


def test_sharded_by_s3_key_splits_the_keys_between_hosts(shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    for index in range(5):
        s3.put_object(Bucket=bucket, Key=f"shards/part-{index}.csv", Body=b"x")
    channel = {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/shards/", "S3DataDistributionType": "ShardedByS3Key"}}}
    request = command_request("sharded", bucket, "ls $SM_CHANNEL_TRAIN", InputDataConfig=[channel])
    hosts = ["algo-1", "algo-2"]
    runners = {}
    for host in hosts:
        host_spec(shipyard, tmp_path / host, request, image=COMMAND, host=host, hosts=hosts)
        runners[host] = start_runner(tmp_path / host)
    results = {host: finish(process, tmp_path / host) for host, process in runners.items()}

    files = {host: sorted(p.name for p in (tmp_path / host / "opt_ml/input/data/train").iterdir()) for host in hosts}
    assert files == {"algo-1": ["part-0.csv", "part-2.csv", "part-4.csv"], "algo-2": ["part-1.csv", "part-3.csv"]}
    assert results["algo-1"].model_artifacts and not results["algo-2"].model_artifacts


def test_failure_file_is_the_failure_reason(shipyard: RunningServer, bucket: str, tmp_path: Path) -> None:
    host_spec(shipyard, tmp_path, command_request("failing", bucket, "echo 'bad input: no label column' > /opt/ml/output/failure; exit 3"), image=COMMAND)

    result = run_runner(tmp_path)

    assert (result.outcome, result.exit_code, result.failure_reason) == ("Failed", 3, "bad input: no label column")
    assert statuses(tmp_path) == ["Starting", "Downloading", "Training", "Failed"]


def test_script_error_reports_stderr_and_exit_code(shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    source = upload_source(s3, bucket, "err", {"train.py": "raise ValueError('boom')\n"})
    host_spec(shipyard, tmp_path, script_request("err", bucket, source))

    result = run_runner(tmp_path)

    assert result.outcome == "Failed" and result.exit_code == 1
    assert result.failure_reason.startswith("AlgorithmError: ExecuteUserScriptError:\nExitCode 1\n")
    assert "ValueError: boom" in result.failure_reason and result.failure_reason.endswith("exit code: 1")


def test_missing_channel_data_is_a_client_error(shipyard: RunningServer, bucket: str, tmp_path: Path) -> None:
    uri = f"s3://{bucket}/nothing/here"
    channel = {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}
    host_spec(shipyard, tmp_path, command_request("missing", bucket, "true", InputDataConfig=[channel]), image=COMMAND)

    result = run_runner(tmp_path)

    assert result.outcome == "Failed" and result.exit_code is None
    assert result.failure_reason == (
        f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure that the bucket exists '
        f'in the selected region (us-east-1), that objects exist under that S3 prefix, and that the role "{ROLE}" has '
        f'"s3:ListBucket" permissions on bucket "{bucket}".'
    )
    assert statuses(tmp_path) == ["Starting", "Downloading", "Failed"]


def test_sigterm_stops_the_job_and_keeps_what_it_saved(shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import signal, sys, time
        from pathlib import Path

        def save(signum, frame):
            Path("/opt/ml/model/saved.txt").write_text("saved on SIGTERM")
            sys.exit(0)

        signal.signal(signal.SIGTERM, save)
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    source = upload_source(s3, bucket, "stop", {"train.py": script})
    host_spec(shipyard, tmp_path, script_request("stop", bucket, source), stop_grace_seconds=10)
    process = start_runner(tmp_path)
    try:
        deadline = time.monotonic() + 30
        while "ready" not in (output_log(tmp_path) if (tmp_path / "output.log").exists() else ""):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
    finally:
        result = finish(process, tmp_path)

    assert result.outcome == "Stopped"
    assert statuses(tmp_path)[-2:] == ["Stopping", "Stopped"]
    assert read_tar(s3, bucket, "output/stop/output/model.tar.gz") == {"saved.txt": b"saved on SIGTERM"}


def test_a_job_that_ignores_sigterm_is_killed_after_the_grace_period(
    shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path
) -> None:
    script = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ignoring SIGTERM', flush=True)\ntime.sleep(60)\n"
    source = upload_source(s3, bucket, "stubborn", {"train.py": script})
    host_spec(shipyard, tmp_path, script_request("stubborn", bucket, source), stop_grace_seconds=1)
    process = start_runner(tmp_path)
    try:
        deadline = time.monotonic() + 30
        while "ignoring SIGTERM" not in (output_log(tmp_path) if (tmp_path / "output.log").exists() else ""):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
    finally:
        result = finish(process, tmp_path)

    assert result.outcome == "Stopped"
    assert 1 <= time.monotonic() - stopped_at < 15
    assert statuses(tmp_path)[-2:] == ["Stopping", "Stopped"]


def test_local_image_runs_its_train_program(shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    image_dir = tmp_path / "image"
    image_dir.mkdir()
    (image_dir / "train").write_text('#!/bin/sh\necho "args: $*" > /opt/ml/model/args.txt\npwd >> /opt/ml/model/args.txt\n')
    (image_dir / "train").chmod(0o755)
    request = command_request("local", bucket, "unused")
    request["AlgorithmSpecification"] = {"TrainingImage": "my-image:latest", "TrainingInputMode": "File", "ContainerArguments": ["--fast"]}
    host_spec(shipyard, tmp_path / "host", request, image=Image(uri="my-image:latest", kind="local", path=str(image_dir)))

    result = run_runner(tmp_path / "host")

    assert result.outcome == "Completed", output_log(tmp_path / "host")
    assert read_tar(s3, bucket, "output/local/output/model.tar.gz") == {"args.txt": b"args: --fast\n/opt/ml\n"}


def test_container_entrypoint_runs_as_given(shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="drivers/sm_train.sh", Body=b'echo "$SM_CURRENT_HOST $1" > /opt/ml/model/driver.txt\n')
    channel = {"ChannelName": "sm_drivers", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/drivers"}}}
    request = command_request("entry", bucket, "unused", InputDataConfig=[channel])
    request["AlgorithmSpecification"] = {
        "TrainingImage": "pytorch-training:2.1",
        "TrainingInputMode": "File",
        "ContainerEntrypoint": ["/bin/bash"],
        "ContainerArguments": ["/opt/ml/input/data/sm_drivers/sm_train.sh", "v3"],
    }
    host_spec(shipyard, tmp_path, request)

    result = run_runner(tmp_path)

    assert result.outcome == "Completed", output_log(tmp_path)
    assert read_tar(s3, bucket, "output/entry/output/model.tar.gz") == {"driver.txt": b"algo-1 v3\n"}


def test_requirements_txt_gets_a_cached_virtualenv(shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    script = "import sys, boto3\nfrom pathlib import Path\nPath('/opt/ml/model/prefix.txt').write_text(sys.prefix)\n"
    source = upload_source(s3, bucket, "venv", {"train.py": script, "requirements.txt": "boto3\n"})
    cache = tmp_path / "venvs"
    for run in ("first", "second"):
        host_spec(shipyard, tmp_path / run, script_request(f"venv-{run}", bucket, source), venv_cache=str(cache))
        result = run_runner(tmp_path / run)
        assert result.outcome == "Completed", output_log(tmp_path / run)

    (venv,) = [path for path in cache.iterdir() if path.is_dir()]
    assert (venv / ".shipyard-ready").exists()
    assert read_tar(s3, bucket, "output/venv-second/output/model.tar.gz") == {"prefix.txt": str(venv).encode()}
    assert "Creating the virtualenv" in output_log(tmp_path / "first")
    assert "Reusing the virtualenv" in output_log(tmp_path / "second")


def test_processing_job_reads_inputs_and_uploads_outputs(shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="proc/input/data.csv", Body=b"a,b\n1,2\n3,4\n")
    script = textwrap.dedent(
        """
        import os
        from pathlib import Path
        rows = Path("/opt/ml/processing/input/data/data.csv").read_text().splitlines()[1:]
        total = sum(int(x) for row in rows for x in row.split(","))
        Path("/opt/ml/processing/output/sum.txt").write_text(f"{total} {os.environ['PROCESSING_JOB_NAME']}")
        """
    )
    s3.put_object(Bucket=bucket, Key="proc/code/script.py", Body=script.encode())
    request = {
        "ProcessingJobName": "proc",
        "AppSpecification": {"ImageUri": "sagemaker-scikit-learn:1.2-1", "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/script.py"]},
        "ProcessingInputs": [
            {"InputName": "data", "S3Input": {"S3Uri": f"s3://{bucket}/proc/input", "LocalPath": "/opt/ml/processing/input/data", "S3DataType": "S3Prefix", "S3InputMode": "File"}},
            {"InputName": "code", "S3Input": {"S3Uri": f"s3://{bucket}/proc/code/script.py", "LocalPath": "/opt/ml/processing/input/code", "S3DataType": "S3Prefix", "S3InputMode": "File"}},
        ],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "result", "S3Output": {"S3Uri": f"s3://{bucket}/proc/result", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
    }
    image = Image(uri="sagemaker-scikit-learn:1.2-1", kind="script", framework="sklearn")
    host_spec(shipyard, tmp_path, request, kind="processing", image=image)

    result = run_runner(tmp_path)

    assert result.outcome == "Completed", output_log(tmp_path)
    assert result.outputs == {"result": f"s3://{bucket}/proc/result"}
    assert s3.get_object(Bucket=bucket, Key="proc/result/sum.txt")["Body"].read() == b"10 proc"
    config = json.loads((tmp_path / "opt_ml/config/processingjobconfig.json").read_text())
    assert config["ProcessingJobName"] == "proc"


def test_two_jobs_at_once_each_see_their_own_opt_ml(shipyard: RunningServer, bucket: str, tmp_path: Path) -> None:
    shell = 'touch /opt/ml/model/$JOB_ID; sleep 0.5; ls /opt/ml/model > /opt/ml/output/data/listing.txt'
    runners = {}
    for job in ("one", "two"):
        host_spec(shipyard, tmp_path / job, command_request(f"both-{job}", bucket, shell, Environment={"JOB_ID": job}), image=COMMAND)
        runners[job] = start_runner(tmp_path / job)
    for job, process in runners.items():
        assert finish(process, tmp_path / job).outcome == "Completed"
        assert (tmp_path / job / "opt_ml/output/data/listing.txt").read_text().split() == [job]


def test_without_a_namespace_paths_point_into_the_host_dir(shipyard: RunningServer, bucket: str, tmp_path: Path) -> None:
    host_spec(shipyard, tmp_path, command_request("plain", bucket, 'echo "$SM_MODEL_DIR" > "$SM_MODEL_DIR/where.txt"; exit 2'), image=COMMAND)

    result = run_runner(tmp_path, env={"SHIPYARD_JOB_NAMESPACE": "0"})

    assert (tmp_path / "opt_ml/model/where.txt").read_text().strip() == str(tmp_path / "opt_ml/model")
    assert result.outcome == "Failed" and "exit code: 2" in result.failure_reason
    assert "/opt/ml is not available on this machine" in result.failure_reason
    assert "/opt/ml is not available on this machine" in output_log(tmp_path)


def test_missing_builtin_algorithm_is_a_client_error(shipyard: RunningServer, bucket: str, tmp_path: Path) -> None:
    host_spec(shipyard, tmp_path, command_request("builtin", bucket, "unused"), image=Image(uri="sagemaker-xgboost:1.7-1", kind="builtin", algorithm="nosuchalgo"))

    result = run_runner(tmp_path)

    assert result.failure_reason == "ClientError: the built-in algorithm nosuchalgo is not available in this Shipyard version"


def test_gpus_and_uncompressed_model_output(shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    gpus = Resources(instance_type="ml.g4dn.12xlarge", vcpus=48, cpu_ids=sorted(os.sched_getaffinity(0)), memory_mib=196608, gpu_ids=[1, 3])
    shell = "echo \"cuda=$CUDA_VISIBLE_DEVICES gpus=$SM_NUM_GPUS\"; echo weights > /opt/ml/model/weights.bin; mkdir -p /opt/ml/model/sub; echo x > /opt/ml/model/sub/x.txt"
    request = command_request("uncompressed", bucket, shell)
    request["OutputDataConfig"]["CompressionType"] = "NONE"
    host_spec(shipyard, tmp_path, request, image=COMMAND, resources=gpus)

    result = run_runner(tmp_path)

    assert result.outcome == "Completed", result.failure_reason
    assert "cuda=1,3 gpus=2" in output_log(tmp_path)
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="output/uncompressed/")["Contents"])
    assert keys == ["output/uncompressed/output/model/sub/x.txt", "output/uncompressed/output/model/weights.bin"]
    assert result.model_artifacts == f"s3://{bucket}/output/uncompressed/output/model/"


def test_what_a_job_pip_installs_stays_out_of_the_servers_python(
    shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        """
        import shutil, subprocess, sys
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-build-isolation", "./localpkg"])
        subprocess.check_call(["pip", "--version"])
        import shipyard_job_only
        print("imported", shipyard_job_only.VALUE, "with", shutil.which("pip3") is not None, flush=True)
        """
    )
    files = {
        "train.py": script,
        "localpkg/pyproject.toml": '[project]\nname = "shipyard-job-only"\nversion = "1.0"\n[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n',
        "localpkg/shipyard_job_only.py": "VALUE = 42\n",
    }
    source = upload_source(s3, bucket, "pipinstall", files)
    host_spec(shipyard, tmp_path, script_request("pipinstall", bucket, source))

    result = run_runner(tmp_path)

    assert result.outcome == "Completed", result.failure_reason + output_log(tmp_path)[-2000:]
    assert "imported 42 with True" in output_log(tmp_path)
    assert f"{tmp_path / 'venv'}" in output_log(tmp_path)  # pip --version names the job's venv
    server_python = subprocess.run([sys.executable, "-c", "import shipyard_job_only"], capture_output=True, check=False)
    assert server_python.returncode != 0


def test_sdk_v3_drivers_without_a_namespace_fail_with_a_clear_reason(
    shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="v3/sm_drivers/sm_train.sh", Body=b"echo driver\n")
    request = command_request("v3", bucket, "/opt/ml/input/data/sm_drivers/sm_train.sh")
    request["InputDataConfig"] = [
        {"ChannelName": "sm_drivers", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/v3/sm_drivers"}}}
    ]
    host_spec(shipyard, tmp_path, request, image=COMMAND)

    result = run_runner(tmp_path, env={"SHIPYARD_JOB_NAMESPACE": "0"})

    assert result.outcome == "Failed"
    assert result.failure_reason.startswith("ClientError: This job (the SageMaker Python SDK v3's ModelTrainer")
    assert "needs /opt/ml" in result.failure_reason


def test_without_a_cgroup_the_runner_caps_the_jobs_address_space(
    shipyard: RunningServer, s3: Any, bucket: str, tmp_path: Path
) -> None:
    source = upload_source(s3, bucket, "rlimit", {"train.py": "blocks = [b'x' * (64 << 20) for _ in range(32)]\n"})
    small = Resources(instance_type="ml.t3.medium", vcpus=2, cpu_ids=sorted(os.sched_getaffinity(0)), memory_mib=512)
    host_spec(shipyard, tmp_path, script_request("rlimit", bucket, source), resources=small)

    result = run_runner(tmp_path, env={"SHIPYARD_RLIMIT_AS": "1"})

    assert result.outcome == "Failed"
    assert "MemoryError" in result.failure_reason
