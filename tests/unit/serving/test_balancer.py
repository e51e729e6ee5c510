"""Choosing a variant (weights, TargetVariant) and an instance (round robin)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from shipyard.serving.balancer import Balancer, UnknownVariant
from shipyard.serving.routes import EndpointRoute, InstanceRoute, VariantRoute


def instances(variant: str, count: int) -> tuple[InstanceRoute, ...]:
    return tuple(
        InstanceRoute(f"i-{variant}{n}", f"http://127.0.0.1:{9000 + n}", f"{variant}/i-{variant}{n}") for n in range(count)
    )


def endpoint(*variants: VariantRoute) -> EndpointRoute:
    return EndpointRoute(name="ep", arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep", status="InService", variants=variants)


def test_weights_3_to_1_split_traffic_within_5_percent_over_1000_calls() -> None:
    route = endpoint(VariantRoute("a", 3.0, instances("a", 1)), VariantRoute("b", 1.0, instances("b", 1)))
    balancer = Balancer(random.Random(7).random)
    counts = Counter(balancer.variant(route).name for _ in range(1000))
    assert abs(counts["a"] / 1000 - 0.75) <= 0.05
    assert counts["a"] + counts["b"] == 1000


def test_draw_follows_the_cumulative_weights() -> None:
    route = endpoint(VariantRoute("a", 3.0, instances("a", 1)), VariantRoute("b", 1.0, instances("b", 1)))
    assert Balancer(lambda: 0.0).variant(route).name == "a"
    assert Balancer(lambda: 0.74).variant(route).name == "a"
    assert Balancer(lambda: 0.76).variant(route).name == "b"
    assert Balancer(lambda: 0.9999999).variant(route).name == "b"


def test_target_variant_forces_the_variant_even_of_weight_zero() -> None:
    route = endpoint(VariantRoute("a", 1.0, instances("a", 1)), VariantRoute("shadow", 0.0, instances("shadow", 1)))
    balancer = Balancer(random.Random(1).random)
    assert {balancer.variant(route).name for _ in range(200)} == {"a"}
    assert balancer.variant(route, "shadow").name == "shadow"


def test_unknown_target_variant_raises() -> None:
    route = endpoint(VariantRoute("a", 1.0, instances("a", 1)))
    with pytest.raises(UnknownVariant):
        Balancer().variant(route, "nope")


def test_variants_without_healthy_instances_get_no_traffic() -> None:
    route = endpoint(VariantRoute("down", 9.0, ()), VariantRoute("up", 1.0, instances("up", 1)))
    balancer = Balancer(random.Random(3).random)
    assert {balancer.variant(route).name for _ in range(100)} == {"up"}
    assert balancer.variant(route, "down") is None


def test_nothing_to_serve_is_none() -> None:
    assert Balancer().variant(endpoint(VariantRoute("a", 1.0, ()))) is None
    assert Balancer().variant(endpoint(VariantRoute("a", 0.0, instances("a", 2)))) is None


def test_instances_take_turns_per_variant() -> None:
    a, b = VariantRoute("a", 1.0, instances("a", 3)), VariantRoute("b", 1.0, instances("b", 2))
    route = endpoint(a, b)
    balancer = Balancer()
    firsts = [balancer.instances(route, a)[0].instance_id for _ in range(6)]
    assert firsts == ["i-a0", "i-a1", "i-a2", "i-a0", "i-a1", "i-a2"]
    assert [i.instance_id for i in balancer.instances(route, b)] == ["i-b0", "i-b1"]
    assert [i.instance_id for i in balancer.instances(route, b)] == ["i-b1", "i-b0"]
    # Every instance is offered once per call, the next in turn first.
    assert [i.instance_id for i in balancer.instances(route, a)] == ["i-a0", "i-a1", "i-a2"]


def test_single_instance_is_always_first() -> None:
    a = VariantRoute("a", 1.0, instances("a", 1))
    balancer = Balancer()
    assert [balancer.instances(endpoint(a), a)[0].instance_id for _ in range(3)] == ["i-a0"] * 3
