"""Shared by the model and prior tests: a dataset's model inputs on the unit scale."""

from __future__ import annotations

import numpy as np

from mmm_jax.fit import _problem


def model_inputs(data, config):
    """``(inputs, y, dims)`` of ``data`` for a model configured by ``config`` (float32), laid
    out exactly as a fit lays them out."""
    p = _problem(config, data)
    return p.inputs, np.asarray(p.y, np.float32), p.dims
