"""Input data from S3 into the job's folders: SageMaker's ``S3DataSource`` in File mode."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from shipyard.jobs.errors import ClientError
from shipyard.jobs.s3 import S3, S3Error, parse_uri

PARALLEL_DOWNLOADS = 8


@dataclass(frozen=True)
class DataSource:
    """One S3 data source (a training channel's or a processing input's)."""

    uri: str
    data_type: str = "S3Prefix"
    distribution: str = "FullyReplicated"
    compression: str = "None"

    @classmethod
    def from_request(cls, source: dict[str, Any], compression: str) -> DataSource:
        """From an ``S3DataSource`` or ``S3Input`` of a request."""
        data_type = source.get("S3DataType", "S3Prefix")
        return cls(source["S3Uri"], data_type, source.get("S3DataDistributionType", "FullyReplicated"), compression)


@dataclass(frozen=True)
class Who:
    """Which host asks, and on whose behalf (for sharding and for error messages)."""

    host: str
    hosts: list[str]
    region: str
    role_arn: str


def fetch(s3: S3, source: DataSource, destination: Path, who: Who) -> int:
    """Download ``source`` into ``destination``; returns how many objects this host got."""
    items = list_objects(s3, source, who)
    destination.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(PARALLEL_DOWNLOADS) as pool:
        done = [pool.submit(_download, s3, item, destination, source, who) for item in items]
        for future in done:
            future.result()
    return len(items)


def list_objects(s3: S3, source: DataSource, who: Who) -> list[tuple[str, str, str]]:
    """The objects of ``source`` this host gets, in key order: (bucket, key, path relative
    to the source, where the object goes under a destination folder)."""
    if source.data_type == "AugmentedManifestFile":
        raise ClientError(f"AugmentedManifestFile input ({source.uri}) is not supported by Shipyard; use S3Prefix or ManifestFile.")
    if source.data_type not in ("S3Prefix", "ManifestFile"):
        raise ClientError(f"Unknown S3DataType {source.data_type!r} for {source.uri}.")
    try:
        bucket, prefix = parse_uri(source.uri)
    except ValueError:
        raise ClientError(f"Invalid S3 URI {source.uri!r} given in input data source.") from None
    items = _manifest_items(s3, source, who) if source.data_type == "ManifestFile" else _prefix_items(s3, bucket, prefix, source, who)
    items.sort()
    if source.distribution == "ShardedByS3Key":
        items = items[who.hosts.index(who.host) :: len(who.hosts)]
    return items


def _prefix_items(s3: S3, bucket: str, prefix: str, source: DataSource, who: Who) -> list[tuple[str, str, str]]:
    try:
        keys = s3.list_keys(bucket, prefix)
    except S3Error as error:
        if error.code != "NoSuchBucket":
            raise _s3_failure(error, source.uri, who) from None
        keys = []
    if not keys:
        raise ClientError(
            f'No S3 objects found under S3 URL "{source.uri}" given in input data source. Please ensure that the bucket '
            f"exists in the selected region ({who.region}), that objects exist under that S3 prefix, and that the role "
            f'"{who.role_arn}" has "s3:ListBucket" permissions on bucket "{bucket}".'
        )
    return [(bucket, key, _relative(prefix, key)) for key in keys]


def _relative(prefix: str, key: str) -> str:
    """Where ``key`` goes under the destination: its path below the prefix.

    A prefix naming one object keeps the object's name; a prefix that ends inside a name
    (``data/tr`` for ``data/train.csv``) keeps the path below the prefix's folder.
    """
    if key == prefix:
        return key.rsplit("/", 1)[-1]
    rest = key[len(prefix) :]
    if not prefix or prefix.endswith("/") or rest.startswith("/"):
        return rest.lstrip("/")
    folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    return key[len(folder) :]


def _manifest_items(s3: S3, source: DataSource, who: Who) -> list[tuple[str, str, str]]:
    bucket, key = parse_uri(source.uri)
    try:
        manifest = json.loads(s3.read(bucket, key))
        base = manifest[0]["prefix"]
        base_bucket, base_key = parse_uri(base)
        entries = [str(entry) for entry in manifest[1:]]
    except S3Error as error:
        raise _s3_failure(error, source.uri, who) from None
    except (ValueError, KeyError, IndexError, TypeError):
        raise ClientError(
            f'The manifest file "{source.uri}" is not valid: it must be a JSON array whose first element is '
            '{"prefix": "s3://bucket/prefix/"} and whose other elements are keys relative to that prefix.'
        ) from None
    if not entries:
        raise ClientError(f'The manifest file "{source.uri}" lists no S3 objects.')
    return [(base_bucket, base_key + entry, entry) for entry in entries]


def _download(s3: S3, item: tuple[str, str, str], destination: Path, source: DataSource, who: Who) -> None:
    bucket, key, relative = item
    parts = PurePosixPath(relative).parts
    if not parts or ".." in parts:
        raise ClientError(f'The S3 object "s3://{bucket}/{key}" cannot be written inside the input folder.')
    target = destination.joinpath(*parts)
    try:
        s3.download(bucket, key, target)
    except S3Error as error:
        raise _s3_failure(error, f"s3://{bucket}/{key}", who) from None
    if source.compression == "Gzip":
        _gunzip(target)


def _gunzip(path: Path) -> None:
    """Replace ``path`` by its decompressed content (dropping a ``.gz`` suffix)."""
    target = path.with_suffix("") if path.suffix == ".gz" else path
    unpacked = path.with_name(path.name + ".gunzip")
    with gzip.open(path, "rb") as packed, unpacked.open("wb") as plain:
        shutil.copyfileobj(packed, plain)
    os.replace(unpacked, target)
    if target != path:
        path.unlink()


def _s3_failure(error: S3Error, uri: str, who: Who) -> ClientError:
    if error.code in ("AccessDenied", "403", "Forbidden"):
        return ClientError(
            f'Data download failed: access denied to S3 URL "{uri}" given in input data source. Please ensure that the role '
            f'"{who.role_arn}" has "s3:GetObject" and "s3:ListBucket" permissions on it.'
        )
    return ClientError(f'Data download failed for S3 URL "{uri}": {error}')
