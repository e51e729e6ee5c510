"""Clients that speak one chosen wire protocol of a service whose model lists several
(CloudWatch: smithy-rpc-v2-cbor, json 1.0, query), so a test can prove each is served."""

from __future__ import annotations

import copy
from typing import Any

import boto3
from botocore.config import Config

from shipyard.testing.server import RunningServer


def client_speaking(server: RunningServer, service: str, protocol: str) -> Any:
    """A boto3 client of ``service`` whose model lists only ``protocol``, so botocore
    serializes every request in it."""
    session = boto3.session.Session()
    loader = session._session.get_component("data_loader")
    load = loader.load_service_model

    def only(service_name: str, type_name: str, api_version: str | None = None) -> Any:
        model = load(service_name, type_name, api_version)
        if service_name == service and type_name == "service-2":
            model = copy.deepcopy(model)
            model["metadata"]["protocol"] = protocol
            model["metadata"]["protocols"] = [protocol]
        return model

    loader.load_service_model = only
    access_key, secret_key = server.credentials
    client = session.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    assert client.meta.service_model.resolved_protocol == protocol
    return client
