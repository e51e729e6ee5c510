"""Serial and Direct inference over real script-mode containers built from small modules."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from shipyard.algorithms.errors import InferenceError
from shipyard.serving.invocation import Request
from shipyard.serving.pipeline import Pipeline
from shipyard.serving.scriptmode import ScriptContainer


def tagger(tag: str, model_dir: Path) -> ScriptContainer:
    """A container that answers ``<body>|<tag>(<content type>, <accept>)`` as ``text/<tag>``."""

    def transform_fn(model: Any, body: Any, content_type: str, accept: str) -> tuple[str, str]:
        text = body if isinstance(body, str) else body.decode()
        return f"{text}|{tag}({content_type}, {accept})", f"text/{tag}"

    made = ModuleType(tag)
    made.__file__ = f"{tag}.py"
    made.model_fn = lambda model_dir: None
    made.transform_fn = transform_fn
    return ScriptContainer(made, model_dir, "application/json")


@pytest.fixture
def containers(tmp_path: Path) -> list[ScriptContainer]:
    return [tagger("first", tmp_path), tagger("second", tmp_path)]


def test_serial_passes_each_answer_on_and_gives_the_accept_to_the_last_only(containers: list[ScriptContainer]) -> None:
    pipeline = Pipeline("Serial", containers, ["a", "b"])
    response = pipeline.invoke(Request(b"in", "text/csv", "text/final"))
    assert response.body == b"in|first(text/csv, application/json)|second(text/first, text/final)"
    assert response.content_type == "text/second"


def test_serial_refuses_a_target_container(containers: list[ScriptContainer]) -> None:
    with pytest.raises(InferenceError) as refused:
        Pipeline("Serial", containers, ["a", "b"]).invoke(Request(b"in", "text/csv"), "a")
    assert refused.value.status == 400 and "Direct" in str(refused.value)


def test_direct_sends_the_request_to_the_named_container_only(containers: list[ScriptContainer]) -> None:
    pipeline = Pipeline("Direct", containers, ["a", "b"])
    assert pipeline.invoke(Request(b"in", "text/csv", "x/y"), "b").body == b"in|second(text/csv, x/y)"
    assert pipeline.select("a") is containers[0]


@pytest.mark.parametrize(
    ("target", "message"),
    [(None, "name a container with TargetContainerHostname (one of: a, b)"), ("c", "No container named 'c'")],
    ids=["missing", "unknown"],
)
def test_direct_needs_a_known_target(containers: list[ScriptContainer], target: str | None, message: str) -> None:
    with pytest.raises(InferenceError) as refused:
        Pipeline("Direct", containers, ["a", "b"]).invoke(Request(b"in", "text/csv"), target)
    assert refused.value.status == 400 and message in str(refused.value)
