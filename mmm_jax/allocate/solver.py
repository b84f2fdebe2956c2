"""The allocation objective and its optimiser: projected Adam (optax), multi-start, jitted.

The decision variable is a spend plan ``z`` of shape ``(Gz, P, C)`` in currency: ``Gz`` is 1
for a national plan (split over geos by fixed shares) or ``G`` for a per-geo plan, ``P`` is 1
for a fixed weekly shape or ``n_periods`` for free flighting. Spend becomes unit-scale media
through ``Problem.factor`` (geo share / (cost per media unit x media scale)).

Objective, with ``K`` the total incremental KPI per draw (:func:`draw_totals`)::

    value * risk(K) - spend_weight * sum(z)

``risk`` is the posterior mean, a lower ``level``-quantile, or the CVaR (mean of the lowest
``level`` fraction of draws). ``spend_weight = 1`` gives profit; with a fixed total it is a
constant and changes nothing.

Method: the plan is scaled by ``Problem.unit`` (the budget) and the objective by
``Problem.scale`` so that one learning rate fits every dataset; each step takes an Adam
ascent step on the objective's autodiff gradient and projects back onto the feasible set
(:func:`mmm_jax.allocate.projection.project`), with an exponentially decaying learning rate.
Several starts run side by side (``vmap``); the whole solve is one compiled program per
:class:`Settings` and array shapes, so a new budget, bounds or starts never recompile.
Convergence is measured by the projected-gradient norm ``max |P(u + g) - u|`` in the scaled
units (0 exactly at a KKT point).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from mmm_jax.allocate.projection import project
from mmm_jax.allocate.response import Response, plan_kpi

__all__ = ["RISKS", "Problem", "Settings", "SolveInfo", "draw_totals", "evaluate", "objective",
           "solve"]

RISKS = ("mean", "quantile", "cvar")
_ETA = 0.2  # step of the gradient mapping, as a fraction of the mean plan entry


class Problem(NamedTuple):
    """Numeric problem data (traced: changing any of it reuses the compiled solver).

    Attributes:
        lower, upper: ``(C,)`` bounds on each channel's total spend over the plan.
        budget: total spend (used when ``Settings.fixed_total``).
        factor: ``(G, C)`` unit-scale media per unit of spend in each geo.
        value: value of one KPI unit. spend_weight: 1 to subtract spend (profit), else 0.
        level: tail probability of the quantile / CVaR risk.
        unit: spend unit of the optimiser's scaled variable (the budget or a reference total).
        scale: objective scale for the optimiser (about the objective at the start).
    """

    lower: jax.Array
    upper: jax.Array
    budget: jax.Array
    factor: jax.Array
    value: jax.Array
    spend_weight: jax.Array
    level: jax.Array
    unit: jax.Array
    scale: jax.Array


@dataclasses.dataclass(frozen=True)
class Settings:
    """Static choices (each distinct value compiles once).

    Attributes:
        saturation: the model's saturation name. risk: one of :data:`RISKS`.
        fixed_total: the plan must spend exactly ``Problem.budget``.
        steps: most optimiser iterations. tol: stop when the projected-gradient norm is below.
        learning_rate: initial Adam step as a fraction of the mean plan entry (the scaled plan
            sums to about 1 over its ``n`` entries, so the step is ``learning_rate / n``).
        final_rate: the learning rate decays exponentially to ``learning_rate * final_rate``
            over ``steps``.
    """

    saturation: str
    risk: str = "mean"
    fixed_total: bool = True
    steps: int = 400
    tol: float = 1e-5
    learning_rate: float = 0.25
    final_rate: float = 1e-3

    def __post_init__(self):
        if self.risk not in RISKS:
            raise ValueError(f"risk={self.risk!r}; use one of {RISKS}")


class SolveInfo(NamedTuple):
    """What :func:`solve` returns, per start (leading axis ``K``).

    Attributes:
        plan: ``(K, Gz, P, C)`` final plans (feasible up to float rounding).
        value: ``(K,)`` final objective values (original units).
        history: ``(K, steps)`` objective value at each iteration (scaled units).
        pg_norm: ``(K,)`` projected-gradient norm at the final plan (scaled units).
        steps: ``(K,)`` iterations taken.
    """

    plan: jax.Array
    value: jax.Array
    history: jax.Array
    pg_norm: jax.Array
    steps: jax.Array


def draw_totals(plan, response: Response, problem: Problem, saturation: str) -> jax.Array:
    """``(D, G, C)`` incremental KPI of a spend plan ``(Gz, P, C)`` per draw, geo, channel."""
    return plan_kpi(plan * problem.factor[:, None, :], response, saturation)


def _risk(totals, level, risk: str):
    if risk == "mean":
        return totals.mean()
    if risk == "quantile":
        return jnp.quantile(totals, level)
    # CVaR: mean of the lowest `level` fraction (a fractional weight on the boundary draw).
    k = level * totals.shape[0]
    weights = jnp.clip(k - jnp.arange(totals.shape[0], dtype=totals.dtype), 0, 1) / k
    return (jnp.sort(totals) * weights).sum()


def objective(plan, response: Response, problem: Problem, settings: Settings) -> jax.Array:
    """The scalar objective ``value * risk(total KPI) - spend_weight * sum(plan)``.

    Args:
        plan: ``(Gz, P, C)`` spend plan. response: per-draw terms
            (:func:`mmm_jax.allocate.response.build`). problem, settings: as above.

    Returns:
        Scalar objective in KPI value units.
    """
    totals = draw_totals(plan, response, problem, settings.saturation).sum((1, 2))
    return (problem.value * _risk(totals, problem.level, settings.risk)
            - problem.spend_weight * plan.sum())


def _projector(problem: Problem, settings: Settings, plan_shape):
    unit = problem.unit

    def proj(u):
        z = project(u.reshape(-1, plan_shape[-1]), problem.lower / unit, problem.upper / unit,
                    problem.budget / unit, fixed_total=settings.fixed_total)
        return z.reshape(plan_shape)

    return proj


@functools.partial(jax.jit, static_argnames=("settings",))
def solve(starts, response: Response, problem: Problem, settings: Settings) -> SolveInfo:
    """Maximise :func:`objective` from several starts by projected Adam.

    Args:
        starts: ``(K, Gz, P, C)`` feasible start plans (currency).
        response, problem, settings: as for :func:`objective`.

    Returns:
        A :class:`SolveInfo` per start.
    """
    plan_shape = starts.shape[1:]
    proj = _projector(problem, settings, plan_shape)

    def scaled(u):
        return objective(u * problem.unit, response, problem, settings) / problem.scale

    value_and_grad = jax.value_and_grad(scaled)
    mean_entry = 1.0 / math.prod(plan_shape)
    eta = _ETA * mean_entry
    schedule = optax.exponential_decay(settings.learning_rate * mean_entry, settings.steps,
                                       settings.final_rate)
    optimiser = optax.adam(schedule)

    def mapping(u, grad):
        # The gradient mapping (P(u + eta g) - u) / eta: zero exactly at a KKT point. Adam on
        # the raw gradient would fail: every channel's gradient is positive, Adam normalises
        # each coordinate to about +1, and the budget projection removes that constant shift.
        return (proj(u + eta * grad) - u) / eta

    def run(u0):
        def cond(carry):
            k, _, _, _, pg = carry
            return (k < settings.steps) & (pg > settings.tol)

        def step(carry):
            k, u, state, history, _ = carry
            value, grad = value_and_grad(u)
            g_map = mapping(u, grad)
            pg = jnp.abs(g_map).max()
            updates, new_state = optimiser.update(-g_map, state, u)
            moved = proj(optax.apply_updates(u, updates))
            done = pg <= settings.tol  # keep the iterate the test was made at
            u = jnp.where(done, u, moved)
            state = jax.tree.map(lambda a, b: jnp.where(done, a, b), state, new_state)
            return k + 1, u, state, history.at[k].set(value), pg

        history = jnp.full((settings.steps,), jnp.nan, u0.dtype)
        init = (jnp.zeros((), jnp.int32), u0, optimiser.init(u0), history,
                jnp.asarray(jnp.inf, u0.dtype))
        k, u, _, history, _ = jax.lax.while_loop(cond, step, init)
        value, grad = value_and_grad(u)
        pg = jnp.abs(mapping(u, grad)).max()
        return u * problem.unit, value * problem.scale, history, pg, k

    plan, value, history, pg, steps = jax.vmap(run)(jax.vmap(proj)(starts / problem.unit))
    return SolveInfo(plan, value, history, pg, steps)


@functools.partial(jax.jit, static_argnames=("settings",))
def evaluate(plan, response: Response, problem: Problem, settings: Settings) -> dict:
    """Per-draw KPI of a plan and the gradients used for marginal ROI and the KKT check.

    Args:
        plan: ``(Gz, P, C)`` spend plan; response, problem, settings as for :func:`objective`.

    Returns:
        dict with ``kpi`` ``(D, C)`` (summed over geos), ``kpi_geo`` ``(G, C)`` posterior
        mean, ``objective`` (scalar), ``grad_objective`` and ``grad_mean`` (``(Gz, P, C)``:
        d objective / d spend and d E[total KPI] / d spend).
    """
    def mean_total(z):
        return draw_totals(z, response, problem, settings.saturation).sum((1, 2)).mean()

    kpi = draw_totals(plan, response, problem, settings.saturation)
    value, grad_obj = jax.value_and_grad(objective)(plan, response, problem, settings)
    return {"kpi": kpi.sum(1), "kpi_geo": kpi.mean(0), "objective": value,
            "grad_objective": grad_obj, "grad_mean": jax.grad(mean_total)(plan)}
