"""Training pieces both vision algorithms declare with the same hyperparameters: optimizers,
learning-rate steps, early stopping, the best epoch, and torch's threads and seed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shipyard.algorithms.errors import AlgorithmError


def scheduler_steps(text: str | None) -> list[int]:
    """``lr_scheduler_step`` ("10, 20") as epochs; AlgorithmError naming it if malformed."""
    if not text:
        return []
    try:
        steps = [int(item) for item in text.replace(" ", "").split(",") if item]
    except ValueError:
        raise AlgorithmError(f"Invalid value {text!r} for hyperparameter lr_scheduler_step: must be epochs like '10,20'") from None
    if any(step < 1 for step in steps) or steps != sorted(steps):
        raise AlgorithmError(f"Invalid value {text!r} for hyperparameter lr_scheduler_step: epochs must be positive and increasing")
    return steps


def make_optimizer(torch: Any, parameters: Iterable[Any], hyperparameters: Mapping[str, Any], *, decayed: tuple[str, ...]) -> Any:
    """The ``optimizer`` hyperparameter's PyTorch optimizer.

    ``decayed`` lists the optimizers ``weight_decay`` applies to (each algorithm documents
    its own); ``nag`` is SGD with Nesterov momentum, ``gamma`` is RMSProp's decay.
    """
    name = hyperparameters["optimizer"]
    rate = hyperparameters["learning_rate"]
    decay = hyperparameters["weight_decay"] if name in decayed else 0.0
    momentum = hyperparameters["momentum"]
    if name in ("sgd", "nag"):
        nesterov = name == "nag" and momentum > 0
        return torch.optim.SGD(parameters, lr=rate, momentum=momentum, weight_decay=decay, nesterov=nesterov)
    if name == "adam":
        betas = (hyperparameters.get("beta_1", 0.9), hyperparameters.get("beta_2", 0.999))
        return torch.optim.Adam(parameters, lr=rate, betas=betas, eps=hyperparameters.get("eps", 1e-8), weight_decay=decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(
            parameters, lr=rate, alpha=hyperparameters.get("gamma", 0.99), eps=hyperparameters.get("eps", 1e-8), weight_decay=decay
        )
    if name == "adadelta":
        return torch.optim.Adadelta(parameters, lr=rate, weight_decay=decay)
    raise AlgorithmError(f"Unknown optimizer {name!r}")


def make_scheduler(torch: Any, optimizer: Any, hyperparameters: Mapping[str, Any]) -> Any:
    """Multiply the learning rate by ``lr_scheduler_factor`` after each ``lr_scheduler_step`` epoch."""
    steps = scheduler_steps(hyperparameters["lr_scheduler_step"])
    return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=steps, gamma=hyperparameters["lr_scheduler_factor"])


@dataclass
class EarlyStopping:
    """SageMaker's early stopping on a validation score that should grow.

    After ``min_epochs``, training stops once ``patience`` epochs in a row fail to improve the
    best score by more than ``tolerance`` relative to it.
    """

    min_epochs: int
    patience: int
    tolerance: float
    best: float | None = field(default=None, init=False)
    stale: int = field(default=0, init=False)

    @classmethod
    def from_hyperparameters(cls, hyperparameters: Mapping[str, Any]) -> EarlyStopping | None:
        """The early stopping the hyperparameters ask for, if ``early_stopping`` is on."""
        if not hyperparameters["early_stopping"]:
            return None
        return cls(
            hyperparameters["early_stopping_min_epochs"],
            hyperparameters["early_stopping_patience"],
            hyperparameters["early_stopping_tolerance"],
        )

    def should_stop(self, epoch: int, score: float) -> bool:
        """Record ``score`` of (zero-based) ``epoch``; whether to stop training after it."""
        if self.best is None or score - self.best > self.tolerance * abs(self.best):
            self.best = score
            self.stale = 0
        else:
            self.stale += 1
        return epoch + 1 >= self.min_epochs and self.stale >= self.patience


@dataclass
class BestEpoch:
    """The parameters of the epoch with the best validation score so far."""

    score: float = float("-inf")
    epoch: int | None = None
    state: dict[str, Any] | None = None

    def observe(self, epoch: int, score: float, net: Any) -> None:
        """Keep a copy of ``net``'s parameters if ``score`` beats the best."""
        if score > self.score:
            self.score, self.epoch = score, epoch
            self.state = {name: value.detach().clone() for name, value in net.state_dict().items()}

    def restore(self, net: Any) -> None:
        """Load the best parameters into ``net`` (if any epoch was observed)."""
        if self.state is not None:
            net.load_state_dict(self.state)


def configure_torch(torch: Any, num_cpus: int, seed: int = 0) -> None:
    """Use ``num_cpus`` threads and a fixed seed, so that a job is reproducible."""
    torch.set_num_threads(max(1, num_cpus))
    torch.manual_seed(seed)


def to_tensor(torch: Any, pixels: np.ndarray) -> Any:
    """``N x H x W x C`` uint8 pixels as an ``N x C x H x W`` float tensor in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(pixels)).permute(0, 3, 1, 2).float().div_(255)


def normalize_from(torch: Any, net: Any, pixels: np.ndarray, chunk: int = 256) -> None:
    """Set ``net``'s ``mean``/``std`` buffers to the per-channel statistics of ``pixels``
    (``N x H x W x C`` uint8, scaled to [0, 1]), read a chunk of images at a time."""
    total = np.zeros(pixels.shape[-1])
    squares = np.zeros(pixels.shape[-1])
    for start in range(0, len(pixels), chunk):
        values = pixels[start : start + chunk].reshape(-1, pixels.shape[-1]).astype(np.float64) / 255
        total += values.sum(0)
        squares += (values**2).sum(0)
    count = pixels.size / pixels.shape[-1]
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0))
    net.mean.copy_(torch.from_numpy(mean).view(1, -1, 1, 1))
    net.std.copy_(torch.from_numpy(np.maximum(std, 1e-3)).view(1, -1, 1, 1))


def check_checkpoint_frequency(hyperparameters: Mapping[str, Any]) -> None:
    """``checkpoint_frequency`` may not exceed ``epochs``."""
    frequency = hyperparameters.get("checkpoint_frequency")
    if frequency is not None and frequency > hyperparameters["epochs"]:
        raise AlgorithmError(
            f"Invalid value {frequency} for hyperparameter checkpoint_frequency: must be no greater than epochs ({hyperparameters['epochs']})"
        )
