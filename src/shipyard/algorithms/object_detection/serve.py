"""Object Detection's inference handler.

A request is one JPEG or PNG image (``image/jpeg``, ``image/png``, ``application/x-image``);
the answer is ``{"prediction": [[class_id, score, xmin, ymin, xmax, ymax], ...]}`` with the
corners normalised to the image's width and height, best score first, in
``application/json`` or (one line) ``application/jsonlines``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.algorithms.container import require_torch
from shipyard.algorithms.object_detection import ALGORITHM
from shipyard.algorithms.object_detection.train import CONFIG_FILE, WEIGHTS_FILE
from shipyard.algorithms.vision.files import resize_image
from shipyard.algorithms.vision.predictor import ImagePredictor
from shipyard.algorithms.vision.training import to_tensor


class ObjectDetector(ImagePredictor):
    """A trained detector answering with SageMaker's detection rows."""

    def __init__(self, torch: Any, net: Any, side: int, nms_threshold: float) -> None:
        self.torch, self.net, self.side, self.nms_threshold = torch, net, side, nms_threshold

    def predict(self, image: np.ndarray) -> list[list[float]]:
        """Detections in one image, best first."""
        from shipyard.algorithms.object_detection.model import decode

        pixels = to_tensor(self.torch, resize_image(image, self.side, self.side)[None])
        with self.torch.no_grad():
            (rows,) = decode(*self.net(pixels), self.nms_threshold)
        return [[float(value) for value in row] for row in rows]


def load(model_dir: Path) -> ObjectDetector:
    """The detector saved in ``model_dir``."""
    torch = require_torch(ALGORITHM)
    from shipyard.algorithms.object_detection.model import Detector

    config = json.loads((model_dir / CONFIG_FILE).read_text())
    net = Detector(config["num_classes"], config["base_network"])
    net.load_state_dict(torch.load(model_dir / WEIGHTS_FILE, weights_only=True))
    net.eval()
    return ObjectDetector(torch, net, config["image_shape"], config["nms_threshold"])
