"""Shipyard: a self-hosted machine-learning platform behind the real AWS wire APIs."""

__version__ = "0.1.0"
