"""Projection onto the feasible spend plans (Euclidean or diagonal metric), float64 exactness.

A plan ``z`` has shape ``(S, C)``: ``S`` slots (periods and/or geos) per channel ``c``. The
feasible set is::

    z >= 0,   lower[c] <= sum_s z[s, c] <= upper[c],   sum_{s, c} z[s, c] == total

(the last constraint only when the total is fixed). By the KKT conditions the projection of
``y`` is ``z[s, c] = max(y[s, c] - nu[c], 0)`` where each channel's total is
``t[c] = clip(T_c(mu), lower[c], upper[c])`` with ``T_c(mu) = sum_s max(y[s, c] - mu, 0)``
and ``mu`` the multiplier of the total (``mu = 0`` when the total is free). ``sum_c t[c]`` is
non-increasing and piecewise linear in ``mu``: with one slot per channel its kinks are known and
``mu`` is interpolated exactly between them; otherwise it is found by bisection followed by one
secant step (exact on the final linear piece). Each channel is then projected onto its simplex
of radius ``t[c]`` with :func:`optax.projections.projection_simplex`. With ``S = 1`` this is the
classic projection onto the budget simplex intersected with the box ``[lower, upper]``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["exact_plan", "project"]

_SNAP = 1e-9  # exact_plan: channel totals this close (x the budget) to a bound snap to it
_BISECTIONS = 60  # halvings of the multiplier's bracket (enough for float64), then a secant


def _root(fn, target, lo, hi):
    """``x`` with ``fn(x) == target`` for a non-increasing, piecewise-linear ``fn`` given
    ``fn(lo) >= target >= fn(hi)``; elementwise when ``lo``/``hi``/``target`` are arrays.
    Bisection, then one secant step, exact on the final linear piece."""
    def halve(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        above = fn(mid) >= target
        return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

    lo, hi = jax.lax.fori_loop(0, _BISECTIONS, halve, (lo, hi))
    f_lo, f_hi = fn(lo), fn(hi)
    gap = f_lo - f_hi
    return jnp.where(gap > 0, lo + (hi - lo) * (f_lo - target) / jnp.where(gap > 0, gap, 1), lo)


def _root_at_kinks(fn, target, kinks):
    """As :func:`_root`, for ``fn`` linear between the given ``kinks`` (one of which has
    ``fn >= target`` and one ``fn <= target``): evaluate at every kink, interpolate. Exact,
    loop-free; used when there is one slot per channel (``2 C + 1`` kinks)."""
    kinks = jnp.sort(kinks)
    values = jax.vmap(fn)(kinks)  # non-increasing
    i = jnp.clip(jnp.sum(values >= target) - 1, 0, kinks.shape[0] - 2)
    lo, hi, f_lo, f_hi = kinks[i], kinks[i + 1], values[i], values[i + 1]
    gap = f_lo - f_hi
    return jnp.where(gap > 0, lo + (hi - lo) * (f_lo - target) / jnp.where(gap > 0, gap, 1), lo)


def project(y, lower, upper, total, *, fixed_total: bool, weights=None) -> jax.Array:
    """Project a plan onto ``{z >= 0, lower <= channel totals <= upper, sum z == total}``.

    Minimises ``sum(weights * (z - y) ** 2)`` (Euclidean when ``weights`` is None; a
    diagonal metric gives the projected-Newton step of the solver).

    Args:
        y: ``(S, C)`` plan (any real values).
        lower, upper: ``(C,)`` bounds on each channel's total (``0 <= lower <= upper``;
            ``upper`` may be ``inf``). total: scalar, the budget (ignored unless
            ``fixed_total``); the caller checks ``sum(lower) <= total <= sum(upper)``.
        fixed_total: enforce ``sum z == total``; otherwise only the bounds.
        weights: ``(S, C)`` positive metric, or None.

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
    w = jnp.ones_like(y) if weights is None else jnp.asarray(weights, y.dtype)

    def channel_totals(nu):  # T_c(nu) = sum_s max(y - nu / w, 0), per channel
        return jax.nn.relu(y - nu / w).sum(0)

    def spent(m):
        return jnp.clip(channel_totals(m), lower, upper).sum()

    low_mu, high_mu = (w * (y - total)).min() - 1, (w * y).max()  # spent >= / <= total
    if fixed_total and y.shape[0] == 1:
        # kinks where a channel leaves its lower or upper bound
        kinks = jnp.concatenate([w[0] * (y[0] - lower),
                                 jnp.where(jnp.isfinite(upper), w[0] * (y[0] - upper), low_mu),
                                 low_mu[None], high_mu[None]])
        mu = _root_at_kinks(spent, total, kinks)
    elif fixed_total:
        mu = _root(spent, total, low_mu, high_mu)
    else:
        mu = jnp.zeros((), y.dtype)
    t = jnp.clip(channel_totals(mu), lower, upper)
    if y.shape[0] == 1:
        return t[None, :]
    positive = t > 0
    if weights is None:
        safe_t = jnp.where(positive, t, 1)
        z = jax.vmap(optax.projections.projection_simplex, in_axes=(1, 0), out_axes=1)(y, safe_t)
    else:
        nu = _root(channel_totals, t, (w * (y - t)).min(0) - 1, (w * y).max(0))
        z = jax.nn.relu(y - nu / w)
        z = z * (t / jnp.where(positive, z.sum(0), 1))  # exact channel totals
    return jnp.where(positive, z, 0)


def exact_plan(z, lower, upper, total=None, fallback=None) -> np.ndarray:
    """Make a (nearly) feasible plan exactly feasible in float64.

    Channel totals within ``1e-9`` x the budget of a bound snap to it, then the budget
    residual (float rounding) is spread over the channels strictly inside their bounds
    (others only if needed), in proportion to their spend; each channel's slots are rescaled
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
    snap = _SNAP * (old.sum() if total is None else total)
    t = np.where(np.abs(old - lower) <= snap, lower, np.where(np.abs(old - upper) <= snap,
                                                               upper, old))
    t = np.clip(t, lower, upper)
    inside = (t > lower) & (t < upper)  # the residual goes to these first
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
            weight = np.where(inside & (room > 0), np.minimum(t, room), 0.0)
            if weight.sum() <= 0:
                weight = np.minimum(room, abs(residual))
            if weight.sum() <= 0:
                break
            t = np.clip(t + residual * weight / weight.sum(), lower, upper)
    s = z.shape[0]
    fallback = np.full(z.shape, 1.0 / s) if fallback is None else np.asarray(fallback, float)
    shares = np.where(old > 0, z / np.where(old > 0, old, 1.0), fallback)
    return _match_totals(shares * t, t, lower, upper)


def _match_totals(plan, t, lower, upper) -> np.ndarray:
    """``plan`` (``(S, C)``, columns meant to sum to ``t``) with each column's largest slot
    nudged so that its float64 sum is ``t`` as nearly as rounding allows and lies in
    ``[lower, upper]`` exactly (``shares * t`` sums to ``t`` only up to a few ulps)."""
    plan = plan.copy()
    cols = np.arange(plan.shape[1])
    top = plan.argmax(0)
    for _ in range(4):  # move the rounding error onto the largest slot
        off = plan.sum(0) - t
        if not off.any():
            break
        plan[top, cols] = np.maximum(plan[top, cols] - off, 0.0)
    for _ in range(16):  # whatever rounding is left: step the largest slot into the bounds
        s = plan.sum(0)
        over, under = s > upper, s < lower
        if not (over | under).any():
            break
        v = plan[top, cols]
        plan[top, cols] = np.where(over, np.minimum(v - (s - upper), np.nextafter(v, -np.inf)),
                                   np.where(under, np.maximum(v + (lower - s),
                                                              np.nextafter(v, np.inf)), v))
    return plan
