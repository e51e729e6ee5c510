"""Group commit: many concurrent writers share one transaction, each waits for its commit.

A caller appends its item to the queue and awaits a future. One flusher task at a time
takes everything queued (up to ``max_batch``), writes it with one call, and settles every
future of that batch with the outcome. While a batch is being written, newcomers queue
up for the next one, so under load each transaction carries many items and at rest each
item is written at once: no timer, no added latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Batches :meth:`submit` calls into calls of ``write(batch)``."""

    def __init__(
        self, write: Callable[[list[T]], Awaitable[None]], *, max_batch: int = 500
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        """Return once ``item`` is committed; raise what the write of its batch raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        # A caller that gives up (client gone) must not cancel the batch it belongs to.
        await asyncio.shield(future)

    async def _flush(self) -> None:
        try:
            while self._queue:
                batch, self._queue = (
                    self._queue[: self._max_batch],
                    self._queue[self._max_batch :],
                )
                try:
                    await self._write([item for item, _ in batch])
                except Exception as error:  # noqa: BLE001 - every waiter learns of any failure
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                else:
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._flusher = None
