"""A large object through boto3's managed transfers: byte-identical, in bounded server memory."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig

from shipyard.testing import RunningServer

MIB = 1024 * 1024
SIZE = 200 * MIB
#: How much the server's peak resident memory may grow while it moves the object.
RSS_BUDGET = 64 * MIB


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(4 * MIB):
            digest.update(block)
    return digest.hexdigest()


def test_200_mib_round_trip_in_bounded_memory(sqlite_server: RunningServer, tmp_file: Any, tmp_path: Path) -> None:
    s3 = sqlite_server.client("s3")
    bucket = f"large-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    # Warm up first with as many parts in flight as the measured transfer, so that the
    # measurement sees per-transfer buffers, not imports, caches and allocator arenas; the
    # warm-up's parts are small and the measured ones large, so a server that buffered
    # whole parts (or the whole object) would still grow well past the budget.
    small_parts = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=10)
    warm = tmp_file(10 * 5 * MIB, seed=1)
    s3.upload_file(str(warm), bucket, "warm", Config=small_parts)
    s3.download_file(bucket, "warm", str(tmp_path / "warm.out"), Config=small_parts)
    source = tmp_file(SIZE, seed=2)
    large_parts = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=32 * MIB, max_concurrency=10)
    peak_before = sqlite_server.peak_rss_bytes()

    s3.upload_file(str(source), bucket, "large/object.bin", Config=large_parts)
    target = tmp_path / "large.out"
    s3.download_file(bucket, "large/object.bin", str(target), Config=large_parts)

    growth = sqlite_server.peak_rss_bytes() - peak_before
    assert growth < RSS_BUDGET, f"server peak RSS grew by {growth / MIB:.1f} MiB"
    assert target.stat().st_size == SIZE
    assert sha256_of(target) == sha256_of(source)
    assert s3.head_object(Bucket=bucket, Key="large/object.bin")["ETag"].endswith('-7"')
