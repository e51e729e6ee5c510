"""Image Classification's network: a ResNet of ``num_layers`` layers, and its augmentations.

Small inputs (at most 32 pixels high) get the CIFAR-style ResNet of He et al. (three stages
of 16/32/64 channels, ``(num_layers - 2) / 6`` basic blocks each); larger ones the
ImageNet-style ResNet-18 ... 200 (basic blocks up to 34 layers, bottlenecks beyond), as
SageMaker's algorithm chooses. Imports torch: load it only after ``require_torch``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from shipyard.algorithms.image_classification.dataset import Shape

#: ImageNet-style depths: block kind and blocks per stage.
_LARGE = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
    200: ("bottleneck", (3, 24, 36, 3)),
}


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection."""

    expansion = 1

    def __init__(self, inputs: int, width: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.shortcut = _shortcut(inputs, width, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), with a residual connection."""

    expansion = 4

    def __init__(self, inputs: int, width: int, stride: int) -> None:
        super().__init__()
        outputs = width * self.expansion
        self.conv1 = nn.Conv2d(inputs, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, outputs, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(outputs)
        self.shortcut = _shortcut(inputs, outputs, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        return F.relu(self.bn3(self.conv3(y)) + self.shortcut(x))


def _shortcut(inputs: int, outputs: int, stride: int) -> nn.Module:
    if stride == 1 and inputs == outputs:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))


class ResNet(nn.Module):
    """A ResNet classifier over ``shape`` inputs with ``num_classes`` logits.

    ``mean``/``std`` (per channel, of pixels scaled to [0, 1]) are buffers, saved with the
    weights, so that the network takes raw [0, 1] pixels.
    """

    def __init__(self, num_layers: int, shape: Shape, num_classes: int) -> None:
        super().__init__()
        if shape.small:
            block: type[BasicBlock | Bottleneck] = BasicBlock
            blocks = ((num_layers - 2) // 6,) * 3
            widths: tuple[int, ...] = (16, 32, 64)
            stem: list[nn.Module] = [nn.Conv2d(shape.channels, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
            channels = 16
        else:
            kind, blocks = _LARGE[num_layers]
            block = BasicBlock if kind == "basic" else Bottleneck
            widths = (64, 128, 256, 512)
            stem = [
                nn.Conv2d(shape.channels, 64, 7, 2, 3, bias=False),
                nn.BatchNorm2d(64),
                nn.ReLU(),
                nn.MaxPool2d(3, 2, 1),
            ]
            channels = 64
        layers = list(stem)
        for stage, (count, width) in enumerate(zip(blocks, widths, strict=True)):
            for index in range(count):
                layers.append(block(channels, width, 2 if stage > 0 and index == 0 else 1))
                channels = width * block.expansion
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)
        self.register_buffer("mean", torch.zeros(1, shape.channels, 1, 1))
        self.register_buffer("std", torch.ones(1, shape.channels, 1, 1))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Logits for ``N x C x H x W`` pixels in [0, 1]."""
        features = self.features((pixels - self.mean) / self.std)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(features, 1), 1))


def augment(batch: torch.Tensor, kind: str | None, generator: torch.Generator) -> torch.Tensor:
    """``augmentation_type`` applied to a batch of [0, 1] pixels.

    ``crop``: a random crop of the image padded by an eighth of its side, and a random
    horizontal flip; ``crop_color`` adds random hue (up to 36 degrees), saturation and
    lightness (up to 50/255) shifts; ``crop_color_transform`` adds a random rotation (up to
    10 degrees), shear (0.1) and aspect-ratio change (0.25).
    """
    if not kind:
        return batch
    batch = _random_crop_flip(batch, generator)
    if kind in ("crop_color", "crop_color_transform"):
        batch = _color_jitter(batch, generator)
    if kind == "crop_color_transform":
        batch = _random_affine(batch, generator)
    return batch


def _uniform(generator: torch.Generator, size: int, bound: float) -> torch.Tensor:
    return (torch.rand(size, generator=generator) * 2 - 1) * bound


def _random_crop_flip(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    count, _, height, width = batch.shape
    pad = max(1, min(height, width) // 8)
    padded = F.pad(batch, (pad, pad, pad, pad), mode="replicate")
    tops = torch.randint(0, 2 * pad + 1, (count,), generator=generator).tolist()
    lefts = torch.randint(0, 2 * pad + 1, (count,), generator=generator).tolist()
    flips = (torch.rand(count, generator=generator) < 0.5).tolist()
    crops = []
    for image, top, left, flip in zip(padded, tops, lefts, flips, strict=True):
        crop = image[:, top : top + height, left : left + width]
        crops.append(crop.flip(2) if flip else crop)
    return torch.stack(crops)


#: RGB -> YIQ; hue is a rotation of the (I, Q) plane.
_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def _color_jitter(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    count = batch.shape[0]
    lightness = _uniform(generator, count, 50 / 255).view(count, 1, 1, 1)
    if batch.shape[1] == 1:
        return (batch + lightness).clamp(0, 1)
    hue = _uniform(generator, count, math.radians(36))
    saturation = 1 + _uniform(generator, count, 50 / 255)
    yiq = torch.einsum("ij,njhw->nihw", _YIQ, batch)
    cos, sin = torch.cos(hue) * saturation, torch.sin(hue) * saturation
    i, q = yiq[:, 1], yiq[:, 2]
    rotated = torch.stack(
        [yiq[:, 0], cos.view(-1, 1, 1) * i - sin.view(-1, 1, 1) * q, sin.view(-1, 1, 1) * i + cos.view(-1, 1, 1) * q], 1
    )
    rgb = torch.einsum("ij,njhw->nihw", torch.linalg.inv(_YIQ), rotated)
    return (rgb + lightness).clamp(0, 1)


def _random_affine(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    count = batch.shape[0]
    angle = _uniform(generator, count, math.radians(10))
    shear = _uniform(generator, count, 0.1)
    aspect = 1 + _uniform(generator, count, 0.25)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(count, 2, 3)
    theta[:, 0, 0] = cos * aspect
    theta[:, 0, 1] = -sin + shear
    theta[:, 1, 0] = sin
    theta[:, 1, 1] = cos / aspect
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    return F.grid_sample(batch, grid, padding_mode="border", align_corners=False)
