"""The one ASGI application a Shipyard server runs.

Paths under ``/_shipyard/`` (and a browser's unauthenticated ``GET /``) are Shipyard's
own; everything else is an AWS API request for the gateway. Bucket names cannot contain
``_``, so ``/_...`` never collides with S3 path-style addressing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from shipyard import __version__
from shipyard.aws.gateway import Gateway
from shipyard.aws.routing import virtual_host_bucket
from shipyard.config import Settings
from shipyard.server.monitoring_run import PATH as MONITORING_RUN
from shipyard.server.monitoring_run import run_monitoring_schedule
from shipyard.server.runtime import open_runtime
from shipyard.services.registry import ROUTERS

_HOME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shipyard</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Shipyard {version}</h1>
<p>This server speaks the AWS APIs. Point boto3 or the AWS CLI at
<code>{endpoint}</code> (the <code>shipyard</code> profile does this) to use it.</p>
<p>Health: <a href="/_shipyard/health">/_shipyard/health</a></p>
</body></html>
"""


def create_app(settings: Settings) -> ASGIApp:
    """The Shipyard ASGI app for ``settings``; the runtime opens in its lifespan."""
    gateway: Gateway | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal gateway
        runtime = await open_runtime(settings)
        await runtime.supervisor.start()
        await runtime.fleet.start()
        await runtime.dataplane.start()
        runtime.tuner.start()
        runtime.alarms.start()
        runtime.monitor.start()
        runtime.retention.start()
        runtime.usage.start()
        gateway = Gateway(runtime, ROUTERS)
        try:
            yield
        finally:
            await runtime.close()

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok" if gateway else "starting", "version": __version__})

    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse(_HOME.format(version=__version__, endpoint=settings.endpoint_url))

    async def monitoring_run(request: Request) -> JSONResponse:
        if gateway is None:
            return JSONResponse({"__type": "ServiceUnavailable", "message": "The server is starting."}, status_code=503)
        return await run_monitoring_schedule(request.scope, request.receive, gateway)

    routes = [
        Route("/_shipyard/health", health),
        Route(MONITORING_RUN, monitoring_run, methods=["POST"]),
        Route("/", home),
    ]
    own = Starlette(routes=routes, lifespan=lifespan)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_own_route(scope, settings) or gateway is None:
            await own(scope, receive, send)
        else:
            await gateway(scope, receive, send)

    return app


def _is_own_route(scope: Scope, settings: Settings) -> bool:
    path: str = scope["path"]
    if path.startswith("/_shipyard/"):
        return True
    if path != "/" or scope["method"] != "GET":
        return False
    headers = dict(scope["headers"])
    query: bytes = scope.get("query_string", b"")
    signed = b"authorization" in headers or b"X-Amz-Credential" in query or b"AWSAccessKeyId" in query
    host = headers.get(b"host", b"").decode("latin-1")
    return not signed and virtual_host_bucket(host, settings.base_domain) is None
