"""DeepAR's training loop: random windows of the training series, Adam, the best epoch kept.

An epoch draws about one window per ``prediction_length`` points of each series (at least
one), each ending at a random point, so that it covers the data about once.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from shipyard.algorithms.deepar.forecaster import Forecaster
from shipyard.algorithms.deepar.series import Series
from shipyard.algorithms.deepar.windows import Batch, Padded
from shipyard.algorithms.errors import AlgorithmError

_MAX_GRADIENT_NORM = 10.0


@dataclass(frozen=True)
class Settings:
    """The optimisation hyperparameters."""

    epochs: int
    learning_rate: float
    mini_batch_size: int
    early_stopping_patience: int | None = None
    seed: int = 0


@dataclass(frozen=True)
class Outcome:
    """Each epoch's mean loss and the epoch whose weights the model kept (the lowest loss)."""

    losses: list[float]
    best_epoch: int

    @property
    def best_loss(self) -> float:
        return self.losses[self.best_epoch]


def train(
    forecaster: Forecaster,
    series: Sequence[Series],
    settings: Settings,
    on_epoch: Callable[[int, float], None] = lambda epoch, loss: None,
) -> Outcome:
    """Fit ``forecaster`` to ``series``; ``on_epoch(epoch, loss)`` after each epoch.

    Series no longer than ``prediction_length`` are skipped, as SageMaker does; an
    AlgorithmError if none is left or the loss stops being finite.
    """
    horizon = forecaster.layout.prediction_length
    usable = [item for item in series if len(item) > horizon]
    if not usable:
        raise AlgorithmError(
            f"No training time series is longer than prediction_length ({horizon}); DeepAR needs at least one"
        )
    padded = [Padded.of(item, forecaster.layout, future=False) for item in usable]
    lengths = np.array([len(item) for item in usable])
    rng = np.random.default_rng(settings.seed)
    torch.manual_seed(settings.seed)
    network = forecaster.network
    optimizer = torch.optim.Adam(network.parameters(), lr=settings.learning_rate)
    losses: list[float] = []
    best_epoch, best_weights = -1, {}
    for epoch in range(settings.epochs):
        network.train()
        owners, starts = _draw_windows(lengths, horizon, rng)
        total = 0.0
        for first in range(0, len(owners), settings.mini_batch_size):
            chosen = slice(first, first + settings.mini_batch_size)
            batch = Batch.of([padded[owner] for owner in owners[chosen]], starts[chosen], forecaster.layout)
            loss = forecaster.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), _MAX_GRADIENT_NORM)
            optimizer.step()
            total += loss.item() * len(batch.target)
        epoch_loss = total / len(owners)
        if not math.isfinite(epoch_loss):
            raise AlgorithmError(f"Training diverged at epoch {epoch} (the loss is {epoch_loss}); lower learning_rate")
        losses.append(epoch_loss)
        on_epoch(epoch, epoch_loss)
        if best_epoch < 0 or epoch_loss < losses[best_epoch]:
            best_epoch, best_weights = epoch, copy.deepcopy(network.state_dict())
        elif settings.early_stopping_patience and epoch - best_epoch >= settings.early_stopping_patience:
            break
    network.load_state_dict(best_weights)
    network.eval()
    return Outcome(losses, best_epoch)


def _draw_windows(lengths: np.ndarray, horizon: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled ``(series index, forecast start)`` pairs: starts in ``[1, length - horizon]``."""
    counts = np.maximum(1, lengths // horizon)
    owners = np.repeat(np.arange(len(lengths)), counts)
    starts = rng.integers(1, lengths[owners] - horizon + 1)
    order = rng.permutation(len(owners))
    return owners[order], starts[order]
