"""Fixtures shared by the integration tests: real servers on loopback ports."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.testing import RunningServer, start_server
from shipyard.testing.postgres import temporary_database

#: The session servers' capacity: room for several endpoints beside the jobs of the tests
#: (the scheduler pins hosts to the real CPUs, shared when vCPUs outnumber them).
SESSION_CAPACITY = {"SHIPYARD_CPUS": "16", "SHIPYARD_MEMORY": "65536"}


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The session's server with SQLite metadata (the default backend)."""
    with start_server(tmp_path_factory.mktemp("server-sqlite"), extra_env=SESSION_CAPACITY) as running:
        yield running


@pytest.fixture(scope="session")
def postgresql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The session's server with PostgreSQL metadata."""
    workdir = tmp_path_factory.mktemp("server-postgresql")
    with temporary_database() as url, start_server(workdir, database_url=url, extra_env=SESSION_CAPACITY) as running:
        yield running


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest) -> RunningServer:
    """One Shipyard server per metadata backend, shared by the tests of a session."""
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    """A self-signed CA and a certificate for 127.0.0.1: (cert, key, ca) PEM paths."""
    import trustme

    directory = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    cert, key, ca = directory / "cert.pem", directory / "key.pem", directory / "ca.pem"
    certificate.private_key_and_cert_chain_pem.write_to_path(str(cert))
    certificate.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca))
    return str(cert), str(key), str(ca)


@pytest.fixture(scope="session")
def https_server(tls_files: tuple[str, str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server speaking HTTPS with a self-signed certificate (boto3 then uses aws-chunked)."""
    cert, key, ca = tls_files
    with start_server(tmp_path_factory.mktemp("server-https"), tls=(cert, key), ca_bundle=ca) as running:
        yield running


@pytest.fixture(params=["http", "https"])
def any_server(request: pytest.FixtureRequest) -> RunningServer:
    """The plain-HTTP (SQLite) server and the HTTPS one.

    Unparametrized fixtures only: ``getfixturevalue`` cannot pick a parameter of ``server``
    for a test that does not ask for ``server`` itself.
    """
    return request.getfixturevalue("sqlite_server" if request.param == "http" else "https_server")


@pytest.fixture
def s3(server: RunningServer):
    return server.client("s3")


@pytest.fixture
def bucket(s3) -> str:
    """A fresh, empty bucket."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def tmp_file(tmp_path: Path):
    def make(size: int, seed: int = 0) -> Path:
        import random

        path = tmp_path / f"data-{size}-{seed}.bin"
        rng = random.Random(seed)
        with path.open("wb") as handle:
            remaining = size
            while remaining:
                block = min(remaining, 1 << 20)
                handle.write(rng.randbytes(block))
                remaining -= block
        return path

    return make
