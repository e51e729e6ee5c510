"""The worker's HTTP side: SageMaker's serving contract as a raw ASGI app.

``GET /ping`` answers 200 (the app exists only once the model is loaded);
``POST /invocations`` runs the pipeline in a thread, so that ``/ping`` and other requests
are answered meanwhile. A request the model refuses (an
:class:`~shipyard.algorithms.errors.InferenceError`) is answered with its status and
message; any other exception of the model's code with 500 and its message (the traceback
goes to the log).
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from shipyard.algorithms.errors import InferenceError
from shipyard.serving.invocation import DEFAULT_CONTENT_TYPE, Request, Response
from shipyard.serving.pipeline import Pipeline
from shipyard.serving.spec import CUSTOM_ATTRIBUTES, INFERENCE_ID, TARGET_CONTAINER

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
TEXT = b"text/plain; charset=utf-8"


class ModelServer:
    """The ASGI app of one worker, over its loaded pipeline."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/invocations":
            if method == "POST":
                await self._invoke(scope, receive, send)
            else:
                await _answer(send, 405, b"Use POST /invocations.", TEXT)
        elif path == "/ping":
            await _answer(send, 200, b"", TEXT)
        else:
            await _answer(send, 404, b"Not found: the model server answers GET /ping and POST /invocations.", TEXT)

    async def _invoke(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        headers = {name: value for name, value in scope["headers"]}
        request = Request(
            body,
            _header(headers, b"content-type") or DEFAULT_CONTENT_TYPE,
            _header(headers, b"accept"),
            _header(headers, CUSTOM_ATTRIBUTES.encode()) or "",
            _header(headers, INFERENCE_ID.encode()) or "",
        )
        target = _header(headers, TARGET_CONTAINER.encode())
        try:
            response: Response = await asyncio.get_running_loop().run_in_executor(
                None, self._pipeline.invoke, request, target
            )
        except InferenceError as error:
            await _answer(send, error.status, str(error).encode(), TEXT)
            return
        except Exception as error:  # noqa: BLE001 - the model's own failure: answered as 500
            traceback.print_exc()
            await _answer(send, 500, (str(error) or type(error).__name__).encode(), TEXT)
            return
        extra = [(CUSTOM_ATTRIBUTES.encode(), response.custom_attributes.encode())] if response.custom_attributes else []
        await _answer(send, 200, response.body, response.content_type.encode(), extra)


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body"):
        return body
    parts = [body]
    while message.get("more_body"):
        message = await receive()
        parts.append(message.get("body", b""))
    return b"".join(parts)


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


async def _answer(
    send: Send, status: int, body: bytes, content_type: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
