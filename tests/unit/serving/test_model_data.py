"""Unpacking model.tar.gz: what lands in the model directory, and what is refused."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from shipyard.serving.failures import LoadError, read_failure, write_failure
from shipyard.serving.model_data import extract_archive


def archive(tmp_path: Path, *members: tarfile.TarInfo, data: bytes = b"weights") -> Path:
    path = tmp_path / "model.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            member.size = len(data) if member.isfile() else 0
            tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def test_a_model_archive_is_unpacked_with_its_folders(tmp_path: Path) -> None:
    destination = tmp_path / "model"
    destination.mkdir()
    extract_archive(archive(tmp_path, member("xgboost-model"), member("code/inference.py")), destination, "s3://b/m")
    assert (destination / "xgboost-model").read_bytes() == b"weights"
    assert (destination / "code" / "inference.py").read_bytes() == b"weights"


@pytest.mark.parametrize(
    "unsafe",
    [member("../outside"), member("link", tarfile.SYMTYPE, "/etc/passwd"), member("dev", tarfile.CHRTYPE)],
    ids=["dot-dot", "link-out", "device"],
)
def test_members_that_would_land_outside_are_refused(tmp_path: Path, unsafe: tarfile.TarInfo) -> None:
    destination = tmp_path / "model"
    destination.mkdir()
    with pytest.raises(LoadError, match="The model data s3://b/m has an unsafe member"):
        extract_archive(archive(tmp_path, unsafe), destination, "s3://b/m")
    assert not (tmp_path / "outside").exists()


def test_an_absolute_member_lands_inside_the_model_directory(tmp_path: Path) -> None:
    destination = tmp_path / "model"
    destination.mkdir()
    extract_archive(archive(tmp_path, member(f"{tmp_path}/absolute")), destination, "s3://b/m")
    assert not (tmp_path / "absolute").exists()
    assert (destination / str(tmp_path).lstrip("/") / "absolute").read_bytes() == b"weights"


def test_an_archive_that_is_not_a_tar_gz_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.tar.gz"
    path.write_bytes(b"not an archive")
    with pytest.raises(LoadError, match="The model data s3://b/m is not a valid tar.gz archive"):
        extract_archive(path, tmp_path, "s3://b/m")


def test_the_failure_file_holds_one_line_of_at_most_1024_characters(tmp_path: Path) -> None:
    assert read_failure(tmp_path) == ""
    write_failure(tmp_path, "first line\nsecond  line " + "x" * 2000)
    reason = read_failure(tmp_path)
    assert reason.startswith("first line second line x") and len(reason) == 1024
