"""Assembles the ASGI application: internal routes, the AWS gateway, lifespan."""

from shipyard.server.app import create_app

__all__ = ["create_app"]
