"""Posterior response surface of a future spend plan: incremental KPI per draw (pure JAX).

A plan gives media for ``n_periods`` future periods. Its *incremental KPI* is, per draw, the
media contribution over the horizon **and the** ``tail`` **periods after it** with the plan,
minus the same with zero media over the horizon; the historical media precede both::

    incremental = sum_{t < n + tail} contrib(hist ++ plan ++ 0)[t] - contrib(hist ++ 0 ++ 0)[t]

* Carryover *into* the horizon uses **all** of the history (exact for the geometric adstock,
  whose memory is infinite, and for the finite-window kernels). It matters through the
  saturation: a channel still saturated from past spend gains less from new spend.
* Carryover *out of* the horizon is counted over ``tail`` zero-spend periods (13 by default in
  the allocator: a quarter of weekly data, the window of the finite-lag kernels).

Every registered adstock is a linear, time-invariant filter, so
``adstock(history ++ plan) = adstock(history ++ 0) + adstock(0 ++ plan)``. The history part
(``carry``) and the adstocked response to one unit of media in each plan period
(``impulse``) are computed once per draw by :func:`build`; scoring a plan is then a small
contraction and the saturation (:func:`plan_kpi`), with no time recursion, so the optimiser's
objective and its gradient are cheap.

Shapes: ``D`` draws, ``G`` geos (1 for national models), ``C`` channels, ``L = n_periods +
tail`` scored periods and ``P`` plan slots per geo (1 when every channel follows a fixed weekly
shape, ``n_periods`` when each period is free).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from mmm_jax.model import geo_beta
from mmm_jax.spec import ModelSpec
from mmm_jax.transforms import get_adstock, get_saturation

__all__ = ["Response", "build", "plan_kpi"]


class Response(NamedTuple):
    """Per-draw arrays from which a plan's incremental KPI is cheap to compute (a pytree).

    Attributes:
        sat: saturation parameters, name -> ``(D, C)``.
        beta: ``(D, G, C)`` KPI units (target scale folded in) per unit of saturation.
        carry: ``(D, G, L, C)`` adstocked historical media over the scored periods (unit scale).
        impulse: ``(D, P, L, C)`` adstocked media in period ``l`` per unit of (unit-scale) media
            in plan slot ``p``.
        base: ``(D, G, C)`` KPI over the scored periods with no new media.
    """

    sat: dict
    beta: jax.Array
    carry: jax.Array
    impulse: jax.Array
    base: jax.Array


def _one_draw(params, history, pulses, target_scale, config: ModelSpec, n_geos):
    adstock, saturation = get_adstock(config.adstock), get_saturation(config.saturation)
    ad_params = {k: params[k] for k in adstock.params}
    sat_params = {k: params[k] for k in saturation.params}
    n_scored = pulses.shape[-2]
    padded = jnp.concatenate(
        [history, jnp.zeros(history.shape[:-2] + (n_scored, history.shape[-1]), history.dtype)],
        axis=-2)
    carry = adstock(padded, **ad_params)[..., -n_scored:, :]
    impulse = adstock(pulses, **ad_params)
    beta = geo_beta(params, n_geos).reshape(-1, history.shape[-1]) * target_scale[:, None]
    base = (beta[:, None, :] * saturation(carry, **sat_params)).sum(-2)
    return Response(sat_params, beta, carry, impulse, base)


def build(draws: dict, history, target_scale, *, config: ModelSpec, n_geos: int | None,
          n_periods: int, tail: int, shape=None) -> Response:
    """Precompute the per-draw terms of the response surface over a future horizon.

    Args:
        draws: site -> ``(D, ...)`` posterior draws (kernel parameters, ``beta`` and, for geo
            models, ``beta_geo_sd`` and ``beta_geo_raw``).
        history: ``(G, H, C)`` unit-scale historical media (``G = 1`` for national models).
        target_scale: ``(G,)`` KPI scale (the unit-scale KPI is multiplied by it).
        config: the model configuration (its adstock must be linear, as all registered ones are).
        n_geos: ``None`` for national models, else ``G``.
        n_periods: horizon length ``n``. tail: zero-spend periods scored after it.
        shape: ``(n, C)`` per-period share of each channel's horizon media (columns sum to 1)
            for a fixed weekly shape (``P = 1``), or ``None`` for one free slot per period
            (``P = n``).

    Returns:
        A :class:`Response` with leading draw axis ``D``.

    Example:
        >>> import jax.numpy as jnp
        >>> from mmm_jax.spec import ModelSpec
        >>> cfg = ModelSpec(adstock="geometric", saturation="michaelis_menten")
        >>> draws = {"alpha": jnp.full((2, 1), 0.5), "half_max": jnp.ones((2, 1)),
        ...          "beta": jnp.ones((2, 1))}
        >>> r = build(draws, jnp.ones((1, 4, 1)), jnp.ones(1), config=cfg, n_geos=None,
        ...           n_periods=2, tail=1)
        >>> r.impulse.shape, r.carry.shape
        ((2, 2, 3, 1), (2, 1, 3, 1))
    """
    history = jnp.asarray(history)
    dtype, n_channels = history.dtype, history.shape[-1]
    n_scored = n_periods + tail
    if shape is None:
        pulses = jnp.broadcast_to(jnp.eye(n_periods, n_scored, dtype=dtype)[:, :, None],
                                  (n_periods, n_scored, n_channels))
    else:
        shape = jnp.asarray(shape, dtype)
        pulses = jnp.concatenate([shape, jnp.zeros((tail, n_channels), dtype)])[None]
    return _build(draws, history, pulses, jnp.asarray(target_scale, dtype), config, n_geos)


@functools.partial(jax.jit, static_argnames=("config", "n_geos"))
def _build(draws, history, pulses, target_scale, config, n_geos):
    def one(p):
        return _one_draw(p, history, pulses, target_scale, config, n_geos)

    return jax.lax.map(one, draws, batch_size=256)


def plan_kpi(media, response: Response, saturation: str) -> jax.Array:
    """Incremental KPI of a plan, per draw, geo and channel.

    Args:
        media: ``(G, P, C)`` unit-scale media per plan slot (or ``(1, P, C)`` to broadcast).
        response: from :func:`build`.
        saturation: the model's saturation name.

    Returns:
        ``(D, G, C)`` incremental KPI in KPI units over the scored periods.

    Example:
        >>> import jax.numpy as jnp
        >>> from mmm_jax.spec import ModelSpec
        >>> cfg = ModelSpec(adstock="none", saturation="michaelis_menten")
        >>> draws = {"half_max": jnp.ones((1, 2)), "beta": jnp.array([[1.0, 2.0]])}
        >>> r = build(draws, jnp.zeros((1, 3, 2)), jnp.ones(1), config=cfg, n_geos=None,
        ...           n_periods=1, tail=0)
        >>> plan_kpi(jnp.array([[[1.0, 3.0]]]), r, "michaelis_menten")[0, 0]
        Array([0.5, 1.5], dtype=float32)
    """
    kernel = get_saturation(saturation)

    def one(r: Response):
        adstocked = r.carry + jnp.einsum("plc,gpc->glc", r.impulse, media)
        return (r.beta[:, None, :] * kernel(adstocked, **r.sat)).sum(-2) - r.base

    return jax.vmap(one)(response)

