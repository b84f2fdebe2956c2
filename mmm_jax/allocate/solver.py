"""The allocation objective and its optimiser: multi-start projected Adam, then Newton polish.

The decision variable is a spend plan ``z`` of shape ``(Gz, P, C)`` in currency: ``Gz`` is 1
for a national plan (split over geos by fixed shares) or ``G`` for a per-geo plan, ``P`` is 1
for a fixed weekly shape or ``n_periods`` for free flighting. Spend becomes unit-scale media
through ``Problem.factor`` (geo share / (cost per media unit x media scale)).

Objective, with ``K`` the total incremental KPI per draw (:func:`draw_totals`)::

    value * risk(K) - spend_weight * sum(z)

``risk`` is the posterior mean, a lower ``level``-quantile (Harrell-Davis), or the CVaR (mean
of the lowest ``level`` fraction of draws), see :func:`risk_weights`. ``spend_weight = 1``
gives profit; with a fixed total it is a constant and changes nothing.

Method (one compiled program per :class:`Settings` and array shapes, so a new budget, bounds
or starts never recompile; the plan is scaled by ``Problem.unit`` and the objective by
``Problem.scale`` so one set of step sizes fits every dataset):

1. **Search** — every start runs projected Adam (``optax.adam``) side by side (``vmap``) on an
   evenly thinned subset of ``Settings.search_draws`` draws: each step feeds Adam the gradient
   mapping ``(P(u + eta g) - u) / eta`` (zero exactly at a KKT point) and projects the new
   iterate back onto the feasible set (:func:`~mmm_jax.allocate.projection.project`, budget
   simplex intersected with the bounds, via ``optax.projections.projection_simplex``).
   Several starts cope with S-shaped (Hill slope > 1) curves, whose objective has local
   optima.
2. **Polish** — the start with the best objective over all draws is refined by projected
   Newton steps with the exact diagonal curvature (the objective is a sum over channels of
   saturation terms, so the Hessian of a fixed-shape plan is diagonal): the step solves the
   projection in the metric ``|h|``, and a backtracking search over step lengths keeps every
   step an ascent step. This converges in a handful of iterations to the KKT point, which
   the Adam search alone approaches only slowly (its per-coordinate scaling shrinks the
   steps of channels that are being driven to a bound).

Convergence is measured by the projected-gradient norm ``max |P(u + eta g) - u| / eta`` in
scaled units (0 exactly at a KKT point).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mmm_jax.allocate.projection import project
from mmm_jax.allocate.response import Response, plan_kpi, plan_kpi_change
from mmm_jax.transforms import get_saturation

__all__ = ["RISKS", "Problem", "Settings", "SolveInfo", "curvature", "draw_totals", "evaluate",
           "objective", "objective_change", "risk_weights", "solve"]

RISKS = ("mean", "quantile", "cvar")
_ETA = 0.2  # step of the gradient mapping, as a fraction of the mean plan entry
_MIN_STEP = 0.02  # shortest secant step length of the polish's line search
_BACKTRACK = (1.0, 0.25, 1 / 16, 1 / 256, 0.0)  # its trial lengths, x the secant length
_GAIN_NOISE = 64  # objective changes within this many ulps of the objective count as 0
_CURVATURE_FLOOR = 1e-3  # smallest metric of the polish, x the median |curvature|
_LIFT = 1e-8  # the polish's curvature is taken at plan entries >= this x the mean entry


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
    steps: int = 200
    learning_rate: float = 0.25
    final_rate: float = 1e-2
    search_tol: float = 1e-2
    search_draws: int = 128
    newton_steps: int = 30
    tol: float = 1e-5
    decrement_tol: float = 1e-10

    def __post_init__(self):
        if self.risk not in RISKS:
            raise ValueError(f"risk={self.risk!r}; use one of {RISKS}")


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


def _weights(response: Response, problem: Problem, settings: Settings):
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
        weights = _weights(response, problem, settings)
    totals = draw_totals(plan, response, problem, settings.saturation).sum((1, 2))
    return problem.value * _risk(totals, weights) - problem.spend_weight * plan.sum()


def objective_change(plan, new_plan, response: Response, problem: Problem,
                     settings: Settings, weights=None) -> jax.Array:
    """``objective(new_plan) - objective(plan)``, accurate for small changes in float32.

    Exact in differences for the mean; for a quantile / CVaR the draws are re-ranked at the
    new plan, whose per-draw totals are the old ones plus the accurately differenced change.
    """
    factor = problem.factor[:, None, :]
    old = draw_totals(plan, response, problem, settings.saturation).sum((1, 2))
    change = plan_kpi_change(plan * factor, new_plan * factor, response,
                             settings.saturation).sum((1, 2))
    if settings.risk == "mean":
        risk_change = change.mean()
    else:
        if weights is None:
            weights = _weights(response, problem, settings)
        risk_change = _risk(old + change, weights) - _risk(old, weights)
    return problem.value * risk_change - problem.spend_weight * (new_plan.sum() - plan.sum())


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
        weights = _weights(response, problem, settings)
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
    weights = _weights(response, problem, settings)
    search_weights = _weights(search_resp, problem, settings)

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
        # Line search over trial lengths: the full step; the secant root of the slope along
        # the step when the slope is negative at its end (exact for a quadratic); and
        # shorter ones. The largest gain wins; when every gain is within rounding (near the
        # optimum) the secant length is taken, as slopes stay accurate there.
        slope0 = slope(grad, direction)
        value1, grad1 = grad_fn(u + direction, response)
        slope1 = slope(grad1, direction)
        full = slope1 >= 0
        secant = jnp.where(full, 1.0, jnp.clip(slope0 / jnp.where(full, 1, slope0 - slope1),
                                               _MIN_STEP, 1.0))
        lengths = jnp.concatenate([jnp.ones((1,), u.dtype),
                                   secant * jnp.asarray(_BACKTRACK, u.dtype)])
        gains = jax.vmap(lambda a: objective_change(
            u * unit, (u + a * direction) * unit, response, problem, settings, weights))(lengths)
        gains = jnp.where(jnp.isfinite(gains), gains, -jnp.inf)
        noise = _GAIN_NOISE * jnp.finfo(gains.dtype).eps * (jnp.abs(value) * scale + 1e-30)
        pick = jnp.where(gains.max() > noise, jnp.argmax(gains), 1)
        # Newton decrement: the objective gain (scaled units) the step promises. Below the
        # tolerance the plan is optimal to working precision even where one coordinate's
        # gradient still differs (a channel near zero spend whose curvature is huge).
        stalled = ~(slope0 > settings.decrement_tol)
        length = jnp.where(stalled, 0.0, lengths[pick])
        u = u + length * direction
        value, grad = jax.lax.cond(length == 1, lambda: (value1, grad1),
                                   lambda: grad_fn(u, response))
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
