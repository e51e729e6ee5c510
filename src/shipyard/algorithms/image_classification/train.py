"""Image Classification's training container.

Reads the ``train``/``train_lst`` (and ``validation``/``validation_lst``) channels, trains a
ResNet, logs MXNet-style ``Epoch[N] Train-accuracy=...`` / ``Validation-accuracy=...``
lines (SageMaker's ``train:accuracy`` and ``validation:accuracy``), and writes
``image-classification.pt`` (the weights of the epoch with the best validation accuracy,
else the last) and ``image-classification.json`` (the architecture) to the model directory.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from shipyard.algorithms.container import TrainingContext, require_torch
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.image_classification import ALGORITHM
from shipyard.algorithms.image_classification.dataset import (
    Shape,
    check_depth,
    load_split,
)
from shipyard.algorithms.vision import training

CONFIG_FILE = "image-classification.json"
WEIGHTS_FILE = "image-classification.pt"
#: Images per forward pass when scoring.
_EVAL_BATCH = 256


def fit(ctx: TrainingContext) -> None:
    """Train on the job's channels and write the model."""
    torch = require_torch(ALGORITHM)
    hp = ctx.hyperparameters
    shape = Shape.parse(hp["image_shape"])
    check_depth(hp["num_layers"], shape)
    has_validation = "validation" in ctx.channels or "validation_lst" in ctx.channels
    _check(hp, validation=has_validation)
    train_x, train_y = _read(ctx, "train", shape)
    validation = _read(ctx, "validation", shape) if has_validation else None
    _notes(ctx, len(train_y))

    from shipyard.algorithms.image_classification.model import ResNet

    training.configure_torch(torch, ctx.num_cpus)
    net = ResNet(hp["num_layers"], shape, hp["num_classes"])
    trainer = _Trainer(ctx, torch, net, train_x, train_y, validation)
    trainer.train()
    if ctx.is_leader:
        ctx.model_dir.mkdir(parents=True, exist_ok=True)
        torch.save(net.state_dict(), ctx.model_dir / WEIGHTS_FILE)
        config = {
            "num_classes": hp["num_classes"],
            "num_layers": hp["num_layers"],
            "image_shape": [shape.channels, shape.height, shape.width],
            "resize": hp["resize"],
            "multi_label": bool(hp["multi_label"]),
            "epoch": trainer.kept_epoch,
        }
        (ctx.model_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")


def _check(hp: dict[str, Any], *, validation: bool) -> None:
    training.check_checkpoint_frequency(hp)
    training.scheduler_steps(hp["lr_scheduler_step"])
    top_k = hp["top_k"]
    if top_k is not None and top_k > hp["num_classes"]:
        raise AlgorithmError(f"Invalid value {top_k} for hyperparameter top_k: must be no greater than num_classes ({hp['num_classes']})")
    if hp["early_stopping"] and not validation:
        raise AlgorithmError("early_stopping needs the validation and validation_lst channels")


def _read(ctx: TrainingContext, split: str, shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    lst = f"{split}_lst"
    if split not in ctx.channels or lst not in ctx.channels:
        raise AlgorithmError(f"Image Classification's image format needs both the {split} and {lst} channels")
    hp = ctx.hyperparameters
    pixels, labels = load_split(
        ctx.channels[split].path,
        ctx.channels[lst].path,
        shape,
        num_classes=hp["num_classes"],
        multi_label=bool(hp["multi_label"]),
        resize=hp["resize"],
    )
    ctx.log(f"Read {len(labels)} {split} images of shape {shape.channels}x{shape.height}x{shape.width}")
    return pixels, labels


def _notes(ctx: TrainingContext, count: int) -> None:
    hp = ctx.hyperparameters
    if count != hp["num_training_samples"]:
        ctx.log(f"Warning: num_training_samples is {hp['num_training_samples']} but the train channel lists {count} images")
    if hp["use_pretrained_model"]:
        ctx.log("use_pretrained_model=1: no pretrained weights are available here; training from scratch")
    if hp["precision_dtype"] == "float16":
        ctx.log("precision_dtype=float16: training on CPU in float32")
    if hp["multi_label"] and hp["top_k"] is not None:
        ctx.log("top_k is not reported for multi-label classification")


class _Trainer:
    """The epoch loop: optimise, report accuracies, keep the best epoch, checkpoint, stop early."""

    def __init__(
        self,
        ctx: TrainingContext,
        torch: Any,
        net: Any,
        train_x: np.ndarray,
        train_y: np.ndarray,
        validation: tuple[np.ndarray, np.ndarray] | None,
    ) -> None:
        self.ctx, self.torch, self.net = ctx, torch, net
        self.hp = ctx.hyperparameters
        self.multi_label = bool(self.hp["multi_label"])
        self.top_k = None if self.multi_label else self.hp["top_k"]
        # Pixels stay uint8 until a batch needs them: a quarter of the memory of floats.
        self.pixels = train_x
        self.labels = torch.from_numpy(train_y)
        self.validation = None if validation is None else (validation[0], torch.from_numpy(validation[1]))
        training.normalize_from(torch, net, train_x)
        self.loss = self._loss()
        self.generator = torch.Generator().manual_seed(0)
        self.kept_epoch = 0

    def _loss(self) -> Any:
        nn = self.torch.nn
        if not self.multi_label:
            return nn.CrossEntropyLoss()
        weight = None
        if self.hp["use_weighted_loss"]:
            positives = self.labels.sum(0)
            weight = ((len(self.labels) - positives) / positives.clamp(min=1)).clamp(min=1e-3)
        return nn.BCEWithLogitsLoss(pos_weight=weight)

    def train(self) -> None:
        from shipyard.algorithms.image_classification.model import augment

        torch, hp = self.torch, self.hp
        optimizer = training.make_optimizer(torch, self.net.parameters(), hp, decayed=("sgd", "nag"))
        scheduler = training.make_scheduler(torch, optimizer, hp)
        stopping = training.EarlyStopping.from_hyperparameters(hp)
        best = training.BestEpoch()
        count, size = len(self.labels), hp["mini_batch_size"]
        for epoch in range(hp["epochs"]):
            started = time.perf_counter()
            self.net.train()
            order = torch.randperm(count, generator=self.generator)
            hits = np.zeros(2)
            for start in range(0, count, size):
                batch = order[start : start + size]
                if len(batch) == 1 and count > 1:
                    continue  # batch normalisation needs two samples
                pixels = training.to_tensor(torch, self.pixels[batch.numpy()])
                logits = self.net(augment(pixels, hp["augmentation_type"], self.generator))
                loss = self.loss(logits, self.labels[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                hits += self._hits(logits.detach(), self.labels[batch])
            scheduler.step()
            self._report(epoch, "Train", hits / count)
            self.ctx.log(f"Epoch[{epoch}] Time cost={time.perf_counter() - started:.3f}")
            self._checkpoint(epoch)
            self.kept_epoch = epoch + 1
            if self.validation is None:
                continue
            score = self._report(epoch, "Validation", self.evaluate(*self.validation))
            best.observe(epoch, score, self.net)
            if stopping is not None and stopping.should_stop(epoch, score):
                self.ctx.log(f"Early stopping after epoch {epoch}: validation accuracy has not improved for {stopping.patience} epochs")
                break
        if best.epoch is not None:
            best.restore(self.net)
            self.kept_epoch = best.epoch + 1
            self.ctx.log(f"Keeping the parameters of epoch {best.epoch} (validation accuracy {best.score:.6f})")

    def evaluate(self, pixels: np.ndarray, labels: Any) -> np.ndarray:
        """Accuracy (and top-k accuracy) of the network on ``pixels``."""
        self.net.eval()
        hits = np.zeros(2)
        with self.torch.no_grad():
            for start in range(0, len(labels), _EVAL_BATCH):
                batch = training.to_tensor(self.torch, pixels[start : start + _EVAL_BATCH])
                hits += self._hits(self.net(batch), labels[start : start + _EVAL_BATCH])
        return hits / len(labels)

    def _hits(self, logits: Any, labels: Any) -> np.ndarray:
        """Correct predictions in a batch: top-1 and top-k (multi-label: mean per-class agreement)."""
        if self.multi_label:
            return np.array([((logits > 0).float() == labels).float().mean(1).sum().item(), 0.0])
        top1 = (logits.argmax(1) == labels).sum().item()
        topk = 0.0
        if self.top_k:
            topk = (logits.topk(self.top_k, 1).indices == labels[:, None]).any(1).sum().item()
        return np.array([top1, topk])

    def _report(self, epoch: int, split: str, accuracies: np.ndarray) -> float:
        self.ctx.log(f"Epoch[{epoch}] {split}-accuracy={accuracies[0]:.6f}")
        if self.top_k:
            self.ctx.log(f"Epoch[{epoch}] {split}-top_k_accuracy_{self.top_k}={accuracies[1]:.6f}")
        return float(accuracies[0])

    def _checkpoint(self, epoch: int) -> None:
        frequency = self.hp["checkpoint_frequency"]
        if frequency and (epoch + 1) % frequency == 0 and self.ctx.is_leader:
            self.ctx.model_dir.mkdir(parents=True, exist_ok=True)
            path = self.ctx.model_dir / f"image-classification-{epoch + 1:04d}.pt"
            self.torch.save(self.net.state_dict(), path)
            self.ctx.log(f"Saved checkpoint to {path.name}")
