"""Script mode's code: ``sagemaker_submit_directory`` into ``/opt/ml/code``."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from shipyard.jobs.errors import ClientError
from shipyard.jobs.s3 import S3, S3Error, parse_uri


def fetch_source(s3: S3, location: str, code_dir: Path, scratch: Path) -> None:
    """Put the submit directory's files into ``code_dir``.

    ``location`` is an S3 URI of a ``tar.gz`` (what the SDKs upload), a ``file://`` URL or
    a local path, naming a ``tar.gz`` or a directory.
    """
    code_dir.mkdir(parents=True, exist_ok=True)
    if location.startswith("s3://"):
        archive = scratch / "sourcedir.tar.gz"
        try:
            s3.download(*parse_uri(location), archive)
        except S3Error as error:
            raise ClientError(f'Failed to download the submit directory "{location}": {error}') from None
        try:
            _extract(archive, code_dir, location)
        finally:
            archive.unlink(missing_ok=True)
        return
    path = Path(unquote(urlparse(location).path)) if location.startswith("file://") else Path(location)
    if path.is_dir():
        shutil.copytree(path, code_dir, dirs_exist_ok=True)
    elif path.is_file():
        _extract(path, code_dir, location)
    else:
        raise ClientError(f'The submit directory "{location}" does not exist.')


def _extract(archive: Path, code_dir: Path, location: str) -> None:
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(code_dir, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise ClientError(f'The submit directory "{location}" is not a valid tar.gz archive: {error}') from None
