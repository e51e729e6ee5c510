"""What a job can run: local images (bring your own container), entrypoints, several hosts,
checkpoints; and `shipyard logs`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import textwrap

import pytest

from shipyard.testing import RunningServer
from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import (
    PYTORCH_IMAGE,
    log_messages,
    sagemaker_role,
    start_script_job,
    training_request,
    wait_for_job,
)


@pytest.fixture(scope="module")
def role(server: RunningServer) -> str:
    return sagemaker_role(server)


@pytest.fixture(scope="module")
def local(sqlite_server: RunningServer) -> tuple[RunningServer, str, str]:
    """For tests run once, on the SQLite server: it, a bucket and a role there."""
    bucket = unique_name("once")
    sqlite_server.client("s3").create_bucket(Bucket=bucket)
    return sqlite_server, bucket, sagemaker_role(sqlite_server)


def _shipyard(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args], env=server.client_env(), capture_output=True, text=True, timeout=60, check=False
    )


def test_a_registered_local_image_runs_its_train_executable(tmp_path, local):
    server, bucket, role = local
    image = tmp_path / "my-algorithm"
    image.mkdir()
    train = image / "train"
    train.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            echo "byoc: args=[$*] channels=$(ls /opt/ml/input/config)"
            cp /opt/ml/input/config/hyperparameters.json /opt/ml/model/hps.json
            """
        )
    )
    train.chmod(0o755)
    name = unique_name("my-algo")
    added = _shipyard(server, "images", "add", name, str(image), "--data-dir", str(server.data_dir))
    assert added.returncode == 0, added.stderr
    listed = _shipyard(server, "images", "list", "--json", "--data-dir", str(server.data_dir))
    assert name in listed.stdout and str(image) in listed.stdout

    sagemaker = server.client("sagemaker")
    job_name = unique_name("byoc")
    sagemaker.create_training_job(
        **training_request(job_name, role, f"s3://{bucket}/out", image=f"{name}:latest", hyperparameters={"depth": "3"})
    )
    job = wait_for_job(sagemaker, job_name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert "byoc: args=[] channels=hyperparameters.json inputdataconfig.json resourceconfig.json" in " ".join(
        log_messages(server, job_name)
    )
    key = job["ModelArtifacts"]["S3ModelArtifacts"].removeprefix(f"s3://{bucket}/")
    body = server.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        assert json.loads(archive.extractfile("hps.json").read()) == {"depth": "3"}

    removed = _shipyard(server, "images", "remove", name, "--data-dir", str(server.data_dir))
    assert removed.returncode == 0, removed.stderr
    assert _shipyard(server, "images", "remove", name, "--data-dir", str(server.data_dir)).returncode == 1


def test_container_entrypoint_runs_as_given(server, bucket, role):
    sagemaker = server.client("sagemaker")
    name = unique_name("entry")
    sagemaker.create_training_job(
        **training_request(
            name,
            role,
            f"s3://{bucket}/out",
            AlgorithmSpecification={
                "TrainingImage": "public.ecr.aws/docker/library/python:3.11",
                "TrainingInputMode": "File",
                "ContainerEntrypoint": ["/bin/sh", "-c"],
                "ContainerArguments": ["echo entry $SM_CURRENT_HOST > /opt/ml/model/entry.txt; echo ran-entrypoint"],
            },
        )
    )
    job = wait_for_job(sagemaker, name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert "ran-entrypoint" in log_messages(server, name)


DISTRIBUTED = """
    import json, os
    import torch
    import torch.distributed as dist
    hosts = json.loads(os.environ["SM_HOSTS"])
    rank = hosts.index(os.environ["SM_CURRENT_HOST"])
    dist.init_process_group(
        "gloo", init_method=f"tcp://{hosts[0]}:{os.environ['MASTER_PORT']}", rank=rank, world_size=len(hosts)
    )
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    generator = torch.Generator().manual_seed(rank)
    for step in range(5):
        x = torch.randn(16, 4, generator=generator)
        loss = ((model(x) - x.sum(dim=1, keepdim=True)) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    weights = [round(value, 6) for value in model.module.weight.detach().flatten().tolist()]
    total = torch.tensor([float(rank + 1)])
    dist.all_reduce(total)
    print(f"rank={rank} world={dist.get_world_size()} sum={total.item()} weights={weights}", flush=True)
    if rank == 0:
        torch.save(model.module.state_dict(), os.path.join(os.environ["SM_MODEL_DIR"], "model.pt"))
    dist.destroy_process_group()
"""


def test_two_instances_train_with_torch_distributed(local):
    server, bucket, role = local
    name = start_script_job(server, bucket, role, DISTRIBUTED, prefix="ddp", image=PYTORCH_IMAGE, instance_count=2)
    job = wait_for_job(server.client("sagemaker"), name, timeout=180)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["BillableTimeInSeconds"] == 2 * job["TrainingTimeInSeconds"]
    lines = [line for line in log_messages(server, name) if line.startswith("rank=")]
    assert sorted(line.split()[0] for line in lines) == ["rank=0", "rank=1"]
    assert all("world=2 sum=3.0" in line for line in lines)
    weights = {line.split("weights=")[1] for line in lines}
    assert len(weights) == 1  # gradients were averaged: both hosts hold the same model
    streams = server.client("logs").describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/"
    )["logStreams"]
    assert sorted(stream["logStreamName"].rsplit("-", 1)[0] for stream in streams) == [f"{name}/algo-1", f"{name}/algo-2"]


CHECKPOINTED = """
    import os
    directory = "/opt/ml/checkpoints"
    previous = sorted(os.listdir(directory))
    print("restored", previous, flush=True)
    step = len(previous)
    open(os.path.join(directory, f"step-{step}.ckpt"), "w").write(str(step))
"""


def test_checkpoints_are_restored_by_the_next_job(server, s3, bucket, role):
    sagemaker = server.client("sagemaker")
    names = []
    for _ in range(2):
        checkpoints = {"S3Uri": f"s3://{bucket}/checkpoints/run"}
        names.append(start_script_job(server, bucket, role, CHECKPOINTED, prefix="ckpt", CheckpointConfig=checkpoints))
        assert wait_for_job(sagemaker, names[-1])["TrainingJobStatus"] == "Completed"
    assert "restored []" in log_messages(server, names[0])
    assert "restored ['step-0.ckpt']" in log_messages(server, names[1])
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="checkpoints/run/")["Contents"]]
    assert keys == ["checkpoints/run/step-0.ckpt", "checkpoints/run/step-1.ckpt"]


def test_shipyard_logs_prints_and_follows_a_job(local):
    server, bucket, role = local
    script = "import time\nfor i in range(3):\n    print(f'line {i}', flush=True)\n    time.sleep(0.3)\n"
    name = start_script_job(server, bucket, role, script, prefix="follow")
    followed = _shipyard(server, "logs", name, "--follow")
    assert followed.returncode == 0, followed.stderr
    assert [line for line in followed.stdout.splitlines() if line.startswith("line ")] == ["line 0", "line 1", "line 2"]
    as_json = _shipyard(server, "logs", name, "--json")
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [record["message"] for record in records if record["message"].startswith("line ")] == ["line 0", "line 1", "line 2"]
    assert {record["host"] for record in records} == {"algo-1"} and all(record["timestamp"] > 0 for record in records)
    missing = _shipyard(server, "logs", "no-such-job")
    assert missing.returncode == 1 and "no-such-job" in missing.stderr
