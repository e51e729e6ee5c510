"""Which AWS service a request is for: by signature scope, then X-Amz-Target, then path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shipyard.aws.models import service_model
from shipyard.aws.wire import WireRequest
from shipyard.errors import AwsError


@dataclass(frozen=True)
class ServiceTable:
    """Lookup tables over the services this server serves, built once at start."""

    by_target_prefix: dict[str, str]
    by_signing_name: dict[str, list[str]]
    rest_services: frozenset[str]

    @classmethod
    def build(cls, names: Iterable[str]) -> ServiceTable:
        by_target: dict[str, str] = {}
        by_signing: dict[str, list[str]] = {}
        rest: set[str] = set()
        for name in names:
            model = service_model(name)
            if prefix := model.metadata.get("targetPrefix"):
                by_target[prefix] = name
            by_signing.setdefault(model.signing_name or model.endpoint_prefix, []).append(name)
            if model.protocol.startswith("rest"):
                rest.add(name)
        return cls(by_target, by_signing, frozenset(rest))

    def identify(self, request: WireRequest, signing_name: str | None) -> str:
        """The name of the service ``request`` is for (a botocore service name).

        The X-Amz-Target header names a JSON service exactly; otherwise the signing name
        from the credential scope narrows it down, and where one signing name covers both
        an RPC and a REST service (``sagemaker`` signs SageMaker and SageMaker Runtime) the
        request without a target is the REST one. Unsigned requests without a target are S3.
        """
        target = request.headers.get("x-amz-target")
        if target:
            prefix = target.rsplit(".", 1)[0]
            if prefix in self.by_target_prefix:
                return self.by_target_prefix[prefix]
            raise AwsError("UnknownOperationException", f"Unknown target {target!r}.", 400)
        if signing_name is None:
            return "s3"
        candidates = self.by_signing_name.get(signing_name, [])
        if len(candidates) > 1:
            candidates = [name for name in candidates if name in self.rest_services] or candidates
        if not candidates:
            raise AwsError(
                "InvalidAction",
                f"The service {signing_name!r} is not served by Shipyard.",
                400,
            )
        return candidates[0]


def virtual_host_bucket(host: str, base_domain: str) -> str | None:
    """The bucket a virtual-hosted-style Host names (``<bucket>.<base_domain>[:port]``)."""
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    suffix = "." + base_domain
    if base_domain and hostname.endswith(suffix) and len(hostname) > len(suffix):
        return hostname[: -len(suffix)]
    return None

