"""A webhook receiver for tests: a tiny HTTP server on loopback that keeps every JSON body
POSTed to it (what alarm actions send)."""

from __future__ import annotations

import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Webhook:
    """Listens on a free loopback port from construction until :meth:`close`."""

    def __init__(self) -> None:
        received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.put(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        #: Where to POST.
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def next(self, timeout: float = 20) -> dict[str, Any]:
        """The next body received, waiting up to ``timeout`` seconds (``queue.Empty`` after)."""
        return self.received.get(timeout=timeout)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
