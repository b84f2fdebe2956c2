"""Labelled forecasts: the KPI and each channel's contribution in future periods, with HDIs.

The future periods are appended to the history and the whole series is run through the model,
so adstock carries over from the history into the future (as :meth:`~mmm_jax.MMM.predict`
does); the last ``T_f`` periods are kept. Everything is in original KPI units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmm_jax import posterior as post
from mmm_jax.metrics import HDI_PROB, hdi

__all__ = ["forecast_draws", "forecast_frame"]


def forecast_draws(model, future: pd.DataFrame, *, max_draws: int | None = None,
                   seed: int = 0, include_noise: bool = True) -> dict:
    """Per-draw forecast of a fitted model over the periods of ``future``.

    Args:
        model: a fitted :class:`~mmm_jax.MMM`.
        future: the periods right after the history (date, media, separate spend, controls,
            geo columns; no target), as for :meth:`~mmm_jax.MMM.predict`.
        max_draws: thin the posterior to at most this many draws (D).
        seed: seed of the observation noise (the same noise as ``predict(seed=seed)``).
        include_noise: add observation noise to ``kpi`` (else ``kpi`` is the expected KPI).

    Returns:
        dict with ``dates`` ``(T_f,)`` and, geo models with a geo axis G after the draws:
        ``kpi`` and ``expected`` ``(D, [G,] T_f)``, ``baseline`` ``(D, [G,] T_f)``,
        ``contributions`` ``(D, [G,] T_f, C)``; ``expected = baseline + contributions.sum(-1)``.

    Raises:
        ValueError: bad future data (names the column and the date), or an unfitted model.
    """
    model._require_fit()
    data = model.data
    fut = data.future_from_dataframe(future)
    draws = model._draws(max_draws)
    inputs = model._inputs(np.concatenate([data.dates, fut.dates]),
                           np.concatenate([data.media, fut.media], axis=-2),
                           np.concatenate([data.controls, fut.controls], axis=-2))
    scale, n_geos, n = model._target_scale(), model._n_geos(), fut.n_time
    contrib = np.asarray(post.channel_contributions(
        draws, inputs["media"], scale, config=model.config, n_geos=n_geos),
        dtype=np.float64)[..., -n:, :]
    base = np.asarray(post.baselines(draws, inputs, scale, config=model.config,
                                     n_geos=n_geos), dtype=np.float64)[..., -n:]
    expected = base + contrib.sum(-1)
    kpi = expected + model._noise(draws, expected.shape, seed) if include_noise else expected
    return {"dates": fut.dates, "kpi": kpi, "expected": expected, "baseline": base,
            "contributions": contrib}


def forecast_frame(model, future: pd.DataFrame, *, hdi_prob: float = HDI_PROB,
                   max_draws: int | None = None, seed: int = 0,
                   include_noise: bool = True) -> pd.DataFrame:
    """Mean and HDI of the forecast KPI and of each channel's contribution, one row a period.

    See :meth:`mmm_jax.MMM.forecast` for the columns; the arguments are those of
    :func:`forecast_draws` plus ``hdi_prob``.
    """
    d = forecast_draws(model, future, max_draws=max_draws, seed=seed,
                       include_noise=include_noise)
    data = model.data
    columns: dict[str, np.ndarray] = {}

    def add(name: str, draws: np.ndarray) -> None:
        low, high = hdi(draws, hdi_prob)
        columns[name] = draws.mean(0)
        columns[f"{name}_hdi_low"], columns[f"{name}_hdi_high"] = low, high

    add("kpi", d["kpi"])
    add("expected_kpi", d["expected"])
    columns["baseline"] = d["baseline"].mean(0)
    for j, channel in enumerate(data.channels):
        add(channel, d["contributions"][..., j])
    dates = pd.DatetimeIndex(d["dates"], name=data.date_name)
    if not data.is_geo:
        return pd.DataFrame(columns, index=dates)
    index = pd.MultiIndex.from_product([list(data.geos), dates],
                                       names=[data.geo_name, data.date_name])
    return pd.DataFrame({k: v.reshape(-1) for k, v in columns.items()}, index=index)
