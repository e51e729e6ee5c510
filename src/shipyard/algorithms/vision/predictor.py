"""The inference handler of the vision algorithms: one encoded image per request."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from shipyard.algorithms.content_types import IMAGE_TYPES, JSON, JSONLINES, mime
from shipyard.algorithms.errors import BadRequest, UnsupportedContentType
from shipyard.algorithms.inference import negotiate
from shipyard.algorithms.vision.files import decode_image


class ImagePredictor(ABC):
    """An inference handler for one encoded image per request.

    Requests are ``image/jpeg``, ``image/png`` or ``application/x-image``; responses are
    ``application/json`` (:meth:`json_body` of the prediction) or ``application/jsonlines``
    (``{"prediction": ...}`` on one line, as batch transform writes).
    """

    content_types: tuple[str, ...] = IMAGE_TYPES
    accept_types: tuple[str, ...] = (JSON, JSONLINES)
    channels: int = 3

    @abstractmethod
    def predict(self, image: np.ndarray) -> Any:
        """The prediction for one ``H x W x C`` uint8 image."""

    def json_body(self, prediction: Any) -> Any:
        """The ``application/json`` document of ``prediction``."""
        return {"prediction": prediction}

    def invoke(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        """Decode the image, predict, encode the answer."""
        response_type = negotiate(accept, self.accept_types, JSON)
        if mime(content_type) not in self.content_types:
            raise UnsupportedContentType(content_type, self.content_types)
        if not body:
            raise BadRequest("The request holds no image")
        try:
            image = decode_image(body, self.channels)
        except ValueError as error:
            raise BadRequest(f"Cannot read the request image: {error}") from None
        prediction = self.predict(image)
        if response_type == JSONLINES:
            return (json.dumps({"prediction": prediction}) + "\n").encode(), response_type
        return json.dumps(self.json_body(prediction)).encode(), response_type
