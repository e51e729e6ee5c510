"""The background loop of a reconciler (the job supervisor, the endpoint fleet)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("shipyard.reconcile")


class Ticker:
    """Runs ``tick`` in the background: at once when woken, else every ``busy_interval``
    seconds while ``busy()`` says there is work in flight, every ``idle_interval`` seconds
    otherwise. A tick that fails is logged, and the next one comes as usual."""

    def __init__(
        self,
        tick: Callable[[], Awaitable[None]],
        busy: Callable[[], bool],
        name: str,
        *,
        busy_interval: float = 0.1,
        idle_interval: float = 1.0,
    ) -> None:
        self._tick = tick
        self._busy = busy
        self._name = name
        self._intervals = (busy_interval, idle_interval)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        """Cancel the loop (a tick in progress is cut short) and wait until it has ended."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Tick now rather than at the next interval."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            busy, idle = self._intervals
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), busy if self._busy() else idle)
            self._wake.clear()
            try:
                await self._tick()
            except Exception:
                log.exception("%s: a tick failed", self._name)
