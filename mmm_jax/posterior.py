"""Per-draw quantities on the posterior, vectorised over draws with ``jax.vmap``.

All functions take ``draws``: a dict site -> ``(D, ...)`` array (chains flattened) and return
arrays with a leading draw axis, on the unit scale unless a ``target_scale`` is applied.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from mmm_jax.model import baseline, lift_predictions, media_effects
from mmm_jax.spec import ModelSpec
from mmm_jax.transforms import carryover_weights, get_adstock

_BATCH = 256  # draws per vectorised batch: bounds memory for large geo models


def flatten_draws(samples: dict) -> dict:
    """``(chain, draw, ...)`` -> ``(chain * draw, ...)`` for every site."""
    return {k: np.reshape(v, (-1, *np.shape(v)[2:])) for k, v in samples.items()}


def thin(draws: dict, max_draws: int | None) -> dict:
    """Evenly spaced subset of at most ``max_draws`` draws (all when None)."""
    n = len(next(iter(draws.values())))
    if max_draws is None or n <= max_draws:
        return draws
    idx = np.linspace(0, n - 1, max_draws).round().astype(int)
    return {k: v[idx] for k, v in draws.items()}


def _map(fn, draws: dict):
    """``lax.map`` over draws in vmapped batches (bounded memory, one compiled program)."""
    return jax.lax.map(fn, draws, batch_size=_BATCH)


@functools.partial(jax.jit, static_argnames=("config", "n_geos"))
def channel_contributions(draws, media, target_scale, *, config: ModelSpec, n_geos):
    """``(D, [G,] T, C)`` media contributions in original KPI units."""
    scale = target_scale[..., None, None] if n_geos is not None else target_scale

    def one(p):
        return media_effects(p, media, config, n_geos) * scale

    return _map(one, draws)


@functools.partial(jax.jit, static_argnames=("config", "n_geos"))
def baselines(draws, inputs, target_scale, *, config: ModelSpec, n_geos):
    """``(D, [G,] T)`` baseline (everything but media) in original KPI units."""
    scale = target_scale[..., None] if n_geos is not None else target_scale
    return _map(lambda p: baseline(p, inputs, config, n_geos) * scale, draws)


@functools.partial(jax.jit, static_argnames=("config", "n_geos"))
def scaled_totals(draws, media, target_scale, multipliers, *, config: ModelSpec, n_geos):
    """Total contribution per channel when each channel's media is multiplied.

    Args:
        multipliers: ``(M,)`` factors applied to every channel's media.

    Returns:
        ``(D, M, C)`` total (over time and geos) incremental KPI in original units.
    """
    scale = target_scale[..., None, None] if n_geos is not None else target_scale

    def one(p):
        def at(m):
            eff = media_effects(p, media * m, config, n_geos) * scale
            return eff.reshape(-1, eff.shape[-1]).sum(0)

        return jax.vmap(at)(multipliers)

    return _map(one, draws)


@functools.partial(jax.jit, static_argnames=("config", "n_geos"))
def marginal_totals(draws, media, target_scale, *, config: ModelSpec, n_geos):
    """``(D, C)`` derivative of each channel's total contribution with respect to a
    proportional scaling of its media, at the historical level (forward-mode ``jvp``)."""
    scale = target_scale[..., None, None] if n_geos is not None else target_scale
    n_channels = media.shape[-1]

    def one(p):
        def total(m):
            eff = media_effects(p, media * m, config, n_geos) * scale
            return eff.reshape(-1, n_channels).sum(0)

        ones = jnp.ones((n_channels,), media.dtype)
        return jax.jvp(total, (ones,), (ones,))[1]

    return _map(one, draws)


@functools.partial(jax.jit, static_argnames=("config", "n_geos"))
def lift_draws(draws, inputs, *, config: ModelSpec, n_geos):
    """``(D, L)`` unit-scale lift of each lift test (``inputs`` holds the ``lift_*`` arrays of
    :func:`mmm_jax.lift_tests.lift_inputs`)."""
    return _map(lambda p: lift_predictions(p, inputs, config, n_geos), draws)


def decay_weights(draws: dict, config: ModelSpec, n_channels: int, max_lag: int):
    """``(D, max_lag, C)`` adstock weights per draw."""
    adstock = get_adstock(config.adstock)

    def one(p):
        return carryover_weights(config.adstock, {k: p[k] for k in adstock.params}, max_lag,
                                 n_channels=n_channels)

    return jax.jit(lambda d: _map(one, d))(draws)
