"""The allocation optimiser: multi-start projected Adam (optax), then a projected Newton polish.

It maximises :func:`mmm_jax.allocate.objective.objective` over the feasible plans (budget
simplex intersected with the per-channel bounds). The plan is scaled by ``Problem.unit`` and
the objective by ``Problem.scale`` so that one set of step sizes fits every dataset. One
compiled program per :class:`~mmm_jax.allocate.objective.Settings` and array shapes: a new
budget, bounds or starts never recompile. The allocator runs it in float64.

1. **Search** (optax) -- every start runs projected Adam side by side (``vmap``) on an evenly
   thinned subset of ``Settings.search_draws`` draws. Each step feeds Adam the gradient
   mapping ``(P(u + eta g) - u) / eta`` (zero exactly at a KKT point) and projects the new
   iterate onto the feasible set (:func:`~mmm_jax.allocate.projection.project`, which uses
   ``optax.projections.projection_simplex``). Adam on the raw gradient would fail here: every
   channel's gradient is positive, Adam scales each coordinate to about +1 and the budget
   projection removes that constant shift. Several starts cope with S-shaped (Hill slope > 1)
   curves, whose objective has local optima.
2. **Polish** -- the start with the best objective over all draws is refined by projected
   Newton steps: the exact diagonal curvature (:func:`~mmm_jax.allocate.objective.curvature`;
   diagonal because the KPI is a sum over channels, exact for a fixed weekly shape) defines a
   metric ``|h|`` in which the Newton point is projected; the full step is taken when it
   passes an Armijo test, else the best of a few shorter ones. Adam alone approaches the
   optimum only slowly: its per-coordinate scaling shrinks the steps of channels that are
   being driven to a bound.

Convergence: the projected-gradient norm ``max |P(u + eta g) - u| / eta`` (scaled units, 0
exactly at a KKT point) and the Newton decrement (the scaled objective gain the next step
promises).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mmm_jax.allocate.objective import Problem, Settings, curvature, draw_weights, objective
from mmm_jax.allocate.projection import project
from mmm_jax.allocate.response import Response

__all__ = ["SolveInfo", "solve"]

_ETA = 0.2  # step of the gradient mapping, as a fraction of the mean plan entry
_ARMIJO = 1e-4  # sufficient-increase factor of the polish's line search
_MIN_STEP = 0.02  # shortest secant step length of the line search
_BACKTRACK = (1.0, 0.25, 1 / 16, 1 / 256)  # its trial lengths, x the secant length
_GAIN_NOISE = 64  # objective changes within this many ulps of it count as ties
_CURVATURE_FLOOR = 1e-3  # smallest metric of the polish, x the median |curvature|
_LIFT = 1e-8  # the polish's curvature is taken at plan entries >= this x the mean entry


class SolveInfo(NamedTuple):
    """What :func:`solve` returns.

    Attributes:
        plan: ``(Gz, P, C)`` the polished best plan (feasible up to float rounding).
        value: its objective value (original units).
        pg_norm: its projected-gradient norm (scaled units).
        decrement: the Newton decrement of the last polish step (scaled units; ``inf`` when
            the polish took no step).
        search_steps: ``(K,)`` Adam iterations per start. newton_steps: polish iterations.
        stalled: the polish stopped because the Newton decrement fell below
            ``Settings.decrement_tol`` (optimal to working precision).
        start_values: ``(K,)`` objective (all draws) at each start's search result.
        history: ``(newton_steps + 1,)`` objective (scaled units) from the search result
            through each polish iteration (NaN after the last).
    """

    plan: jax.Array
    value: jax.Array
    pg_norm: jax.Array
    decrement: jax.Array
    search_steps: jax.Array
    newton_steps: jax.Array
    stalled: jax.Array
    start_values: jax.Array
    history: jax.Array


def _thin(response: Response, n: int) -> Response:
    d = response.base.shape[0]
    if d <= n:
        return response
    idx = np.linspace(0, d - 1, n).round().astype(int)
    return jax.tree.map(lambda a: a[idx], response)


@functools.partial(jax.jit, static_argnames=("settings",))
def solve(starts, response: Response, problem: Problem, settings: Settings) -> SolveInfo:
    """Maximise :func:`objective`: multi-start projected Adam search, then Newton polish.

    Args:
        starts: ``(K, Gz, P, C)`` start plans (currency; projected onto the feasible set).
        response, problem, settings: as for :func:`objective`.

    Returns:
        A :class:`SolveInfo`.
    """
    plan_shape = starts.shape[1:]
    unit, scale = problem.unit, problem.scale
    mean_entry = 1.0 / math.prod(plan_shape)
    eta = _ETA * mean_entry
    box = (problem.lower / unit, problem.upper / unit, problem.budget / unit)

    def proj(u, weights=None):
        flat = None if weights is None else weights.reshape(-1, plan_shape[-1])
        z = project(u.reshape(-1, plan_shape[-1]), *box, fixed_total=settings.fixed_total,
                    weights=flat)
        return z.reshape(plan_shape)

    search_resp = _thin(response, settings.search_draws)
    weights = draw_weights(response, problem, settings)
    search_weights = draw_weights(search_resp, problem, settings)

    def scaled(u, resp):
        w = search_weights if resp is search_resp else weights
        return objective(u * unit, resp, problem, settings, w) / scale

    def pg_norm(u, grad):
        # The gradient mapping (P(u + eta g) - u) / eta: zero exactly at a KKT point.
        return (proj(u + eta * grad) - u) / eta

    # 1. search: projected Adam from every start, on a subset of draws. (Adam on the raw
    # gradient would fail: every channel's gradient is positive, Adam scales each coordinate
    # to about +1 and the budget projection removes that constant shift; hence the mapping.)
    grad_fn = jax.value_and_grad(scaled)
    schedule = optax.exponential_decay(settings.learning_rate * mean_entry, settings.steps,
                                       settings.final_rate)
    optimiser = optax.adam(schedule)

    def search(u0):
        def cond(carry):
            k, _, _, pg = carry
            return (k < settings.steps) & (pg > settings.search_tol)

        def step(carry):
            k, u, state, _ = carry
            _, grad = grad_fn(u, search_resp)
            g_map = pg_norm(u, grad)
            updates, state = optimiser.update(-g_map, state, u)
            return k + 1, proj(optax.apply_updates(u, updates)), state, jnp.abs(g_map).max()

        init = (jnp.zeros((), jnp.int32), u0, optimiser.init(u0), jnp.asarray(jnp.inf, u0.dtype))
        k, u, _, _ = jax.lax.while_loop(cond, step, init)
        return u, k

    us, search_steps = jax.vmap(search)(jax.vmap(proj)(starts / unit))
    start_values = jax.vmap(lambda u: scaled(u, response))(us)
    best = jnp.argmax(jnp.where(jnp.isfinite(start_values), start_values, -jnp.inf))

    # 2. polish: projected Newton with the diagonal curvature and a line search, all draws.
    def slope(grad, direction):
        # with a fixed total the direction sums to 0 up to rounding, which times the common
        # gradient level would swamp the slope: measure the gradient from its mean
        if settings.fixed_total:
            grad = grad - grad.mean()
        return jnp.vdot(grad, direction)

    def polish_cond(carry):
        k, _, _, _, pg, stalled, _, _ = carry
        return (k < settings.newton_steps) & (pg > settings.tol) & ~stalled

    def polish_step(carry):
        k, u, value, grad, _, _, history, _ = carry
        # curvature at a plan lifted slightly off zero: at exactly zero media a Hill slope < 1
        # has infinite curvature, which would freeze a zero-spend channel in place
        lifted = jnp.maximum(u, _LIFT * mean_entry)
        h = curvature(lifted * unit, response, problem, settings, weights) * unit ** 2 / scale
        # |h|: Newton where the objective is concave; where it is convex (the S-shaped part
        # of a Hill curve) a step of the same scale uphill (as in saddle-free Newton); a
        # floor where it is flat. The line search shortens steps that overshoot.
        metric = jnp.maximum(jnp.abs(h), _CURVATURE_FLOOR * jnp.median(jnp.abs(h)) + 1e-30)
        direction = proj(u + grad / metric, metric) - u
        # Damped Newton: the full step when it passes the Armijo test (the usual case near
        # the optimum), else the best of a few shorter steps starting at the secant root of
        # the slope along the step (exact for a quadratic), or no step.
        slope0 = slope(grad, direction)
        value1, grad1 = grad_fn(u + direction, response)
        noise = _GAIN_NOISE * jnp.finfo(u.dtype).eps * (jnp.abs(value) + 1e-30)
        full = value1 >= value + _ARMIJO * slope0 - noise

        def backtrack():
            slope1 = slope(grad1, direction)
            secant = jnp.where(slope1 < 0, slope0 / jnp.where(slope1 < 0, slope0 - slope1, 1),
                               0.5)
            lengths = jnp.clip(secant, _MIN_STEP, 1.0) * jnp.asarray(_BACKTRACK, u.dtype)
            values = jax.vmap(lambda a: scaled(u + a * direction, response))(lengths)
            values = jnp.where(jnp.isfinite(values), values, -jnp.inf)
            best = jnp.argmax(values)
            length = jnp.where(values[best] >= value - noise, lengths[best], 0.0)
            new_value, new_grad = grad_fn(u + length * direction, response)
            return length, new_value, new_grad

        # Newton decrement: the objective gain (scaled units) the step promises. Below the
        # tolerance the plan is optimal to working precision even where one coordinate's
        # gradient still differs (a channel near zero spend whose curvature is huge).
        stalled = ~(slope0 > settings.decrement_tol)
        length, value, grad = jax.lax.cond(
            full | stalled, lambda: (jnp.where(stalled, 0.0, 1.0).astype(u.dtype),
                                     jnp.where(stalled, value, value1),
                                     jnp.where(stalled, grad, grad1)), backtrack)
        u = u + length * direction
        return (k + 1, u, value, grad, jnp.abs(pg_norm(u, grad)).max(), stalled,
                history.at[k + 1].set(value), slope0)

    u0 = us[best]
    value0, grad0 = grad_fn(u0, response)
    history = jnp.full((settings.newton_steps + 1,), jnp.nan, starts.dtype).at[0].set(value0)
    init = (jnp.zeros((), jnp.int32), u0, value0, grad0, jnp.abs(pg_norm(u0, grad0)).max(),
            jnp.zeros((), bool), history, jnp.asarray(jnp.inf, starts.dtype))
    k, u, value, _, pg, stalled, history, decrement = jax.lax.while_loop(
        polish_cond, polish_step, init)
    return SolveInfo(u * unit, value * scale, pg, decrement, search_steps, k, stalled,
                     start_values * scale, history)
