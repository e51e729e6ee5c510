"""Registered local images: the bring-your-own-container contract, served by the image's
``serve`` executable and reached through this worker.

``serve`` runs in the image's directory with ``SAGEMAKER_BIND_TO_PORT`` set to a free
port of 127.0.0.1 it must listen on, and the model directory in ``SM_MODEL_DIR`` /
``SAGEMAKER_MODEL_DIR`` (a worker holds one model directory per container, so it cannot
be ``/opt/ml/model`` for all of them). It dies with the worker; if it exits while the
worker serves, the worker exits too.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path

from shipyard.algorithms.errors import InferenceError
from shipyard.compute.network import free_port
from shipyard.jobs.isolation import child_setup
from shipyard.jobs.spec import Resources
from shipyard.serving.failures import LoadError
from shipyard.serving.invocation import DEFAULT_CONTENT_TYPE, Request, Response
from shipyard.serving.launch import NotReady, wait_ready
from shipyard.serving.spec import CUSTOM_ATTRIBUTES, INFERENCE_ID

SERVE = "serve"
#: How long ``serve`` has to answer ``/ping`` (SageMaker allows a container minutes).
START_TIMEOUT = 300.0
#: Seconds to wait for ``serve`` to end after SIGTERM before it is killed.
STOP_GRACE = 5.0
#: SageMaker's limit on one invocation's model time.
REQUEST_TIMEOUT = 60.0


class LocalImageContainer:
    """A local image's ``serve`` process, and requests proxied to it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self._process = process
        self._port = port
        self._closing = False

    @classmethod
    def start(
        cls, image_dir: Path, model_dir: Path, environment: Mapping[str, str], resources: Resources
    ) -> LocalImageContainer:
        """Start ``serve`` and wait for its ``/ping``."""
        serve = image_dir / SERVE
        if not os.access(serve, os.X_OK):
            raise LoadError(f"The local image {image_dir} has no executable {SERVE}.")
        port = free_port()
        env = {
            **os.environ,
            **environment,
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SM_MODEL_DIR": str(model_dir),
            "SAGEMAKER_MODEL_DIR": str(model_dir),
        }
        # Its output is the worker's (fd 1 and 2: output.log).
        process = subprocess.Popen(
            [str(serve)],
            cwd=image_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            preexec_fn=child_setup(resources),  # noqa: PLW1509 - loading runs before any thread starts
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}", START_TIMEOUT, process)
        except NotReady as error:
            process.kill()
            process.wait()
            raise LoadError(f"The local image's {SERVE} did not start: {error}.") from None
        container = cls(process, port)
        threading.Thread(target=container._watch, daemon=True, name="serve-watch").start()
        return container

    def invoke(self, request: Request) -> Response:
        headers = {"Content-Type": request.content_type}
        if request.accept:
            headers["Accept"] = request.accept
        if request.custom_attributes:
            headers[CUSTOM_ATTRIBUTES] = request.custom_attributes
        if request.inference_id:
            headers[INFERENCE_ID] = request.inference_id
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request("POST", "/invocations", body=request.body, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
        finally:
            connection.close()
        if answer.status >= 400:
            raise InferenceError(answer.status, body.decode("utf-8", "replace"))
        return Response(
            body, answer.getheader("Content-Type") or DEFAULT_CONTENT_TYPE, answer.getheader(CUSTOM_ATTRIBUTES) or ""
        )

    def close(self) -> None:
        self._closing = True
        self._process.terminate()
        try:
            self._process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _watch(self) -> None:
        code = self._process.wait()
        if not self._closing:
            print(f"[shipyard] The local image's {SERVE} exited with code {code}; the worker exits too.", flush=True)
            os._exit(1)
