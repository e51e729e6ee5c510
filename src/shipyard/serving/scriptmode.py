"""Framework images in script mode: the SageMaker inference toolkit's ``inference.py`` convention.

The script may define ``model_fn(model_dir)``, and either ``input_fn(body, content_type)``,
``predict_fn(data, model)``, ``output_fn(prediction, accept)`` or one
``transform_fn(model, body, content_type, accept)``; each may take one more argument, the
request's :class:`Context`. What it leaves out has the toolkit's default: ``input_fn``
decodes JSON, CSV and NPY into numpy, ``predict_fn`` calls ``model.predict`` (or the model),
``output_fn`` encodes as JSON, CSV or NPY. A JSON or CSV body reaches ``input_fn`` as text.
Without ``Accept`` (or with ``*/*``) the answer is in ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``,
JSON by default. As in the scikit-learn container, ``model_fn`` has no default.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from shipyard.algorithms.content_types import ANY, CSV, JSON, mime
from shipyard.algorithms.errors import UnsupportedAccept, UnsupportedContentType
from shipyard.serving.failures import LoadError
from shipyard.serving.invocation import Request, Response
from shipyard.serving.spec import CUSTOM_ATTRIBUTES, INFERENCE_ID

NPY = "application/x-npy"
#: Content types whose bodies ``input_fn`` gets as text.
TEXT_TYPES = (JSON, CSV)
DEFAULT_ACCEPT_VARIABLE = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
DEFAULT_PROGRAM = "inference.py"


class Context:
    """What the toolkit hands handlers as ``context``: the request's headers, the model
    directory, and the response headers the code sets (only the custom attributes are
    answered)."""

    def __init__(self, model_dir: Path, request: Request | None = None) -> None:
        self.system_properties = {"model_dir": str(model_dir)}
        self.request_headers = (
            {}
            if request is None
            else {
                "content-type": request.content_type,
                "accept": request.accept or "",
                CUSTOM_ATTRIBUTES: request.custom_attributes,
                INFERENCE_ID: request.inference_id,
            }
        )
        self.response_headers: dict[str, str] = {}

    @property
    def custom_attributes(self) -> str:
        """``X-Amzn-SageMaker-Custom-Attributes`` of the request."""
        return self.request_headers.get(CUSTOM_ATTRIBUTES, "")

    def get_request_header(self, index: int, name: str) -> str | None:
        """A request header by name (any case); ``index`` is the batch index, always 0."""
        return self.request_headers.get(name.lower()) or None

    def set_response_header(self, index: int, name: str, value: str) -> None:
        self.response_headers[name.lower()] = value


def default_input_fn(body: str | bytes, content_type: str) -> np.ndarray:
    """JSON, CSV or NPY as a numpy array."""
    kind = mime(content_type)
    if kind == JSON:
        return np.array(json.loads(body))
    if kind == CSV:
        return np.genfromtxt(io.StringIO(_text(body)), delimiter=",")
    if kind == NPY:
        return np.load(io.BytesIO(_bytes(body)), allow_pickle=True)
    raise UnsupportedContentType(content_type, (JSON, CSV, NPY))


def default_predict_fn(data: Any, model: Any) -> Any:
    """``model.predict(data)``, or ``model(data)`` for a model without ``predict``."""
    return model.predict(data) if hasattr(model, "predict") else model(data)


def default_output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
    """The prediction as JSON, CSV or NPY, and that content type."""
    kind = mime(accept)
    if kind == JSON:
        return json.dumps(prediction, default=_tolist).encode(), accept
    if kind == CSV:
        stream = io.StringIO()
        np.savetxt(stream, np.asarray(prediction), delimiter=",", fmt="%s")
        return stream.getvalue().encode(), accept
    if kind == NPY:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(prediction))
        return buffer.getvalue(), accept
    raise UnsupportedAccept(accept, (JSON, CSV, NPY))


class ScriptContainer:
    """A framework container whose model is loaded and served by an ``inference.py``."""

    def __init__(self, module: ModuleType, model_dir: Path, default_accept: str) -> None:
        self._model_dir = model_dir
        self._default_accept = default_accept
        transform = getattr(module, "transform_fn", None)
        steps = [getattr(module, name, None) for name in ("input_fn", "predict_fn", "output_fn")]
        if transform is not None and any(steps):
            raise LoadError(
                f"{module.__file__} defines transform_fn and input_fn, predict_fn or output_fn: "
                "use either transform_fn or the other three."
            )
        model_fn = getattr(module, "model_fn", None)
        if model_fn is None:
            raise LoadError(f"{module.__file__} does not define model_fn(model_dir): it is needed to load the model.")
        self._model = _handler(model_fn, "model_fn", 1)(str(model_dir), context=Context(model_dir))
        if transform is not None:
            self._transform = _handler(transform, "transform_fn", 4)
        else:
            input_fn, predict_fn, output_fn = steps
            self._input = _handler(input_fn or default_input_fn, "input_fn", 2)
            self._predict = _handler(predict_fn or default_predict_fn, "predict_fn", 2)
            self._output = _handler(output_fn or default_output_fn, "output_fn", 2)
            self._transform = self._steps

    @classmethod
    def load(cls, program: Path, model_dir: Path, environment: Mapping[str, str]) -> ScriptContainer:
        """Import ``program`` (its folder first on ``sys.path``) and load the model with it."""
        if not program.is_file():
            raise LoadError(f"The inference script {program.name} is not in {program.parent}.")
        sys.path.insert(0, str(program.parent))
        spec = importlib.util.spec_from_file_location(program.stem, program)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[program.stem] = module
        spec.loader.exec_module(module)
        return cls(module, model_dir, environment.get(DEFAULT_ACCEPT_VARIABLE) or JSON)

    def invoke(self, request: Request) -> Response:
        context = Context(self._model_dir, request)
        accept = request.accept if request.accept and mime(request.accept) != ANY else self._default_accept
        body: str | bytes = request.body
        if mime(request.content_type) in TEXT_TYPES:
            body = request.body.decode()
        result = self._transform(self._model, body, request.content_type, accept, context=context)
        answer, content_type = result if isinstance(result, tuple) else (result, accept)
        return Response(_bytes(answer), content_type, context.response_headers.get(CUSTOM_ATTRIBUTES, ""))

    def _steps(self, model: Any, body: str | bytes, content_type: str, accept: str, context: Context) -> Any:
        data = self._input(body, content_type, context=context)
        prediction = self._predict(data, model, context=context)
        return self._output(prediction, accept, context=context)

    def close(self) -> None:
        pass


def default_program(environment: Mapping[str, str]) -> str:
    """The script's file name: ``SAGEMAKER_PROGRAM``, else ``inference.py``."""
    return environment.get("SAGEMAKER_PROGRAM") or DEFAULT_PROGRAM


def _handler(function: Callable[..., Any], name: str, arity: int) -> Callable[..., Any]:
    """Handler ``name`` called with ``arity`` arguments, plus the context when it takes one more."""
    try:
        count = len(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        count = arity
    if count == arity + 1:
        return lambda *args, context: function(*args, context)
    if count != arity:
        raise LoadError(f"{name} takes {count} arguments; it must take {arity} (or {arity + 1} with context).")
    return lambda *args, context: function(*args)


def _tolist(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _text(body: str | bytes) -> str:
    return body if isinstance(body, str) else body.decode()


def _bytes(body: Any) -> bytes:
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    raise TypeError(f"output_fn must return bytes or str (or a (body, content type) tuple); got {type(body).__name__}")
