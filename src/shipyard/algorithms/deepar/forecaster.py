"""A DeepAR model: its network and likelihood, the training loss, ancestral sampling, files.

The model is saved as ``model.json`` (:class:`ModelConfig`) and ``model.npz`` (the network's
weights as NumPy arrays), so loading it runs no pickled code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from shipyard.algorithms.deepar.config import ModelConfig
from shipyard.algorithms.deepar.likelihoods import LIKELIHOODS
from shipyard.algorithms.deepar.network import DeepARNetwork
from shipyard.algorithms.deepar.series import Series
from shipyard.algorithms.deepar.windows import Batch, Padded

WEIGHTS_FILE = "model.npz"

#: Sample paths drawn at once: bounds memory when many series are forecast together.
_ROWS_PER_PASS = 4096


@dataclass(frozen=True)
class _Windows:
    """A :class:`Batch` as tensors, with the series' scales."""

    target: Tensor
    time_features: Tensor
    dynamic_feat: Tensor
    cat: Tensor
    scale: Tensor

    def repeat(self, times: int) -> _Windows:
        """Each window ``times`` times in a row (one per sample path)."""
        return _Windows(*(tensor.repeat_interleave(times, dim=0) for tensor in vars(self).values()))


class Forecaster:
    """A DeepAR network with its config: trains on windows, samples forecasts of series."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.layout = config.layout
        self.likelihood = LIKELIHOODS[config.likelihood]()
        self.network = DeepARNetwork(config, self.likelihood.num_params)

    def loss(self, batch: Batch) -> Tensor:
        """The mean loss over the observed values of the windows' context and forecast range,
        each predicted from the true values before it."""
        windows = self._windows(batch)
        steps = self.layout.unrolled
        raw, _ = self.network.unroll(self._inputs(windows, steps))
        target = windows.target[:, steps.start : steps.stop]
        observed = ~torch.isnan(target)
        losses = self.likelihood.loss(raw, windows.scale, torch.where(observed, target, torch.zeros_like(target)))
        return torch.where(observed, losses, torch.zeros_like(losses)).sum() / observed.sum().clamp(min=1)

    @torch.no_grad()
    def sample(self, series: Sequence[Series], num_samples: int) -> np.ndarray:
        """``num_samples`` forecast paths of ``prediction_length`` values after each series'
        end: (len(series), num_samples, prediction_length). Each path feeds its own draws back."""
        self.network.eval()
        per_pass = max(1, _ROWS_PER_PASS // num_samples)
        parts = [self._sample(series[first : first + per_pass], num_samples) for first in range(0, len(series), per_pass)]
        return np.concatenate(parts) if parts else np.zeros((0, num_samples, self.layout.prediction_length), np.float32)

    def save(self, directory: Path) -> None:
        """Write ``model.json`` and ``model.npz`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        self.config.save(directory)
        weights = {name: value.detach().numpy() for name, value in self.network.state_dict().items()}
        np.savez(directory / WEIGHTS_FILE, **weights)

    @classmethod
    def load(cls, directory: Path) -> Forecaster:
        """The model saved in ``directory``."""
        forecaster = cls(ModelConfig.load(directory))
        with np.load(directory / WEIGHTS_FILE) as weights:
            forecaster.network.load_state_dict({name: torch.from_numpy(weights[name]) for name in weights.files})
        forecaster.network.eval()
        return forecaster

    def _sample(self, series: Sequence[Series], num_samples: int) -> np.ndarray:
        layout = self.layout
        padded = [Padded.of(item, layout, future=True) for item in series]
        windows = self._windows(Batch.of(padded, [len(item) for item in series], layout))
        _, state = self.network.unroll(self._inputs(windows, range(max(layout.lags), layout.history)))
        paths = windows.repeat(num_samples)
        state = [(hidden.repeat_interleave(num_samples, 0), memory.repeat_interleave(num_samples, 0)) for hidden, memory in state]
        for step in range(layout.history, layout.length):
            raw, state = self.network.unroll(self._inputs(paths, range(step, step + 1)), state)
            paths.target[:, step] = self.likelihood.sample(raw[:, 0], paths.scale[:, 0])
        forecast = paths.target[:, layout.history :]
        return forecast.reshape(len(series), num_samples, layout.prediction_length).numpy()

    def _windows(self, batch: Batch) -> _Windows:
        target = torch.from_numpy(batch.target)
        return _Windows(
            target=target,
            time_features=torch.from_numpy(batch.time_features),
            dynamic_feat=torch.from_numpy(batch.dynamic_feat),
            cat=torch.from_numpy(batch.cat),
            scale=self._scale(target),
        )

    def _scale(self, target: Tensor) -> Tensor:
        """Each window's mean absolute observed context value (1 where there is none): (B, 1)."""
        if not self.likelihood.scaled:
            return torch.ones(target.shape[0], 1)
        start = max(self.layout.lags)
        context = target[:, start : start + self.layout.context_length]
        observed = ~torch.isnan(context)
        total = torch.where(observed, context.abs(), torch.zeros_like(context)).sum(dim=1, keepdim=True)
        mean = total / observed.sum(dim=1, keepdim=True).clamp(min=1)
        return torch.where(mean > 0, mean, torch.ones_like(mean))

    def _inputs(self, windows: _Windows, steps: range) -> Tensor:
        """The network inputs of window indices ``steps``."""
        index = torch.tensor([[step - lag for lag in self.layout.lags] for step in steps])
        lagged = windows.target[:, index] / windows.scale.unsqueeze(2)
        return self.network.inputs(
            lagged,
            windows.time_features[:, steps.start : steps.stop],
            windows.dynamic_feat[:, steps.start : steps.stop],
            windows.cat,
            windows.scale.log(),
        )
