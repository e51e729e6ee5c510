"""Logging: one structured line per request on ``shipyard.access``, the rest plain."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str) -> None:
    """Send Shipyard's and uvicorn's logs to stderr at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
