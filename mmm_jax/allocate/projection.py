"""Euclidean projection onto the feasible spend plans, and a float64 exactness step.

A plan ``z`` has shape ``(S, C)``: ``S`` slots (periods and/or geos) per channel ``c``. The
feasible set is::

    z >= 0,   lower[c] <= sum_s z[s, c] <= upper[c],   sum_{s, c} z[s, c] == total

(the last constraint only when the total is fixed). By the KKT conditions the projection of
``y`` is ``z[s, c] = max(y[s, c] - nu[c], 0)`` where each channel's total is
``t[c] = clip(T_c(mu), lower[c], upper[c])`` with ``T_c(mu) = sum_s max(y[s, c] - mu, 0)``
and ``mu`` the multiplier of the total (``mu = 0`` when the total is free). ``sum_c t[c]`` is
non-increasing and piecewise linear in ``mu``: it is found by bisection followed by one secant
step (exact on the final linear piece); each channel is then projected onto its simplex of
radius ``t[c]`` with :func:`optax.projections.projection_simplex`. With ``S = 1`` this is the
classic projection onto the budget simplex intersected with the box ``[lower, upper]``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["exact_plan", "project"]

_BISECTIONS = 48


def _channel_totals(y, mu, lower, upper):
    return jnp.clip(jax.nn.relu(y - mu).sum(0), lower, upper)


def project(y, lower, upper, total, *, fixed_total: bool) -> jax.Array:
    """Project a plan onto ``{z >= 0, lower <= channel totals <= upper, sum z == total}``.

    Args:
        y: ``(S, C)`` plan (any real values).
        lower, upper: ``(C,)`` bounds on each channel's total (``0 <= lower <= upper``;
            ``upper`` may be ``inf``). total: scalar, the budget (ignored unless
            ``fixed_total``); the caller checks ``sum(lower) <= total <= sum(upper)``.
        fixed_total: enforce ``sum z == total``; otherwise only the bounds.

    Returns:
        ``(S, C)`` projected plan, same dtype as ``y``.

    Example:
        >>> import jax.numpy as jnp
        >>> z = project(jnp.array([[0.5, 0.2, -1.0]]), jnp.zeros(3), jnp.array([1.0, 0.3, 1.0]),
        ...             1.0, fixed_total=True)
        >>> [round(float(v), 6) for v in z[0]]
        [0.7, 0.3, 0.0]
    """
    y = jnp.asarray(y)
    lower = jnp.asarray(lower, y.dtype)
    upper = jnp.asarray(upper, y.dtype)
    total = jnp.asarray(total, y.dtype)
    if fixed_total:
        def excess(mu):
            return _channel_totals(y, mu, lower, upper).sum() - total

        def bisect(_, bracket):
            lo, hi = bracket
            mid = 0.5 * (lo + hi)
            above = excess(mid) >= 0
            return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

        lo, hi = jax.lax.fori_loop(0, _BISECTIONS, bisect, (y.min() - total - 1, y.max()))
        e_lo, e_hi = excess(lo), excess(hi)
        gap = e_lo - e_hi
        mu = jnp.where(gap > 0, lo + (hi - lo) * e_lo / jnp.where(gap > 0, gap, 1), lo)
    else:
        mu = jnp.zeros((), y.dtype)
    t = _channel_totals(y, mu, lower, upper)
    if y.shape[0] == 1:
        return t[None, :]
    positive = t > 0
    safe_t = jnp.where(positive, t, 1)
    z = jax.vmap(optax.projections.projection_simplex, in_axes=(1, 0), out_axes=1)(y, safe_t)
    return jnp.where(positive, z, 0)


def exact_plan(z, lower, upper, total=None, fallback=None) -> np.ndarray:
    """Make a (nearly) feasible plan exactly feasible in float64.

    Channel totals are clipped to the bounds, then the budget residual (float32 rounding,
    ~1e-7 relative) is spread over the channels with room; each channel's slots are rescaled
    to its total (slots of a zero-total channel that gains spend follow ``fallback``).

    Args:
        z: ``(S, C)`` plan. lower, upper: ``(C,)`` bounds on channel totals.
        total: the budget, or ``None`` when free. fallback: ``(S, C)`` per-channel slot shares
            (columns sum to 1), default equal shares.

    Returns:
        ``(S, C)`` float64 plan whose channel totals lie in ``[lower, upper]`` exactly and
        sum to ``total`` up to float64 rounding.

    Raises:
        ValueError: if the bounds cannot meet the total.

    Example:
        >>> exact_plan(np.array([[0.3, 0.7000001]]), np.zeros(2), np.ones(2), 1.0).sum()
        np.float64(1.0)
    """
    z = np.maximum(np.asarray(z, dtype=np.float64), 0.0)
    lower, upper = np.asarray(lower, np.float64), np.asarray(upper, np.float64)
    old = z.sum(0)
    t = np.clip(old, lower, upper)
    if total is not None:
        if lower.sum() > total * (1 + 1e-12) or upper.sum() < total * (1 - 1e-12):
            raise ValueError(f"bounds cannot meet the budget {total}: lower bounds sum to "
                             f"{lower.sum()}, upper bounds to {upper.sum()}")
        for _ in range(4):
            residual = total - t.sum()
            if residual == 0:
                break
            # spread over the channels with room, in proportion to their spend (so a channel
            # at 0 stays there unless no other channel has room)
            room = upper - t if residual > 0 else t - lower
            weight = np.where(room > 0, np.minimum(t, room), 0.0)
            if weight.sum() <= 0:
                weight = np.minimum(room, abs(residual))
            if weight.sum() <= 0:
                break
            t = np.clip(t + residual * weight / weight.sum(), lower, upper)
    s = z.shape[0]
    fallback = np.full(z.shape, 1.0 / s) if fallback is None else np.asarray(fallback, float)
    shares = np.where(old > 0, z / np.where(old > 0, old, 1.0), fallback)
    return shares * t
