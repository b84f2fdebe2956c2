"""Shared by tests: fit results whose "posterior" is a few prior draws of the model."""

from __future__ import annotations

import jax
import numpy as np
from numpyro.infer import Predictive

import mmm_jax as mj
from mmm_jax.fit import _problem
from mmm_jax.model import make_model


def prior_result(spec, data, sampler=None, n: int = 4):
    """A FitResult whose "posterior" is ``n`` prior draws of ``spec``'s model: every site has the
    shape a real fit of this spec would give, without running NUTS."""
    p = _problem(spec, data)
    model = make_model(spec, p.dims)
    draws = Predictive(model, num_samples=n)(jax.random.PRNGKey(0), p.inputs, None)
    # the latent and deterministic sites a fit keeps (not the observation or prior factors)
    samples = {k: np.asarray(v)[None] for k, v in draws.items()
               if k != "y" and not k.endswith("_prior")}
    stats = {k: np.zeros((1, n), dtype) for k, dtype in (
        ("diverging", bool), ("num_steps", np.int64), ("tree_depth", np.int64),
        ("accept_prob", np.float32), ("potential_energy", np.float32),
        ("energy", np.float32), ("step_size", np.float32))}
    return mj.FitResult.create(spec, data, sampler or mj.SamplerConfig(), 3, samples, stats)
