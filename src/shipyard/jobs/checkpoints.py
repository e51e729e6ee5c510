"""``CheckpointConfig``: restore before the job's code runs, sync to S3 during and after."""

from __future__ import annotations

import threading
from pathlib import Path

from shipyard.jobs.artifacts import files_under
from shipyard.jobs.joblog import JobLog
from shipyard.jobs.s3 import S3, S3Error, join_uri, parse_uri

SYNC_INTERVAL = 10.0


class Checkpoints:
    """Keeps ``local`` and the S3 prefix ``uri`` in step: new and changed files go up."""

    def __init__(self, s3: S3, log: JobLog, local: Path, uri: str) -> None:
        self._s3, self._log, self.local, self.uri = s3, log, local, uri
        self._seen: dict[Path, tuple[int, int]] = {}
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def restore(self) -> None:
        """Download what an earlier run saved under ``uri`` (nothing there is fine)."""
        bucket, prefix = parse_uri(join_uri(self.uri, ""))
        for key in self._s3.list_keys(bucket, prefix):
            target = self.local.joinpath(*Path(key[len(prefix) :]).parts)
            self._s3.download(bucket, key, target)
            self._seen[target] = _stamp(target)
        if self._seen:
            self._log.info(f"Restored {len(self._seen)} checkpoint files from {self.uri} to {self.local}")

    def start(self) -> None:
        """Sync every :data:`SYNC_INTERVAL` seconds until :meth:`finish`."""
        self._thread = threading.Thread(target=self._loop, daemon=True, name="checkpoints")
        self._thread.start()

    def finish(self) -> None:
        """Stop the periodic sync and upload what changed since the last one."""
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        self.sync()

    def _loop(self) -> None:
        while not self._done.wait(SYNC_INTERVAL):
            try:
                self.sync()
            except S3Error as error:
                self._log.info(f"Checkpoint upload to {self.uri} failed (will retry): {error}")

    def sync(self) -> int:
        """Upload new and changed files; returns how many went up."""
        with self._lock:
            changed = [path for path in files_under(self.local) if self._seen.get(path) != _stamp(path)]
            for path in changed:
                stamp = _stamp(path)
                self._s3.upload(path, *parse_uri(join_uri(self.uri, path.relative_to(self.local).as_posix())))
                self._seen[path] = stamp
            return len(changed)


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns
