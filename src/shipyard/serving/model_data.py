"""A container's model data (``ModelDataUrl``) from S3 into the instance's ``model/<n>/``.

A ``model.tar.gz`` is unpacked; an uncompressed prefix (``ModelDataSource`` with
``CompressionType: None``) is copied object by object, keeping the keys' folders.
"""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath

from shipyard.jobs.s3 import S3, S3Error, parse_uri
from shipyard.serving.failures import LoadError

ARCHIVE = "model.tar.gz"


def fetch_model_data(s3: S3, url: str, compressed: bool, model_dir: Path, scratch: Path) -> None:
    """Put the model data at ``url`` into ``model_dir`` (made if missing); ``scratch`` holds
    the archive while it is unpacked."""
    model_dir.mkdir(parents=True, exist_ok=True)
    bucket, key = parse_uri(url)
    try:
        if compressed:
            archive = scratch / ARCHIVE
            s3.download(bucket, key, archive)
            try:
                extract_archive(archive, model_dir, url)
            finally:
                archive.unlink(missing_ok=True)
            return
        prefix = key if not key or key.endswith("/") else key + "/"
        keys = s3.list_keys(bucket, prefix)
        if not keys:
            raise LoadError(f"Failed to download model data from {url}: no objects under that prefix.")
        for name in keys:
            s3.download(bucket, name, model_dir / _relative(name[len(prefix) :], url))
    except S3Error as error:
        raise LoadError(f"Failed to download model data from {url}: {error}") from None


def extract_archive(archive: Path, destination: Path, url: str) -> None:
    """Unpack a ``tar.gz`` into ``destination``; refuse members that would land outside it
    (absolute paths, ``..``, links out), devices and the like."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(destination, filter="data")
    except tarfile.FilterError as error:
        raise LoadError(f"The model data {url} has an unsafe member: {error}") from None
    except (tarfile.TarError, EOFError, OSError) as error:
        raise LoadError(f"The model data {url} is not a valid tar.gz archive: {error}") from None


def _relative(name: str, url: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts:
        raise LoadError(f"The model data {url} has an object that cannot be a file of the model: {name!r}")
    return path
