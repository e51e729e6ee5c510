"""Where one ``InvokeEndpoint`` goes: a production variant, then one of its instances.

Without ``TargetVariant`` a variant is drawn at random in proportion to the variants'
weights, among those with a healthy instance; a variant of weight 0 gets requests only
by name, as on SageMaker (the way to test a variant with no production traffic). Within
a variant, requests take its instances in turn (round robin), and a request whose
instance cannot be reached tries the next one.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from shipyard.serving.routes import EndpointRoute, InstanceRoute, VariantRoute


class UnknownVariant(LookupError):
    """``TargetVariant`` names no variant of the endpoint."""


class Balancer:
    """Chooses variants and instances; keeps only the round-robin positions between calls."""

    def __init__(self, uniform: Callable[[], float] = random.random) -> None:
        self._uniform = uniform
        self._turns: dict[tuple[str, str], int] = {}

    def variant(self, route: EndpointRoute, target: str | None = None) -> VariantRoute | None:
        """The variant for a request: ``target`` if given, else a weighted draw.

        None when no variant that takes traffic has a healthy instance (for ``target``:
        when it has none). Raises :class:`UnknownVariant` for a ``target`` the endpoint lacks.
        """
        if target is not None:
            for variant in route.variants:
                if variant.name == target:
                    return variant if variant.instances else None
            raise UnknownVariant(target)
        serving = [v for v in route.variants if v.instances and v.weight > 0]
        if not serving:
            return None
        total = sum(v.weight for v in serving)
        point = self._uniform() * total
        for variant in serving:
            point -= variant.weight
            if point < 0:
                return variant
        return serving[-1]  # float rounding left a sliver past the last weight

    def instances(self, route: EndpointRoute, variant: VariantRoute) -> list[InstanceRoute]:
        """The variant's instances in the order to try them: the next in turn first."""
        instances = variant.instances
        if len(instances) < 2:
            return list(instances)
        slot = (route.arn, variant.name)
        turn = self._turns.get(slot, 0)
        self._turns[slot] = turn + 1
        start = turn % len(instances)
        return [*instances[start:], *instances[:start]]
