"""Command lines as a user types them: the AWS CLI against a real server, and ``shipyard``.

The AWS CLI runs as a subprocess with the ``shipyard`` profile the server wrote
(``RunningServer.client_env()``). What the AWS CLI does does not depend on the metadata
backend, so those tests use the SQLite server only; restarts run on both backends.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard import __version__
from shipyard.testing import RunningServer, start_server
from shipyard.testing.postgres import temporary_database
from shipyard.testing.server import free_port

BIN = Path(sys.executable).parent
AWS = BIN / "aws"
SHIPYARD = BIN / "shipyard"
OTHER_REGION = "eu-west-1"



# -- helpers -----------------------------------------------------------------------------


def aws(
    server: RunningServer, *args: str | Path, check: bool = True, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``aws ARGS`` with the server's ``shipyard`` profile; by default it must succeed."""
    result = subprocess.run(
        [str(AWS), *map(str, args)], env=server.client_env(), input=stdin, capture_output=True, timeout=120, check=False
    )
    if check:
        assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result


def aws_json(server: RunningServer, *args: str | Path) -> Any:
    """``aws ARGS --output json``, parsed."""
    return json.loads(aws(server, *args, "--output", "json").stdout)


def shipyard(*args: str | Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the ``shipyard`` command with exactly ``env`` as its environment."""
    result = subprocess.run([str(SHIPYARD), *map(str, args)], env=env, capture_output=True, text=True, timeout=120, check=False)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The test's environment without AWS or Shipyard settings; AWS profile files in ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHIPYARD_"))}
    env.update(AWS_CONFIG_FILE=str(home / "config"), AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"), **extra)
    return env


def read_ini(path: Path) -> configparser.ConfigParser:
    """An AWS config or credentials file, parsed."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser


def mode_of(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


def tree_of(root: Path) -> dict[str, str]:
    """Every file under ``root`` as relative path → SHA-256 of its content."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def new_bucket(server: RunningServer) -> str:
    """A fresh bucket made with boto3 (setup, not the thing tested)."""
    name = f"cli-{uuid.uuid4().hex[:12]}"
    server.client("s3").create_bucket(Bucket=name)
    return name


def keys_in(server: RunningServer, bucket: str, prefix: str = "") -> list[str]:
    """The keys of ``bucket`` under ``prefix``, read with boto3."""
    pages = server.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


# -- the AWS CLI: high-level s3 commands ---------------------------------------------------


def test_s3_mb_ls_rb(sqlite_server: RunningServer) -> None:
    name = f"cli-mb-{uuid.uuid4().hex[:10]}"
    assert aws(sqlite_server, "s3", "mb", f"s3://{name}").stdout.decode().strip() == f"make_bucket: {name}"
    assert sqlite_server.client("s3").head_bucket(Bucket=name)["BucketRegion"] == "us-east-1"
    listed = aws(sqlite_server, "s3", "ls").stdout.decode().splitlines()
    assert any(line.split()[-1] == name for line in listed)

    assert aws(sqlite_server, "s3", "rb", f"s3://{name}").stdout.decode().strip() == f"remove_bucket: {name}"
    with pytest.raises(ClientError) as excinfo:
        sqlite_server.client("s3").head_bucket(Bucket=name)
    assert excinfo.value.response["Error"]["Code"] == "404"


def test_s3_mb_of_an_invalid_name_fails(sqlite_server: RunningServer) -> None:
    result = aws(sqlite_server, "s3", "mb", "s3://Invalid_Bucket", check=False)
    assert result.returncode != 0
    assert b"InvalidBucketName" in result.stderr


def test_s3_cp_up_and_down_is_byte_identical(sqlite_server: RunningServer, tmp_file: Any, tmp_path: Path) -> None:
    bucket = new_bucket(sqlite_server)
    source = tmp_file((1 << 20) + 7, seed=1)
    result = aws(sqlite_server, "s3", "cp", "--no-progress", source, f"s3://{bucket}/dir/data file.bin")
    reported = result.stdout.decode().strip()
    assert reported.startswith("upload: ") and reported.endswith(f"{source.name} to s3://{bucket}/dir/data file.bin")
    head = sqlite_server.client("s3").head_object(Bucket=bucket, Key="dir/data file.bin")
    assert head["ContentLength"] == (1 << 20) + 7

    target = tmp_path / "down" / "copy.bin"
    aws(sqlite_server, "s3", "cp", "--no-progress", f"s3://{bucket}/dir/data file.bin", target)
    assert target.read_bytes() == source.read_bytes()


def test_s3_cp_multipart_up_and_ranged_down(sqlite_server: RunningServer, tmp_file: Any, tmp_path: Path) -> None:
    """Past 8 MiB the CLI uploads in parts and downloads with ranged GETs."""
    bucket = new_bucket(sqlite_server)
    source = tmp_file(9 * (1 << 20) + 3, seed=2)
    aws(sqlite_server, "s3", "cp", "--no-progress", source, f"s3://{bucket}/big.bin")
    head = sqlite_server.client("s3").head_object(Bucket=bucket, Key="big.bin")
    assert head["ETag"].endswith('-2"')
    assert head["ContentLength"] == source.stat().st_size

    target = tmp_path / "big-copy.bin"
    aws(sqlite_server, "s3", "cp", "--no-progress", f"s3://{bucket}/big.bin", target)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()


def test_s3_cp_from_stdin_and_to_stdout(sqlite_server: RunningServer) -> None:
    bucket = new_bucket(sqlite_server)
    data = b"streamed through a pipe\n" * 500
    aws(sqlite_server, "s3", "cp", "--no-progress", "-", f"s3://{bucket}/piped.txt", stdin=data)
    assert aws(sqlite_server, "s3", "cp", "--no-progress", f"s3://{bucket}/piped.txt", "-").stdout == data


def test_s3_ls_recursive_and_by_prefix(sqlite_server: RunningServer) -> None:
    bucket = new_bucket(sqlite_server)
    s3 = sqlite_server.client("s3")
    objects = {"top.txt": b"1", "dir/a.txt": b"22", "dir/sub/b c.txt": b"333", "other/x+y.bin": b"4444"}
    for key, body in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)

    lines = aws(sqlite_server, "s3", "ls", f"s3://{bucket}", "--recursive").stdout.decode().splitlines()
    listed = {}
    for line in lines:
        match = re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +(\d+) (.+)", line)
        assert match, line
        listed[match.group(2)] = int(match.group(1))
    assert listed == {key: len(body) for key, body in objects.items()}

    top = aws(sqlite_server, "s3", "ls", f"s3://{bucket}/").stdout.decode().splitlines()
    assert sorted(line.split()[-1] for line in top) == ["dir/", "other/", "top.txt"]
    assert sum(line.split()[0] == "PRE" for line in top) == 2


def test_s3_rm_one_and_recursive(sqlite_server: RunningServer) -> None:
    bucket = new_bucket(sqlite_server)
    s3 = sqlite_server.client("s3")
    for key in ("keep.txt", "one.txt", "dir/a", "dir/b/c"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

    removed = aws(sqlite_server, "s3", "rm", f"s3://{bucket}/one.txt").stdout.decode().strip()
    assert removed == f"delete: s3://{bucket}/one.txt"
    assert sorted(keys_in(sqlite_server, bucket)) == ["dir/a", "dir/b/c", "keep.txt"]

    result = aws(sqlite_server, "s3", "rm", f"s3://{bucket}/dir/", "--recursive").stdout.decode()
    assert sorted(result.splitlines()) == [f"delete: s3://{bucket}/dir/a", f"delete: s3://{bucket}/dir/b/c"]
    assert keys_in(sqlite_server, bucket) == ["keep.txt"]


def test_s3_sync_a_tree_up_and_down(sqlite_server: RunningServer, tmp_path: Path) -> None:
    bucket = new_bucket(sqlite_server)
    source = tmp_path / "src"
    files = {
        "a.txt": b"alpha",
        "with space.txt": b"spaces",
        "sub/b.bin": bytes(range(256)) * 40,
        "sub/deep/c.json": b'{"c": 3}',
    }
    for relative, content in files.items():
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_bytes(content)

    uploaded = aws(sqlite_server, "s3", "sync", "--no-progress", source, f"s3://{bucket}/tree").stdout.decode()
    assert uploaded.count("upload: ") == len(files)
    assert sorted(keys_in(sqlite_server, bucket)) == sorted(f"tree/{relative}" for relative in files)

    # In sync already: the CLI compares sizes and times from the listing and sends nothing.
    sync_up = ("s3", "sync", "--no-progress", source, f"s3://{bucket}/tree")
    assert aws(sqlite_server, *sync_up).stdout.decode().strip() == ""

    (source / "sub/b.bin").write_bytes(b"changed and shorter")
    changed = aws(sqlite_server, *sync_up).stdout.decode().splitlines()
    assert [line.split(" to ")[-1] for line in changed] == [f"s3://{bucket}/tree/sub/b.bin"]

    target = tmp_path / "dst"
    aws(sqlite_server, "s3", "sync", "--no-progress", f"s3://{bucket}/tree", target)
    assert tree_of(target) == tree_of(source)


# -- the AWS CLI: s3api ------------------------------------------------------------------


def test_s3api_object_commands(sqlite_server: RunningServer, tmp_file: Any, tmp_path: Path) -> None:
    bucket = new_bucket(sqlite_server)
    source = tmp_file(123_457, seed=3)
    md5 = hashlib.md5(source.read_bytes()).hexdigest()

    put = aws_json(
        sqlite_server, "s3api", "put-object", "--bucket", bucket, "--key", "data/table.csv", "--body", source,
        "--content-type", "text/csv", "--metadata", "origin=cli,rows=42",
    )
    assert put["ETag"] == f'"{md5}"'

    head = aws_json(sqlite_server, "s3api", "head-object", "--bucket", bucket, "--key", "data/table.csv")
    assert head["ContentLength"] == 123_457
    assert head["ETag"] == put["ETag"]
    assert head["ContentType"] == "text/csv"
    assert head["Metadata"] == {"origin": "cli", "rows": "42"}

    target = tmp_path / "got.csv"
    got = aws_json(sqlite_server, "s3api", "get-object", "--bucket", bucket, "--key", "data/table.csv", target)
    assert got["ContentLength"] == 123_457
    assert got["ETag"] == put["ETag"]
    assert target.read_bytes() == source.read_bytes()

    listing = aws_json(sqlite_server, "s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "data/")
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listing["Contents"]] == [("data/table.csv", 123_457, put["ETag"])]
    

def test_s3api_errors_exit_non_zero_with_the_aws_code(sqlite_server: RunningServer, tmp_path: Path) -> None:
    bucket = new_bucket(sqlite_server)
    missing_key = aws(
        sqlite_server, "s3api", "get-object", "--bucket", bucket, "--key", "nope", tmp_path / "x", check=False
    )
    assert missing_key.returncode != 0
    assert b"(NoSuchKey)" in missing_key.stderr

    missing_bucket = aws(sqlite_server, "s3api", "get-bucket-location", "--bucket", f"{bucket}-gone", check=False)
    assert missing_bucket.returncode != 0
    assert b"(NoSuchBucket)" in missing_bucket.stderr

    head = aws(sqlite_server, "s3api", "head-object", "--bucket", bucket, "--key", "nope", check=False)
    assert head.returncode != 0
    assert b"(404)" in head.stderr


# -- the shipyard command ----------------------------------------------------------------


def test_shipyard_help_lists_the_commands(tmp_path: Path) -> None:
    result = shipyard("--help", env=clean_env(tmp_path))
    assert "Usage: shipyard" in result.stdout
    for command in ("up", "configure"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command
    assert shipyard("--version", env=clean_env(tmp_path)).stdout.strip().endswith(__version__)


SERVER_OPTIONS = [
    "--host", "--port", "--data-dir", "--database-url", "--region", "--base-domain", "--tls-cert", "--tls-key",
    "--log-level",
]
COMMAND_OPTIONS = {
    "up": [*SERVER_OPTIONS, "--profile", "--force"],
    "configure": [*SERVER_OPTIONS, "--profile", "--force", "--print", "--json"],
}


@pytest.mark.parametrize("command", COMMAND_OPTIONS)
def test_each_command_documents_its_options(tmp_path: Path, command: str) -> None:
    result = shipyard(command, "--help", env=clean_env(tmp_path))
    assert f"Usage: shipyard {command}" in result.stdout
    for option in COMMAND_OPTIONS[command]:
        assert re.search(rf"^\s+{re.escape(option)}\b", result.stdout, re.MULTILINE), option
    assert "SHIPYARD_PORT" in result.stdout and "SHIPYARD_DATA_DIR" in result.stdout


def test_configure_print_shows_endpoint_and_keys_without_writing(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    data_dir = tmp_path / "data"
    options = ("--data-dir", data_dir, "--port", "9123")
    printed = shipyard("configure", "--print", *options, env=env).stdout
    as_json = json.loads(shipyard("configure", "--print", "--json", *options, env=env).stdout)

    assert as_json["profile"] == "shipyard"
    assert as_json["endpoint_url"] == "http://127.0.0.1:9123"
    assert as_json["region"] == "us-east-1"
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", as_json["aws_access_key_id"])
    assert len(as_json["aws_secret_access_key"]) >= 40
    assert "[profile shipyard]" in printed
    for name in ("endpoint_url", "aws_access_key_id", "aws_secret_access_key"):
        assert f"{name} = {as_json[name]}" in printed
    # Printing writes no profile (and the same account is shown each time).
    assert not (tmp_path / "config").exists() and not (tmp_path / "credentials").exists()


def test_configure_print_shows_the_keys_the_running_server_accepts(
    sqlite_server: RunningServer, tmp_path: Path
) -> None:
    port = str(sqlite_server.endpoint_url.rsplit(":", 1)[1])
    printed = json.loads(
        shipyard(
            "configure", "--print", "--json", "--data-dir", sqlite_server.data_dir, "--port", port,
            env=clean_env(tmp_path),
        ).stdout
    )
    assert printed["endpoint_url"] == sqlite_server.endpoint_url
    assert (printed["aws_access_key_id"], printed["aws_secret_access_key"]) == sqlite_server.credentials


def test_first_start_writes_the_profile(sqlite_server: RunningServer) -> None:
    config = read_ini(sqlite_server.config_file)["profile shipyard"]
    assert config["endpoint_url"] == sqlite_server.endpoint_url
    assert config["region"] == "us-east-1"
    credentials = read_ini(sqlite_server.credentials_file)["shipyard"]
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", credentials["aws_access_key_id"])
    assert mode_of(sqlite_server.credentials_file) == 0o600
    # The profile is all the AWS CLI needs.
    assert aws(sqlite_server, "s3", "ls").returncode == 0


def test_https_profile_works_for_the_aws_cli(https_server: RunningServer) -> None:
    """The profile alone (endpoint and ca_bundle from --tls-ca) lets the AWS CLI trust the server."""
    config = read_ini(https_server.config_file)["profile shipyard"]
    assert config["ca_bundle"] == https_server.ca_bundle
    assert "AWS_CA_BUNDLE" not in https_server.client_env()
    assert config["endpoint_url"] == https_server.endpoint_url
    assert config["endpoint_url"].startswith("https://")
    name = f"cli-tls-{uuid.uuid4().hex[:8]}"
    aws(https_server, "s3", "mb", f"s3://{name}")
    aws(https_server, "s3", "cp", "--no-progress", "-", f"s3://{name}/x.txt", stdin=b"over tls")
    assert aws(https_server, "s3", "cp", "--no-progress", f"s3://{name}/x.txt", "-").stdout == b"over tls"


OLD_CONFIG = """[profile shipyard]
region = eu-west-3
endpoint_url = http://example.invalid:1

[profile other]
region = ap-south-1
"""
OLD_CREDENTIALS = """[shipyard]
aws_access_key_id = AKIAOLDOLDOLDOLDOLD0
aws_secret_access_key = old-secret

[other]
aws_access_key_id = AKIAOTHEROTHEROTHER0
aws_secret_access_key = other-secret
"""


def test_an_existing_profile_is_kept_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "config").write_text(OLD_CONFIG)
    (tmp_path / "credentials").write_text(OLD_CREDENTIALS)
    with start_server(tmp_path) as server:
        # A start leaves a profile of the same name alone...
        assert (tmp_path / "config").read_text() == OLD_CONFIG
        assert (tmp_path / "credentials").read_text() == OLD_CREDENTIALS
        env = clean_env(tmp_path)
        port = server.endpoint_url.rsplit(":", 1)[1]
        # ...and so does configure without --force, which says why.
        refused = shipyard("configure", "--data-dir", server.data_dir, "--port", port, env=env, check=False)
        assert refused.returncode == 1
        assert "--force" in refused.stderr
        assert (tmp_path / "config").read_text() == OLD_CONFIG

        shipyard("configure", "--force", "--data-dir", server.data_dir, "--port", port, env=env)
        config, credentials = read_ini(tmp_path / "config"), read_ini(tmp_path / "credentials")
        assert config["profile shipyard"]["endpoint_url"] == server.endpoint_url
        assert config["profile other"]["region"] == "ap-south-1"
        assert credentials["other"]["aws_access_key_id"] == "AKIAOTHEROTHEROTHER0"
        assert credentials["shipyard"]["aws_access_key_id"] != "AKIAOLDOLDOLDOLDOLD0"
        assert server.client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200

        # `shipyard up --force` replaces it on start.
        (tmp_path / "config").write_text(OLD_CONFIG)
        (tmp_path / "credentials").write_text(OLD_CREDENTIALS)
        server.args.append("--force")
        server.restart()
        assert read_ini(tmp_path / "config")["profile shipyard"]["endpoint_url"] == server.endpoint_url
        assert read_ini(tmp_path / "config")["profile other"]["region"] == "ap-south-1"
        assert aws(server, "s3", "ls").returncode == 0


def test_the_data_dir_is_owner_only(sqlite_server: RunningServer, tmp_path: Path) -> None:
    assert mode_of(sqlite_server.data_dir) == 0o700
    existing = tmp_path / "loose"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)
    shipyard("configure", "--print", "--data-dir", existing, env=clean_env(tmp_path))
    assert mode_of(existing) == 0o700


def test_environment_variables_configure_the_server(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "from-env" / "data"
    server = RunningServer(
        endpoint_url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        home=tmp_path,
        args=[str(SHIPYARD), "up"],
        env=clean_env(tmp_path, SHIPYARD_PORT=str(port), SHIPYARD_DATA_DIR=str(data_dir), SHIPYARD_LOG_LEVEL="warning"),
        log_path=tmp_path / "server.log",
    )
    server.start()  # waits for the health check on SHIPYARD_PORT
    try:
        assert mode_of(data_dir) == 0o700
        assert (data_dir / "shipyard.db").is_file()
        assert read_ini(server.config_file)["profile shipyard"]["endpoint_url"] == f"http://127.0.0.1:{port}"
        name = f"env-{uuid.uuid4().hex[:8]}"
        aws(server, "s3", "mb", f"s3://{name}")
        assert server.client("s3").head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        server.stop()


# -- restarts ----------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def restartable(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own, which the tests may stop, kill and start again."""
    workdir = tmp_path_factory.mktemp(f"restart-{request.param}")
    if request.param == "sqlite":
        with start_server(workdir) as running:
            yield running
    else:
        with temporary_database() as url, start_server(workdir, database_url=url) as running:
            yield running


def _snapshot(server: RunningServer, bucket: str) -> dict[str, Any]:
    """What a client sees of the account and ``bucket``: enough to notice anything lost."""
    s3 = server.client("s3")
    return {
        "owner": s3.list_buckets()["Owner"]["ID"],
        "buckets": [b["Name"] for b in s3.list_buckets(Prefix=bucket)["Buckets"]],
        "region": s3.get_bucket_location(Bucket=bucket)["LocationConstraint"],
        "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
        "tags": s3.get_bucket_tagging(Bucket=bucket)["TagSet"],
        "policy": s3.get_bucket_policy(Bucket=bucket)["Policy"],
        "objects": {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys_in(server, bucket)},
        "versions": [
            (v["Key"], v["VersionId"], v["Size"])
            for v in s3.list_object_versions(Bucket=bucket).get("Versions", [])
        ],
    }


@pytest.mark.parametrize("kill", [False, True], ids=["SIGTERM", "SIGKILL"])
def test_restart_keeps_everything_acknowledged(restartable: RunningServer, kill: bool) -> None:
    server = restartable
    s3 = server.client("s3", region=OTHER_REGION)
    bucket = f"restart-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": OTHER_REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Statement": [statement]}))
    s3.put_object(Bucket=bucket, Key="versioned", Body=b"first")
    s3.put_object(Bucket=bucket, Key="versioned", Body=b"second")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="in-progress")["UploadId"]
    part_one = s3.upload_part(Bucket=bucket, Key="in-progress", UploadId=upload, PartNumber=1, Body=b"p" * (5 << 20))
    burst_bucket = f"{bucket}-burst"
    s3.create_bucket(Bucket=burst_bucket, CreateBucketConfiguration={"LocationConstraint": OTHER_REGION})
    before = _snapshot(server, bucket)
    credentials = server.credentials
    credentials_text = server.credentials_file.read_text()
    # The last writes are acknowledged just before the process stops or dies.
    burst = {f"burst/{i:02d}": f"object {i}".encode() * 100 for i in range(20)}
    for key, body in burst.items():
        s3.put_object(Bucket=burst_bucket, Key=key, Body=body)

    server.restart(kill=kill)

    assert server.credentials == credentials
    assert server.credentials_file.read_text() == credentials_text
    assert _snapshot(server, bucket) == before
    # A client made before the restart still signs with valid keys, and finds every write.
    assert {key: s3.get_object(Bucket=burst_bucket, Key=key)["Body"].read() for key in burst} == burst
    assert keys_in(server, burst_bucket) == sorted(burst)
    # The multipart upload goes on where it was.
    part_two = s3.upload_part(Bucket=bucket, Key="in-progress", UploadId=upload, PartNumber=2, Body=b"q")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="in-progress", UploadId=upload,
        MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part_one["ETag"]}, {"PartNumber": 2, "ETag": part_two["ETag"]}]
        },
    )
    assert s3.get_object(Bucket=bucket, Key="in-progress")["Body"].read() == b"p" * (5 << 20) + b"q"

