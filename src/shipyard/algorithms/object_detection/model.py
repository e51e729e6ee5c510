"""Object Detection's network: a compact single-shot, anchor-free detector.

After a strided convolution, the backbone (VGG-style conv stacks or ResNet-style residual
blocks, per ``base_network``) reduces the image to strides 4, 8 and 16; a top-down path merges them back at stride 4.
For each stride-4 cell the head predicts a heatmap score per class (the likelihood that an
object's center falls there) and its box: the center's offset within the cell and the
log width and height in cells (the "objects as points" formulation). Training uses the
focal loss on the heatmap and the smooth L1 loss on boxes at object centers; decoding
takes the heatmap's local maxima and applies per-class non-maximum suppression.
Imports torch: load it only after ``require_torch``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: Output stride of the head.
STRIDE = 4
#: Channel widths of the backbone's stages (strides 2, 4, 8, 16) and of the merged features.
_WIDTHS = (16, 32, 64, 96)
_FEATURES = 64
#: Detections kept per image before non-maximum suppression, and the lowest score kept.
_TOP = 100
_MIN_SCORE = 0.01


def _conv(inputs: int, outputs: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU(inplace=True)]


class _Residual(nn.Module):
    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*_conv(inputs, outputs, 2), nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False), nn.BatchNorm2d(outputs))
        self.shortcut = nn.Sequential(nn.Conv2d(inputs, outputs, 1, 2, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.shortcut(x))


def _stage(base_network: str, inputs: int, outputs: int) -> nn.Module:
    """One halving of resolution: max pooling and two convolutions (VGG-style), or a residual block."""
    if base_network == "resnet-50":
        return _Residual(inputs, outputs)
    return nn.Sequential(nn.MaxPool2d(2, ceil_mode=True), *_conv(inputs, outputs), *_conv(outputs, outputs))


class Detector(nn.Module):
    """The detector; ``forward`` gives heatmap logits (``N x classes x H/4 x W/4``) and boxes (``N x 4 x ...``).

    ``mean``/``std`` (per channel, of pixels scaled to [0, 1]) are saved with the weights.
    """

    def __init__(self, num_classes: int, base_network: str) -> None:
        super().__init__()
        stages: list[nn.Module] = [nn.Sequential(*_conv(3, _WIDTHS[0], 2))]
        for inputs, width in itertools.pairwise(_WIDTHS):
            stages.append(_stage(base_network, inputs, width))
        self.backbone = nn.ModuleList(stages)
        self.lateral = nn.ModuleList(nn.Conv2d(width, _FEATURES, 1) for width in _WIDTHS[1:])
        self.head = nn.Sequential(nn.Conv2d(_FEATURES, _FEATURES, 3, 1, 1), nn.ReLU(inplace=True))
        self.heatmap = nn.Conv2d(_FEATURES, num_classes, 1)
        self.box = nn.Conv2d(_FEATURES, 4, 1)
        # Start every cell at a 10% object probability, so that the focal loss starts small.
        nn.init.constant_(self.heatmap.bias, -math.log(9))
        self.register_buffer("mean", torch.zeros(1, 3, 1, 1))
        self.register_buffer("std", torch.ones(1, 3, 1, 1))

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Heatmap logits and boxes for ``N x 3 x S x S`` pixels in [0, 1]."""
        x = (pixels - self.mean) / self.std
        levels = []
        for stage in self.backbone:
            x = stage(x)
            levels.append(x)
        merged = self.lateral[-1](levels[-1])
        for lateral, level in zip(reversed(self.lateral[:-1]), reversed(levels[1:-1]), strict=True):
            merged = F.interpolate(merged, size=level.shape[-2:], mode="nearest") + lateral(level)
        features = self.head(merged)
        return self.heatmap(features), self.box(features)


def targets(boxes: Sequence[np.ndarray], num_classes: int, size: tuple[int, int]) -> tuple[torch.Tensor, ...]:
    """Training targets on a ``size`` (height, width) grid for each image's normalised boxes.

    Returns the heatmap (a Gaussian peak of 1 at each object's center cell), the box
    regression targets and the mask of center cells.
    """
    height, width = size
    heatmap = torch.zeros(len(boxes), num_classes, height, width)
    regression = torch.zeros(len(boxes), 4, height, width)
    mask = torch.zeros(len(boxes), height, width)
    rows = torch.arange(height, dtype=torch.float32)[:, None]
    columns = torch.arange(width, dtype=torch.float32)[None, :]
    for image, found in enumerate(boxes):
        for label, xmin, ymin, xmax, ymax in found.tolist():
            box_width, box_height = (xmax - xmin) * width, (ymax - ymin) * height
            center_x, center_y = (xmin + xmax) / 2 * width, (ymin + ymax) / 2 * height
            column, row = min(int(center_x), width - 1), min(int(center_y), height - 1)
            sigma = max(0.5, min(box_width, box_height) / 6)
            peak = torch.exp(-((columns - column) ** 2 + (rows - row) ** 2) / (2 * sigma**2))
            heatmap[image, int(label)] = torch.maximum(heatmap[image, int(label)], peak)
            regression[image, :, row, column] = torch.tensor(
                [center_x - column, center_y - row, math.log(max(box_width, 1e-3)), math.log(max(box_height, 1e-3))]
            )
            mask[image, row, column] = 1
    return heatmap, regression, mask


def focal_loss(logits: torch.Tensor, heatmap: torch.Tensor) -> torch.Tensor:
    """The penalty-reduced focal loss of CornerNet/CenterNet, per object."""
    probability = logits.sigmoid().clamp(1e-4, 1 - 1e-4)
    centers = heatmap.eq(1).float()
    positive = torch.log(probability) * (1 - probability) ** 2 * centers
    negative = torch.log(1 - probability) * probability**2 * (1 - heatmap) ** 4 * (1 - centers)
    return -(positive.sum() + negative.sum()) / centers.sum().clamp(min=1)


def box_loss(predicted: torch.Tensor, regression: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Smooth L1 loss of the box predictions at object centers, per object."""
    loss = F.smooth_l1_loss(predicted, regression, reduction="none").sum(1)
    return (loss * mask).sum() / mask.sum().clamp(min=1)


def decode(logits: torch.Tensor, predicted: torch.Tensor, nms_threshold: float) -> list[np.ndarray]:
    """Detections per image: rows ``[class, score, xmin, ymin, xmax, ymax]`` (normalised), best first."""
    scores = logits.sigmoid()
    scores = scores * (F.max_pool2d(scores, 3, 1, 1) == scores)
    count, classes, height, width = scores.shape
    results = []
    for image in range(count):
        top, index = scores[image].flatten().topk(min(_TOP, classes * height * width))
        keep = top >= _MIN_SCORE
        top, index = top[keep], index[keep]
        labels, cell = index // (height * width), index % (height * width)
        rows, columns = cell // width, cell % width
        offset_x, offset_y, log_width, log_height = predicted[image][:, rows, columns]
        center_x, center_y = (columns + offset_x) / width, (rows + offset_y) / height
        half_width, half_height = log_width.exp() / width / 2, log_height.exp() / height / 2
        corners = torch.stack([center_x - half_width, center_y - half_height, center_x + half_width, center_y + half_height], 1)
        corners = corners.clamp(0, 1)
        kept = non_maximum_suppression(corners, top, labels, nms_threshold)
        rows_out = torch.cat([labels[kept, None].float(), top[kept, None], corners[kept]], 1)
        results.append(rows_out.numpy().astype(np.float64))
    return results


def non_maximum_suppression(boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor, threshold: float) -> torch.Tensor:
    """Indices of the boxes kept, best first: a box is dropped when it overlaps a better one of its
    class by an IoU above ``threshold``."""
    order = scores.argsort(descending=True)
    boxes, labels = boxes[order], labels[order]
    areas = (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)
    left = torch.maximum(boxes[:, None, 0], boxes[None, :, 0])
    top = torch.maximum(boxes[:, None, 1], boxes[None, :, 1])
    right = torch.minimum(boxes[:, None, 2], boxes[None, :, 2])
    bottom = torch.minimum(boxes[:, None, 3], boxes[None, :, 3])
    intersection = (right - left).clamp(min=0) * (bottom - top).clamp(min=0)
    overlap = intersection / (areas[:, None] + areas[None, :] - intersection).clamp(min=1e-12)
    suppressing = (overlap > threshold) & (labels[:, None] == labels[None, :])
    alive = torch.ones(len(order), dtype=torch.bool)
    for index in range(len(order)):
        if alive[index]:
            alive[index + 1 :] &= ~suppressing[index, index + 1 :]
    return order[alive]
