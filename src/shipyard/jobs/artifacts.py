"""What a job leaves behind, into S3: folders as ``tar.gz`` archives or file by file."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

from shipyard.jobs.errors import ClientError
from shipyard.jobs.s3 import S3, S3Error, join_uri, parse_uri


def files_under(folder: Path) -> list[Path]:
    """Every regular file below ``folder``, sorted (none when it is missing)."""
    if not folder.is_dir():
        return []
    found = []
    for root, _, names in os.walk(folder):
        found += [Path(root, name) for name in names if Path(root, name).is_file()]
    return sorted(found)


def pack(folder: Path, archive: Path) -> None:
    """``folder``'s contents as a gzipped tar, members relative to it (``model.pth``, not ``./``)."""
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        if folder.is_dir():
            for child in sorted(folder.iterdir()):
                tar.add(child, arcname=child.name)


def upload_archive(s3: S3, folder: Path, archive: Path, uri: str) -> str:
    """Pack ``folder`` into ``archive`` and upload it to ``uri``; returns ``uri``."""
    pack(folder, archive)
    try:
        s3.upload(archive, *parse_uri(uri))
    finally:
        archive.unlink(missing_ok=True)
    return uri


def upload_tree(s3: S3, folder: Path, uri: str) -> int:
    """Upload every file of ``folder`` to ``uri`` + its relative path; returns the count."""
    files = files_under(folder)
    for path in files:
        s3.upload(path, *parse_uri(join_uri(uri, path.relative_to(folder).as_posix())))
    return len(files)


def upload_failure(what: str, uri: str, error: S3Error, role_arn: str) -> ClientError:
    """The FailureReason when uploading ``what`` to ``uri`` failed."""
    return ClientError(f'Failed to upload {what} to "{uri}": {error}. Please ensure that the role "{role_arn}" has "s3:PutObject" permissions there.')
