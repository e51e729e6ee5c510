"""The server's HTTP/1.1 client for endpoint workers: ``POST /invocations`` over kept-alive
loopback connections.

Each call is one small request to one known peer on 127.0.0.1, so a general HTTP client
is mostly overhead here: this one writes the request head itself, parses the answer with
``httptools`` (uvicorn's parser) and keeps idle connections per worker for the next call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

_READ_SIZE = 256 * 1024


class WorkerUnreachable(Exception):
    """The worker refused the connection, or closed it before answering in full."""


class WorkerTimeout(Exception):
    """The worker did not answer within the call's timeout."""


@dataclass
class WorkerResponse:
    """A worker's answer; header names are lower-case."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Answer:
    """One response, as httptools' callbacks deliver it."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.status = 0
        self.keep_alive = False
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        # The parser resets once the message is complete: read its state now.
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


class _StaleConnection(Exception):
    """A kept-alive connection the worker had closed: nothing of the request was answered."""


class WorkerClient:
    """Kept-alive connections to workers, by URL (``http://127.0.0.1:<port>``)."""

    def __init__(self, *, max_idle_per_worker: int = 64) -> None:
        self._idle: dict[str, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self._addresses: dict[str, tuple[str, int]] = {}
        self._max_idle = max_idle_per_worker
        self._closed = False

    async def post(
        self, url: str, path: str, headers: list[tuple[str, str]], body: bytes, *, timeout: float
    ) -> WorkerResponse:
        """POST ``body`` to ``url + path``; raises WorkerUnreachable or WorkerTimeout.

        A kept-alive connection the worker closed while it was idle (it answered nothing)
        is replaced by a new one, once.
        """
        address = self._address(url)
        head = _request_head(path, address, headers, len(body))
        try:
            async with asyncio.timeout(timeout):
                idle = self._idle.get(url)
                if idle:
                    try:
                        return await self._exchange(url, idle.pop(), head, body)
                    except _StaleConnection:
                        pass
                try:
                    connection = await asyncio.open_connection(*address)
                except OSError as error:
                    raise WorkerUnreachable(f"cannot connect to {url}: {error}") from error
                try:
                    return await self._exchange(url, connection, head, body)
                except _StaleConnection as error:
                    raise WorkerUnreachable(f"{url} closed the connection without answering") from error
        except TimeoutError as error:
            raise WorkerTimeout(f"{url} did not answer within {timeout:g} s") from error

    def sweep(self) -> None:
        """Close the idle connections whose worker hung up (it stopped, or was replaced)."""
        for url, connections in list(self._idle.items()):
            alive = []
            for reader, writer in connections:
                if reader.at_eof():
                    writer.close()
                else:
                    alive.append((reader, writer))
            if alive:
                self._idle[url] = alive
            else:
                del self._idle[url]

    async def close(self) -> None:
        """Close every idle connection; connections in use close when their call ends."""
        self._closed = True
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for _, writer in connections:
                writer.close()

    async def _exchange(
        self,
        url: str,
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        head: bytes,
        body: bytes,
    ) -> WorkerResponse:
        reader, writer = connection
        answer = _Answer()
        received = False
        try:
            writer.write(head)
            if body:
                writer.write(body)
            while not answer.complete:
                data = await reader.read(_READ_SIZE)
                if not data:
                    if received:
                        raise WorkerUnreachable(f"{url} closed the connection in the middle of its answer")
                    raise _StaleConnection(url)
                received = True
                answer.parser.feed_data(data)
        except (ConnectionError, httptools.HttpParserError) as error:
            writer.close()
            if not received and isinstance(error, ConnectionError):
                raise _StaleConnection(url) from error
            raise WorkerUnreachable(f"{url} broke the connection: {error}") from error
        except BaseException:
            writer.close()
            raise
        response = WorkerResponse(answer.status, answer.headers, b"".join(answer.chunks))
        idle = self._idle.setdefault(url, [])
        if answer.keep_alive and not self._closed and len(idle) < self._max_idle:
            idle.append(connection)
        else:
            writer.close()
        return response

    def _address(self, url: str) -> tuple[str, int]:
        address = self._addresses.get(url)
        if address is None:
            parts = urlsplit(url)
            address = self._addresses[url] = (parts.hostname or "127.0.0.1", parts.port or 80)
        return address


def _request_head(path: str, address: tuple[str, int], headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {address[0]}:{address[1]}", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
