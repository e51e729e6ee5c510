"""Test helpers: a real Shipyard server on a free loopback port, and clients for it."""

from shipyard.testing.server import RunningServer, start_server

__all__ = ["RunningServer", "start_server"]
