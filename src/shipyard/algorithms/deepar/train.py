"""DeepAR's training (``python -m shipyard.algorithms.container deepar`` runs it).

Logs as SageMaker's DeepAR does: ``#quality_metric: host=algo-1, epoch=3, train loss
<loss>=...`` per epoch, ``train final_loss`` for the kept (lowest-loss) epoch, and with a
``test`` channel ``#test_score (algo-1, RMSE): ...``, ``mean_wQuantileLoss`` and each
``wQuantileLoss[τ]`` of ``test_quantiles``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.algorithms.container import TrainingContext, require_torch
from shipyard.algorithms.deepar import ALGORITHM
from shipyard.algorithms.deepar.frequency import Frequency
from shipyard.algorithms.deepar.metrics import parse_quantiles, score_forecasts
from shipyard.algorithms.deepar.series import Fields, Series, read_series
from shipyard.algorithms.errors import AlgorithmError

if TYPE_CHECKING:
    from shipyard.algorithms.deepar.forecaster import Forecaster


def fit(ctx: TrainingContext) -> None:
    """Train DeepAR on the train channel, score it on the test channel, save it."""
    hp = ctx.hyperparameters
    frequency = Frequency.parse(hp["time_freq"])
    try:
        levels = parse_quantiles(hp["test_quantiles"])
    except ValueError as error:
        raise AlgorithmError(f"Invalid value for hyperparameter test_quantiles: {error}") from None
    # The data is checked before torch loads (seconds), so that bad input fails fast.
    raw_train = read_series("train", ctx.channels["train"].path)
    fields = Fields.resolve(hp["cardinality"], hp["num_dynamic_feat"], raw_train)
    train_series = [fields.select(item) for item in raw_train]
    test_series = _read_test(ctx, fields, hp["prediction_length"])

    torch = require_torch(ALGORITHM)
    torch.set_num_threads(ctx.num_cpus)
    from shipyard.algorithms.deepar.config import ModelConfig
    from shipyard.algorithms.deepar.forecaster import Forecaster
    from shipyard.algorithms.deepar.training import Settings, train

    _check_likelihood(hp["likelihood"], {"train": train_series, "test": test_series})
    config = ModelConfig(
        time_freq=str(frequency),
        context_length=hp["context_length"],
        prediction_length=hp["prediction_length"],
        lags=tuple(frequency.lags(max(len(item) for item in train_series))),
        cardinality=fields.cardinality,
        num_dynamic_feat=fields.num_dynamic_feat,
        embedding_dimension=hp["embedding_dimension"],
        num_cells=hp["num_cells"],
        num_layers=hp["num_layers"],
        dropout_rate=hp["dropout_rate"],
        likelihood=hp["likelihood"],
    )
    ctx.log(f"Training on {len(train_series)} time series with lags {list(config.lags)}")
    settings = Settings(hp["epochs"], hp["learning_rate"], hp["mini_batch_size"], hp["early_stopping_patience"])
    torch.manual_seed(settings.seed)  # before the network's weights are drawn: the same data, the same model
    forecaster = Forecaster(config)
    outcome = train(
        forecaster,
        train_series,
        settings,
        lambda epoch, loss: ctx.log(f"#quality_metric: host={ctx.host}, epoch={epoch}, train loss <loss>={loss}"),
    )
    ctx.log(f"Final loss: {outcome.best_loss} (occurred at epoch {outcome.best_epoch})")
    ctx.quality_metric("train", "final_loss", outcome.best_loss)
    if test_series:
        for name, value in _evaluate(forecaster, test_series, hp, levels).items():
            ctx.log(f"#test_score ({ctx.host}, {name}): {value}")
    if ctx.is_leader:
        forecaster.save(ctx.model_dir)


def _check_likelihood(name: str, channels: dict[str, list[Series]]) -> None:
    from shipyard.algorithms.deepar.likelihoods import LIKELIHOODS

    likelihood = LIKELIHOODS[name]()
    for channel, series in channels.items():
        problem = likelihood.check(np.concatenate([item.target for item in series])) if series else None
        if problem:
            raise AlgorithmError(f"The {channel} channel does not fit likelihood {name}: {problem}")


def _read_test(ctx: TrainingContext, fields: Fields, horizon: int) -> list[Series]:
    channel = ctx.channel("test")
    if channel is None:
        return []
    series = []
    for index, item in enumerate(read_series("test", channel.path)):
        try:
            selected = fields.select(item)
        except ValueError as error:
            raise AlgorithmError(f"Test time series {index} does not match the training data: {error}") from None
        if len(selected) <= horizon:
            raise AlgorithmError(
                f"Test time series {index} has {len(selected)} values; test series must be longer than "
                f"prediction_length ({horizon}): their last prediction_length values are forecast"
            )
        series.append(selected)
    return series


def _evaluate(forecaster: Forecaster, series: list[Series], hp: dict[str, Any], levels: list[float]) -> dict[str, float]:
    """Forecast the last ``prediction_length`` values of each test series from the rest."""
    horizon = hp["prediction_length"]
    contexts = [replace(item, target=item.target[:-horizon]) for item in series]
    truth = np.stack([item.target[-horizon:] for item in series])
    return score_forecasts(truth, forecaster.sample(contexts, hp["num_eval_samples"]), levels)
