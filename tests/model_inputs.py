"""Shared by the model and prior tests: a dataset's model inputs on the unit scale."""

from __future__ import annotations

import numpy as np

from mmm_jax.features import compute_scales, design
from mmm_jax.model import Dims


def model_inputs(data, config):
    """``(inputs, y, dims)`` of ``data`` for a model configured by ``config`` (float32)."""
    scales = compute_scales(data)
    inputs = design(data.dates, data.media, data.controls, scales,
                    period_days=data.period_days, n_fourier=config.seasonality_degree,
                    seasonality_period=config.seasonality_period, dtype=np.float32)
    lead = scales.target[:, None] if data.is_geo else scales.target
    y = (data.target / lead).astype(np.float32)
    dims = Dims(n_geos=data.n_geos if data.is_geo else None, n_channels=data.n_channels,
                n_controls=data.n_controls, n_fourier=2 * config.seasonality_degree,
                n_dow=6 if data.freq == "D" else 0)
    return inputs, y, dims
