"""The allocation objective on the posterior: problem data, risk measures, curvature.

The decision variable is a spend plan ``z`` of shape ``(Gz, P, C)`` in currency: ``Gz`` is 1
for a national plan (split over geos by fixed shares) or ``G`` for a per-geo plan, ``P`` is 1
for a fixed weekly shape or ``n_periods`` for free flighting. Spend becomes unit-scale media
through ``Problem.factor`` (geo share / (cost per media unit x media scale)).

Objective, with ``K`` the total incremental KPI per draw (:func:`draw_totals`)::

    value * risk(K) - spend_weight * sum(z)

``risk`` is the posterior mean, a lower ``level``-quantile (Harrell-Davis), or the CVaR (mean
of the lowest ``level`` fraction of draws), see :func:`risk_weights`. ``spend_weight = 1``
gives profit; with a fixed total it is a constant and changes nothing.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from mmm_jax.allocate.response import Response, plan_kpi
from mmm_jax.transforms import get_saturation

__all__ = ["RISKS", "Problem", "Settings", "curvature", "draw_totals", "draw_weights", "evaluate",
           "objective", "risk_weights"]

RISKS = ("mean", "quantile", "cvar")


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
        steps: most Adam iterations of the search. learning_rate: its initial step as a
            fraction of the mean plan entry, decaying exponentially to ``learning_rate *
            final_rate`` over ``steps``. search_tol: the search stops below this
            projected-gradient norm. search_draws: draws used by the search.
        newton_steps: most polish iterations. tol: the polish stops below this norm, or
            when the Newton decrement (objective gain promised by the next step, scaled
            units) is below ``decrement_tol``.
    """

    saturation: str
    risk: str = "mean"
    fixed_total: bool = True
    steps: int = 50
    learning_rate: float = 0.25
    final_rate: float = 1e-2
    search_tol: float = 2e-2
    search_draws: int = 64
    newton_steps: int = 30
    tol: float = 1e-5
    decrement_tol: float = 1e-10

    def __post_init__(self):
        if self.risk not in RISKS:
            raise ValueError(f"risk={self.risk!r}; use one of {RISKS}")


def draw_totals(plan, response: Response, problem: Problem, saturation: str) -> jax.Array:
    """``(D, G, C)`` incremental KPI of a spend plan ``(Gz, P, C)`` per draw, geo, channel."""
    return plan_kpi(plan * problem.factor[:, None, :], response, saturation)


def risk_weights(n: int, level, risk: str, dtype) -> jax.Array | None:
    """Weights of the ascending order statistics of ``n`` draws defining the risk (None for
    the mean).

    ``"quantile"``: the Harrell-Davis estimator of the ``level`` quantile (weights
    ``I_{i/n}(a, b) - I_{(i-1)/n}(a, b)`` with ``a = level (n + 1)``, ``b = (1 - level)
    (n + 1)``): smooth in the draws, unlike the interpolated sample quantile, whose gradient
    jumps whenever two draws swap ranks. ``"cvar"``: the mean of the lowest ``level``
    fraction of draws (a fractional weight on the boundary draw), a concave function of
    the draws.
    """
    if risk == "mean":
        return None
    level = jnp.asarray(level, dtype)
    ranks = jnp.arange(n + 1, dtype=dtype)
    if risk == "quantile":
        cdf = jax.scipy.special.betainc(level * (n + 1), (1 - level) * (n + 1), ranks / n)
        w = jnp.diff(cdf)
    else:
        w = jnp.clip(level * n - ranks[:-1], 0, 1)
    return w / w.sum()


def _risk(totals, weights):
    return totals.mean() if weights is None else (jnp.sort(totals) * weights).sum()


def draw_weights(response: Response, problem: Problem, settings: Settings):
    """:func:`risk_weights` for the response's draws."""
    return risk_weights(response.base.shape[0], problem.level, settings.risk,
                        response.base.dtype)


def objective(plan, response: Response, problem: Problem, settings: Settings,
              weights=None) -> jax.Array:
    """The scalar objective ``value * risk(total KPI) - spend_weight * sum(plan)``.

    Args:
        plan: ``(Gz, P, C)`` spend plan. response: per-draw terms
            (:func:`mmm_jax.allocate.response.build`). problem, settings: as above.
        weights: :func:`risk_weights` for the response's draws (computed when None).

    Returns:
        Scalar objective in KPI value units.
    """
    if weights is None:
        weights = draw_weights(response, problem, settings)
    totals = draw_totals(plan, response, problem, settings.saturation).sum((1, 2))
    return problem.value * _risk(totals, weights) - problem.spend_weight * plan.sum()


def curvature(plan, response: Response, problem: Problem, settings: Settings,
              weights=None) -> jax.Array:
    """Diagonal of the objective's Hessian with respect to the plan, ``(Gz, P, C)``.

    Exact: the objective is ``sum_d w_d sum_{g,l,c} beta sat(a)`` with media ``a`` linear in
    the plan and ``w_d`` the risk's weight of draw ``d`` (locally constant), so the diagonal
    is ``sum w_d beta sat''(a) (da/dz)**2`` with ``sat''`` from nested forward-mode autodiff.
    """
    kernel = get_saturation(settings.saturation)
    media = plan * problem.factor[:, None, :]
    totals = draw_totals(plan, response, problem, settings.saturation).sum((1, 2))
    if weights is None:
        weights = draw_weights(response, problem, settings)
    weights = jax.grad(_risk)(totals, weights) * problem.value  # d risk / d draw total

    def one(r: Response, w):
        a = r.carry + jnp.einsum("plc,gpc->glc", r.impulse, media)
        ones = jnp.ones_like(a)

        def slope(x):
            return jax.jvp(lambda v: kernel(v, **r.sat), (x,), (ones,))[1]

        second = jax.jvp(slope, (a,), (ones,))[1]
        second = jnp.where(jnp.isfinite(second), second, 0)  # a ~ 0 (denormal) can overflow
        return jnp.einsum("glc,plc->gpc", w * r.beta[:, None, :] * second, r.impulse ** 2)

    h = jax.vmap(one)(response, weights).sum(0) * problem.factor[:, None, :] ** 2
    return h if plan.shape[0] == h.shape[0] else h.sum(0, keepdims=True)


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
