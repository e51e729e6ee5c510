"""DeepAR's network: a stack of LSTM cells with zoneout over lagged, scaled values and covariates."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from shipyard.algorithms.deepar.config import ModelConfig

State = list[tuple[Tensor, Tensor]]


class DeepARNetwork(nn.Module):
    """Per step: lagged values (with observed flags), date features, dynamic features, category
    embeddings and the log of the series' scale in; the likelihood's raw parameters out."""

    def __init__(self, config: ModelConfig, num_params: int) -> None:
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(count, config.embedding_dimension) for count in config.cardinality)
        input_size = (
            2 * len(config.lags)
            + len(config.frequency.feature_names)
            + config.num_dynamic_feat
            + config.embedding_dimension * len(config.cardinality)
            + 1
        )
        self.cells = nn.ModuleList(
            nn.LSTMCell(input_size if layer == 0 else config.num_cells, config.num_cells)
            for layer in range(config.num_layers)
        )
        self.projection = nn.Linear(config.num_cells, num_params)
        self.zoneout = config.dropout_rate

    def inputs(self, lagged: Tensor, time_features: Tensor, dynamic_feat: Tensor, cat: Tensor, log_scale: Tensor) -> Tensor:
        """Step inputs (B, n, F) from scaled ``lagged`` values (B, n, lags; NaN where unobserved),
        ``time_features`` (B, n, t), ``dynamic_feat`` (B, n, d), ``cat`` (B, c) and ``log_scale`` (B, 1)."""
        observed = ~torch.isnan(lagged)
        values = torch.where(observed, lagged, torch.zeros_like(lagged))
        static = torch.cat([embed(cat[:, index]) for index, embed in enumerate(self.embeddings)] + [log_scale], dim=1)
        steps = lagged.shape[1]
        return torch.cat(
            [values, observed.float(), time_features, dynamic_feat, static.unsqueeze(1).expand(-1, steps, -1)], dim=2
        )

    def unroll(self, inputs: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """The raw likelihood parameters (B, n, num_params) of each step, and the last state."""
        if state is None:
            zeros = inputs.new_zeros(inputs.shape[0], self.projection.in_features)
            state = [(zeros, zeros) for _ in self.cells]
        outputs = []
        for step in range(inputs.shape[1]):
            layer_input = inputs[:, step]
            next_state = []
            for cell, (hidden, memory) in zip(self.cells, state, strict=True):
                new_hidden, new_memory = cell(layer_input, (hidden, memory))
                new_hidden, new_memory = self._zone_out(hidden, new_hidden), self._zone_out(memory, new_memory)
                next_state.append((new_hidden, new_memory))
                layer_input = new_hidden
            state = next_state
            outputs.append(layer_input)
        return self.projection(torch.stack(outputs, dim=1)), state

    def _zone_out(self, previous: Tensor, new: Tensor) -> Tensor:
        """Zoneout: in training, each unit keeps its previous value with probability ``zoneout``."""
        if not self.training or self.zoneout == 0:
            return new
        keep = torch.rand_like(new) < self.zoneout
        return torch.where(keep, previous, new)
