"""S3 as the runner uses it: boto3 with the job's credentials, imported only when needed."""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any, Protocol

CHUNK = 1 << 20
#: Files below this size go up in one PutObject (boto3's own multipart threshold is 8 MiB).
SINGLE_PUT_LIMIT = 8 << 20
#: Attempts of each S3 call (boto3's standard mode: connection errors and 5xx are retried).
RETRIES = 8


class S3Error(Exception):
    """An S3 call failed: ``code`` is S3's error code (``NoSuchBucket``, ``AccessDenied``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


def parse_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def join_uri(base: str, *parts: str) -> str:
    """``base`` and ``parts`` joined with single slashes."""
    return "/".join([base.rstrip("/"), *(part.strip("/") for part in parts)])


@functools.cache
def _session() -> Any:
    """One boto3 session per process: clients made from it share the loaded S3 model."""
    import boto3

    return boto3.session.Session()


def prewarm() -> None:
    """Import boto3 and load S3's model and endpoint rules now, so a job's first S3 call
    later pays none of that (a spare runner does this while it waits for a job)."""
    _session().client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="prewarm",
        aws_secret_access_key="prewarm",
    )


class S3Access(Protocol):
    """Where and as whom to reach S3: a job's HostSpec or an endpoint worker's WorkerSpec."""

    @property
    def endpoint_url(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def credentials(self) -> dict[str, str]: ...
    @property
    def ca_bundle(self) -> str: ...


class S3:
    """A lazily made boto3 S3 client for the job's endpoint, region and credentials."""

    def __init__(self, spec: S3Access) -> None:
        self._spec = spec
        self._client: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Import boto3 and make the client in the background, ahead of need."""
        threading.Thread(target=lambda: self.client, daemon=True, name="s3-warm-up").start()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> Any:
        from botocore.config import Config

        spec, credentials = self._spec, self._spec.credentials
        return _session().client(
            "s3",
            endpoint_url=spec.endpoint_url or None,
            region_name=spec.region,
            aws_access_key_id=credentials.get("AccessKeyId"),
            aws_secret_access_key=credentials.get("SecretAccessKey"),
            aws_session_token=credentials.get("SessionToken") or None,
            verify=spec.ca_bundle or None,
            # Enough attempts (backing off to 20 s apart) to outlast a restart of the server.
            config=Config(retries={"max_attempts": RETRIES, "mode": "standard"}, s3={"addressing_style": "path"}),
        )

    def _call(self, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(**params)
        except ClientError as error:
            details = error.response.get("Error", {})
            raise S3Error(str(details.get("Code", "Unknown")), str(details.get("Message", ""))) from error
        except BotoCoreError as error:
            raise S3Error(type(error).__name__, str(error)) from error

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """Every key under ``prefix`` (folder markers, keys ending in ``/``, left out)."""
        keys: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                params["ContinuationToken"] = token
            page = self._call("list_objects_v2", **params)
            keys += [item["Key"] for item in page.get("Contents", []) if not item["Key"].endswith("/")]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return keys

    def read(self, bucket: str, key: str) -> bytes:
        return self._call("get_object", Bucket=bucket, Key=key)["Body"].read()

    def download(self, bucket: str, key: str, destination: Path) -> None:
        """Stream one object into ``destination`` (its folders are made)."""
        body = self._call("get_object", Bucket=bucket, Key=key)["Body"]
        destination.parent.mkdir(parents=True, exist_ok=True)
        with destination.open("wb") as handle:
            for chunk in iter(lambda: body.read(CHUNK), b""):
                handle.write(chunk)

    def upload(self, source: Path, bucket: str, key: str) -> None:
        """Upload one file: one PutObject when small, else boto3's (multipart) transfer."""
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError

        if source.stat().st_size < SINGLE_PUT_LIMIT:
            # The transfer manager starts a thread pool on first use: a cost a small file never repays.
            with source.open("rb") as body:
                self._call("put_object", Bucket=bucket, Key=key, Body=body)
            return
        try:
            self.client.upload_file(str(source), bucket, key)
        except (S3UploadFailedError, BotoCoreError) as error:
            raise S3Error("UploadFailed", str(error)) from error
