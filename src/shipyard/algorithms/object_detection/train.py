"""Object Detection's training container.

Reads the ``train``/``train_annotation`` (and ``validation``/``validation_annotation``)
channels, trains the detector, and logs SageMaker's lines: per epoch
``#quality_metric: host=algo-1, epoch=3, batch=12 train cross_entropy <loss>=...`` (the
heatmap's focal loss) and ``... train smooth_l1 <loss>=...`` (the box loss),
``#throughput_metric``, ``#progress_metric`` and ``validation mAP <score>=(...)``. Writes
``object-detection.pt`` (the weights of the epoch with the best validation mAP, else the
last) and ``object-detection.json`` to the model directory.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import numpy as np

from shipyard.algorithms.container import TrainingContext, require_torch
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.object_detection import ALGORITHM
from shipyard.algorithms.object_detection.dataset import Split, load_split
from shipyard.algorithms.object_detection.evaluation import mean_average_precision
from shipyard.algorithms.vision import training

CONFIG_FILE = "object-detection.json"
WEIGHTS_FILE = "object-detection.pt"
#: Images per forward pass when scoring.
_EVAL_BATCH = 64


def fit(ctx: TrainingContext) -> None:
    """Train on the job's channels and write the model."""
    torch = require_torch(ALGORITHM)
    hp = ctx.hyperparameters
    training.scheduler_steps(hp["lr_scheduler_step"])
    freeze = _freeze_pattern(hp["freeze_layer_pattern"])
    has_validation = "validation" in ctx.channels or "validation_annotation" in ctx.channels
    if hp["early_stopping"] and not has_validation:
        raise AlgorithmError("early_stopping needs the validation and validation_annotation channels")
    train = _read(ctx, "train")
    validation = _read(ctx, "validation") if has_validation else None
    if len(train.boxes) != hp["num_training_samples"]:
        ctx.log(f"Warning: num_training_samples is {hp['num_training_samples']} but the train channel has {len(train.boxes)} images")
    if hp["use_pretrained_model"]:
        ctx.log("use_pretrained_model=1: no pretrained weights are available here; training from scratch")

    from shipyard.algorithms.object_detection.model import Detector

    training.configure_torch(torch, ctx.num_cpus)
    net = Detector(hp["num_classes"], hp["base_network"])
    if freeze is not None:
        frozen = 0
        for name, parameter in net.backbone.named_parameters():
            parameter.requires_grad_(not freeze.search(name))
            frozen += not parameter.requires_grad
        ctx.log(f"freeze_layer_pattern froze {frozen} backbone parameter tensors")
    _Trainer(ctx, torch, net, train, validation).train()
    if ctx.is_leader:
        ctx.model_dir.mkdir(parents=True, exist_ok=True)
        torch.save(net.state_dict(), ctx.model_dir / WEIGHTS_FILE)
        config = {
            "num_classes": hp["num_classes"],
            "base_network": hp["base_network"],
            "image_shape": hp["image_shape"],
            "nms_threshold": hp["nms_threshold"],
        }
        (ctx.model_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")


def _freeze_pattern(text: str | None) -> re.Pattern[str] | None:
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error as error:
        raise AlgorithmError(f"Invalid value {text!r} for hyperparameter freeze_layer_pattern: {error}") from None


def _read(ctx: TrainingContext, split: str) -> Split:
    annotations = f"{split}_annotation"
    if split not in ctx.channels or annotations not in ctx.channels:
        raise AlgorithmError(f"Object Detection's image format needs both the {split} and {annotations} channels")
    hp = ctx.hyperparameters
    data = load_split(ctx.channels[split].path, ctx.channels[annotations].path, hp["image_shape"], num_classes=hp["num_classes"])
    ctx.log(f"Read {len(data.boxes)} {split} images with {sum(len(found) for found in data.boxes)} boxes")
    return data


class _Trainer:
    """The epoch loop: optimise, report losses and mAP, keep the best epoch, stop early."""

    def __init__(self, ctx: TrainingContext, torch: Any, net: Any, train: Split, validation: Split | None) -> None:
        self.ctx, self.torch, self.net = ctx, torch, net
        self.hp = ctx.hyperparameters
        # Pixels stay uint8 until a batch needs them: a quarter of the memory of floats.
        self.pixels = train.pixels
        self.boxes = train.boxes
        self.validation = None if validation is None else (validation.pixels, validation.boxes)
        training.normalize_from(torch, net, train.pixels)
        self.generator = torch.Generator().manual_seed(0)

    def train(self) -> None:
        from shipyard.algorithms.object_detection.model import (
            box_loss,
            focal_loss,
            targets,
        )

        torch, hp, host = self.torch, self.hp, self.ctx.host
        trainable = [parameter for parameter in self.net.parameters() if parameter.requires_grad]
        optimizer = training.make_optimizer(torch, trainable, hp, decayed=("sgd", "rmsprop"))
        scheduler = training.make_scheduler(torch, optimizer, hp)
        stopping = training.EarlyStopping.from_hyperparameters(hp)
        best = training.BestEpoch()
        count, size, epochs = len(self.boxes), hp["mini_batch_size"], hp["epochs"]
        for epoch in range(epochs):
            started = time.perf_counter()
            self.net.train()
            order = torch.randperm(count, generator=self.generator).tolist()
            totals, batches = np.zeros(2), 0
            for start in range(0, count, size):
                batch = order[start : start + size]
                if len(batch) == 1 and count > 1:
                    continue  # batch normalisation needs two samples
                pixels, boxes = self._flipped(batch)
                heatmap_logits, predicted = self.net(pixels)
                heatmap, regression, mask = targets(boxes, hp["num_classes"], tuple(heatmap_logits.shape[-2:]))
                losses = (focal_loss(heatmap_logits, heatmap), box_loss(predicted, regression, mask))
                optimizer.zero_grad()
                (losses[0] + losses[1]).backward()
                optimizer.step()
                totals += [loss.item() for loss in losses]
                batches += 1
            scheduler.step()
            elapsed = time.perf_counter() - started
            cross_entropy, smooth_l1 = totals / max(batches, 1)
            self.ctx.log(f"#quality_metric: host={host}, epoch={epoch}, batch={batches} train cross_entropy <loss>={cross_entropy:.6f}")
            self.ctx.log(f"#quality_metric: host={host}, epoch={epoch}, batch={batches} train smooth_l1 <loss>={smooth_l1:.6f}")
            self.ctx.log(f"#throughput_metric: host={host}, train throughput={count / max(elapsed, 1e-9):.2f} records/second")
            self.ctx.log(f"#progress_metric: host={host}, completed {100 * (epoch + 1) / epochs:.1f} %")
            if self.validation is None:
                continue
            score = self.evaluate(*self.validation)
            self.ctx.log(f"#quality_metric: host={host}, epoch={epoch}, validation mAP <score>=({score:.6f})")
            best.observe(epoch, score, self.net)
            if stopping is not None and stopping.should_stop(epoch, score):
                self.ctx.log(f"Early stopping after epoch {epoch}: validation mAP has not improved for {stopping.patience} epochs")
                break
        if best.epoch is not None:
            best.restore(self.net)
            self.ctx.log(f"Keeping the parameters of epoch {best.epoch} (validation mAP {best.score:.6f})")

    def evaluate(self, pixels: np.ndarray, truths: list[np.ndarray]) -> float:
        """mAP at ``overlap_threshold`` of the network's detections on ``pixels``."""
        from shipyard.algorithms.object_detection.model import decode

        self.net.eval()
        detections: list[np.ndarray] = []
        with self.torch.no_grad():
            for start in range(0, len(truths), _EVAL_BATCH):
                batch = training.to_tensor(self.torch, pixels[start : start + _EVAL_BATCH])
                detections += decode(*self.net(batch), self.hp["nms_threshold"])
        return mean_average_precision(detections, truths, self.hp["num_classes"], self.hp["overlap_threshold"])

    def _flipped(self, batch: list[int]) -> tuple[Any, list[np.ndarray]]:
        """The batch's pixels and boxes, each image mirrored left-right with probability 1/2."""
        pixels = self.pixels[batch]
        flips = (self.torch.rand(len(batch), generator=self.generator) < 0.5).tolist()
        boxes = []
        for row, (index, flip) in enumerate(zip(batch, flips, strict=True)):
            found = self.boxes[index]
            if flip:
                pixels[row] = pixels[row][:, ::-1]
                found = found.copy()
                found[:, [1, 3]] = 1 - self.boxes[index][:, [3, 1]]
            boxes.append(found)
        return training.to_tensor(self.torch, pixels), boxes
