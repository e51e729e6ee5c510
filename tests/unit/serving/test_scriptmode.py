"""The inference toolkit convention: default handlers, context, and what a script may define."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from shipyard.algorithms.errors import InferenceError
from shipyard.serving.failures import LoadError
from shipyard.serving.invocation import Request
from shipyard.serving.scriptmode import (
    ScriptContainer,
    default_input_fn,
    default_output_fn,
    default_predict_fn,
)


def module(**functions: Any) -> ModuleType:
    made = ModuleType("inference")
    made.__file__ = "inference.py"
    for name, function in functions.items():
        setattr(made, name, function)
    return made


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_default_input_fn_decodes_json_csv_and_npy() -> None:
    assert default_input_fn("[[1, 2], [3, 4]]", "application/json").tolist() == [[1, 2], [3, 4]]
    assert default_input_fn("1,2\n3,4\n", "text/csv; charset=utf-8").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert default_input_fn(b"1.5,2", "text/csv").tolist() == [1.5, 2.0]
    assert default_input_fn(npy(np.arange(3)), "application/x-npy").tolist() == [0, 1, 2]


def test_default_input_fn_refuses_other_types_with_415() -> None:
    with pytest.raises(InferenceError) as refused:
        default_input_fn(b"\x89PNG", "image/png")
    assert refused.value.status == 415 and "image/png" in str(refused.value)


def test_default_output_fn_encodes_json_csv_and_npy() -> None:
    prediction = np.array([[0.5, 1.0], [2.0, 3.0]])
    assert default_output_fn(prediction, "application/json") == (b"[[0.5, 1.0], [2.0, 3.0]]", "application/json")
    assert default_output_fn(prediction, "text/csv") == (b"0.5,1.0\n2.0,3.0\n", "text/csv")
    body, content_type = default_output_fn(prediction, "application/x-npy")
    assert content_type == "application/x-npy" and np.load(io.BytesIO(body)).tolist() == prediction.tolist()
    assert default_output_fn({"label": np.int64(3)}, "application/json")[0] == b'{"label": 3}'


def test_default_output_fn_refuses_other_types_with_406() -> None:
    with pytest.raises(InferenceError) as refused:
        default_output_fn([1], "application/xml")
    assert refused.value.status == 406


def test_default_predict_fn_uses_predict_or_calls_the_model() -> None:
    class WithPredict:
        def predict(self, data: Any) -> str:
            return f"predict {data}"

    assert default_predict_fn(1, WithPredict()) == "predict 1"
    assert default_predict_fn(2, lambda data: data * 10) == 20


def test_defaults_fill_what_the_script_leaves_out(tmp_path: Path) -> None:
    container = ScriptContainer(module(model_fn=lambda model_dir: (lambda data: data * 2)), tmp_path, "application/json")
    response = container.invoke(Request(b"[1, 2]", "application/json", None))
    assert (response.body, response.content_type) == (b"[2, 4]", "application/json")
    # */* is no preference: the default accept answers.
    response = container.invoke(Request(b"[1, 2]", "application/json", "*/*"))
    assert response.content_type == "application/json"


def test_handlers_get_the_context_when_they_take_one(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def model_fn(model_dir: str, context: Any) -> str:
        seen["model_dir"] = (model_dir, context.system_properties["model_dir"])
        return "model"

    def input_fn(body: str, content_type: str, context: Any) -> str:
        seen["header"] = context.get_request_header(0, "X-Amzn-SageMaker-Custom-Attributes")
        return body

    def output_fn(prediction: Any, accept: str, context: Any) -> tuple[str, str]:
        context.set_response_header(0, "X-Amzn-SageMaker-Custom-Attributes", "answered")
        return f"{prediction}!", "text/plain"

    container = ScriptContainer(
        module(model_fn=model_fn, input_fn=input_fn, predict_fn=lambda data, model: f"{model}:{data}", output_fn=output_fn),
        tmp_path,
        "application/json",
    )
    response = container.invoke(Request(b'"x"', "application/json", "text/plain", custom_attributes="asked"))
    assert (response.body, response.content_type, response.custom_attributes) == (b'model:"x"!', "text/plain", "answered")
    assert seen == {"model_dir": (str(tmp_path), str(tmp_path)), "header": "asked"}


def test_transform_fn_gets_the_raw_request_and_its_result_defaults_to_the_accept(tmp_path: Path) -> None:
    def transform_fn(model: str, body: bytes, content_type: str, accept: str) -> bytes:
        return json.dumps([model, body.hex(), content_type, accept]).encode()

    container = ScriptContainer(module(model_fn=lambda model_dir: "m", transform_fn=transform_fn), tmp_path, "text/csv")
    response = container.invoke(Request(b"\x01", "application/octet-stream", None))
    assert json.loads(response.body) == ["m", "01", "application/octet-stream", "text/csv"]
    assert response.content_type == "text/csv"


@pytest.mark.parametrize(
    ("functions", "message"),
    [
        ({"predict_fn": lambda data, model: data}, "does not define model_fn"),
        (
            {"model_fn": lambda model_dir: 1, "transform_fn": lambda m, b, c, a: b, "input_fn": lambda b, c: b},
            "use either transform_fn or the other three",
        ),
        ({"model_fn": lambda: 1}, r"model_fn takes 0 arguments; it must take 1 \(or 2 with context\)"),
    ],
    ids=["no-model-fn", "transform-and-steps", "bad-arity"],
)
def test_scripts_that_break_the_convention_cannot_load(
    tmp_path: Path, functions: dict[str, Any], message: str
) -> None:
    with pytest.raises(LoadError, match=message):
        ScriptContainer(module(**functions), tmp_path, "application/json")


def test_a_missing_program_cannot_load(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=f"The inference script serve.py is not in {tmp_path}"):
        ScriptContainer.load(tmp_path / "serve.py", tmp_path, {})


def test_load_imports_the_program_with_its_folder_on_the_path(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "helper_for_scriptmode_test.py").write_text("FACTOR = 3\n")
    (code / "entry_for_scriptmode_test.py").write_text(
        "from helper_for_scriptmode_test import FACTOR\n"
        "def model_fn(model_dir):\n    return FACTOR\n"
        "def predict_fn(data, model):\n    return data * model\n"
    )
    container = ScriptContainer.load(code / "entry_for_scriptmode_test.py", tmp_path, {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"})
    response = container.invoke(Request(b"1,2", "text/csv", None))
    assert (response.body, response.content_type) == (b"3.0\n6.0\n", "text/csv")
