"""Image Classification's inference handler.

A request is one JPEG or PNG image (``image/jpeg``, ``image/png``, ``application/x-image``);
the answer is the probability of every class: ``[p0, p1, ...]`` in ``application/json``,
``{"prediction": [p0, p1, ...]}`` in ``application/jsonlines``. Multi-label models give each
class's independent probability.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.algorithms.container import require_torch
from shipyard.algorithms.image_classification import ALGORITHM
from shipyard.algorithms.image_classification.dataset import Shape, prepare
from shipyard.algorithms.image_classification.train import CONFIG_FILE, WEIGHTS_FILE
from shipyard.algorithms.vision.predictor import ImagePredictor
from shipyard.algorithms.vision.training import to_tensor


class Classifier(ImagePredictor):
    """A trained ResNet answering with class probabilities."""

    def __init__(self, torch: Any, net: Any, shape: Shape, resize: int | None, multi_label: bool) -> None:
        self.torch, self.net, self.shape, self.resize, self.multi_label = torch, net, shape, resize, multi_label
        self.channels = shape.channels

    def predict(self, image: np.ndarray) -> list[float]:
        """Class probabilities of one image."""
        pixels = to_tensor(self.torch, prepare(image, self.shape, self.resize)[None])
        with self.torch.no_grad():
            logits = self.net(pixels)[0]
        probabilities = logits.sigmoid() if self.multi_label else logits.softmax(0)
        return [float(value) for value in probabilities]

    def json_body(self, prediction: Any) -> Any:
        """SageMaker's JSON answer is the bare list of probabilities."""
        return prediction


def load(model_dir: Path) -> Classifier:
    """The classifier saved in ``model_dir``."""
    torch = require_torch(ALGORITHM)
    from shipyard.algorithms.image_classification.model import ResNet

    config = json.loads((model_dir / CONFIG_FILE).read_text())
    shape = Shape(*config["image_shape"])
    net = ResNet(config["num_layers"], shape, config["num_classes"])
    net.load_state_dict(torch.load(model_dir / WEIGHTS_FILE, weights_only=True))
    net.eval()
    return Classifier(torch, net, shape, config["resize"], config["multi_label"])
