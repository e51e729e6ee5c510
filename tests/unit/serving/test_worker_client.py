"""The data plane's HTTP/1.1 client against small asyncio servers standing in for workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from shipyard.serving.worker_client import (
    WorkerClient,
    WorkerTimeout,
    WorkerUnreachable,
)
from shipyard.testing.server import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client() -> AsyncIterator[WorkerClient]:
    client = WorkerClient()
    yield client
    await client.close()


async def serve(handler: Handler) -> tuple[asyncio.Server, str, list[int]]:
    """A server on a free port; the list counts the connections it accepted."""
    accepted: list[int] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}", accepted


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    line, *fields = head.split("\r\n")[:-2]
    headers = {name.lower(): value.strip() for name, value in (field.split(":", 1) for field in fields)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return line, headers, body


def answer(status: int, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"content-length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def echo_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            line, headers, body = await read_request(reader)
        except asyncio.IncompleteReadError:
            return
        writer.write(answer(200, body[::-1], f"content-type: {headers['content-type']}", f"x-line: {line}"))


@pytest.mark.anyio
async def test_posts_and_keeps_the_connection(client: WorkerClient) -> None:
    server, url, accepted = await serve(echo_forever)
    async with server:
        for n in range(3):
            response = await client.post(url, "/invocations", [("Content-Type", "text/csv")], f"abc{n}".encode(), timeout=5)
            assert response.status == 200
            assert response.body == f"{n}cba".encode()
            assert response.headers["content-type"] == "text/csv"
            assert response.headers["x-line"] == "POST /invocations HTTP/1.1"
        assert len(accepted) == 1


@pytest.mark.anyio
async def test_chunked_answers_and_error_statuses_are_read_whole(client: WorkerClient) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 500 Oops\r\ntransfer-encoding: chunked\r\n\r\n5\r\nboom!\r\n3\r\n 42\r\n0\r\n\r\n")
        await writer.drain()

    server, url, _ = await serve(chunked)
    async with server:
        response = await client.post(url, "/invocations", [], b"", timeout=5)
    assert (response.status, response.body) == (500, b"boom! 42")


@pytest.mark.anyio
async def test_a_kept_connection_the_worker_closed_is_replaced(client: WorkerClient) -> None:
    async def one_answer_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(200, b"ok"))
        await writer.drain()

    server, url, accepted = await serve(one_answer_then_close)
    async with server:
        assert (await client.post(url, "/invocations", [], b"1", timeout=5)).body == b"ok"
        await asyncio.sleep(0.05)  # the worker hangs up the kept connection
        assert (await client.post(url, "/invocations", [], b"2", timeout=5)).body == b"ok"
        assert len(accepted) == 2
        await asyncio.sleep(0.05)
        client.sweep()  # the second kept connection is closed by now: swept, not reused
        assert (await client.post(url, "/invocations", [], b"3", timeout=5)).body == b"ok"
        assert len(accepted) == 3


@pytest.mark.anyio
async def test_refused_connection_is_unreachable(client: WorkerClient) -> None:
    with pytest.raises(WorkerUnreachable, match="cannot connect"):
        await client.post(f"http://127.0.0.1:{free_port()}", "/invocations", [], b"x", timeout=5)


@pytest.mark.anyio
async def test_a_worker_that_hangs_up_mid_answer_is_unreachable(client: WorkerClient) -> None:
    async def half(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()

    server, url, _ = await serve(half)
    async with server:
        with pytest.raises(WorkerUnreachable, match="in the middle of its answer"):
            await client.post(url, "/invocations", [], b"x", timeout=5)


@pytest.mark.anyio
async def test_a_slow_worker_times_out(client: WorkerClient) -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    server, url, _ = await serve(slow)
    async with server:
        with pytest.raises(WorkerTimeout):
            await client.post(url, "/invocations", [], b"x", timeout=0.2)
