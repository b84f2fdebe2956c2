"""The allocator's driver: cached setup, problem data, multi-start solve, target-ROI search."""

from __future__ import annotations

import dataclasses
import time
import weakref
from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np
import pandas as pd

from mmm_jax import caches
from mmm_jax.allocate.constraints import channel_bounds, check_feasible
from mmm_jax.allocate.objective import Problem, Settings, evaluate
from mmm_jax.allocate.options import AllocationOptions
from mmm_jax.allocate.projection import exact_plan
from mmm_jax.allocate.report import build_result
from mmm_jax.allocate.result import BudgetResult
from mmm_jax.allocate.setup import Setup, make_setup
from mmm_jax.allocate.solver import solve

__all__ = ["FREE_CAP", "allocate", "as_plan", "budget_setup", "clear_setups", "make_problem"]

FREE_CAP = 10.0  # free total: default cap per channel, x its larger of recent / typical spend
CONVERGED_PG = 1e-4          # converged: projected-gradient norm (scaled units) below, or
CONVERGED_DECREMENT = 1e-5   # the gain a further Newton step promises below this x objective
_CACHE_SIZE = 8
_GRID = 12        # target ROI: budgets on the coarse grid
_ROI_RTOL = 1e-3  # target ROI: relative width of the final budget bracket


def budget_setup(model, n_periods, tail, flighting, by_geo, max_draws, cost_per_unit) -> Setup:
    """:func:`make_setup`, cached per fit result and options (see :mod:`mmm_jax.caches`).

    The cache is keyed weakly by ``model.result``: a refit (a new result) builds new setups
    and a dropped result frees its own. Each result keeps its last ``_CACHE_SIZE`` option
    sets; :func:`mmm_jax.clear_caches` empties it.
    """
    result = model.result
    cache = _SETUPS.get(result)
    if cache is None:
        cache = _SETUPS[result] = {}
    cost_key = None if cost_per_unit is None else tuple(sorted(
        (str(k), float(v)) for k, v in dict(cost_per_unit).items()))
    key = (int(n_periods), int(tail), flighting, bool(by_geo), max_draws, cost_key)
    if key in cache:
        cache[key] = cache.pop(key)  # most recently used last
    else:
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = make_setup(model, int(n_periods), tail=int(tail), flighting=flighting,
                                by_geo=bool(by_geo), max_draws=max_draws,
                                cost_per_unit=cost_per_unit)
    return cache[key]


def clear_setups() -> None:
    """Drop every cached allocator setup."""
    _SETUPS.clear()


#: fit result -> {options key: Setup}; weak keys, so entries go with their result
_SETUPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
caches.register("allocator setups", clear_setups)


def make_problem(setup: Setup, *, lower, upper, budget, fixed, risk, value, spend_weight,
                 level, steps, unit=None, scale=1.0) -> tuple[Problem, Settings]:
    """The solver's traced :class:`Problem` and static :class:`Settings`."""
    dtype = setup.factor.dtype
    unit = float(budget) if unit is None else float(unit)

    def arr(x):
        return jnp.asarray(x, dtype)

    problem = Problem(lower=arr(lower), upper=arr(upper), budget=arr(budget), factor=setup.factor,
                      value=arr(value), spend_weight=arr(spend_weight), level=arr(level),
                      unit=arr(max(unit, 1e-30)), scale=arr(scale))
    return problem, Settings(saturation=setup.saturation, risk=risk, fixed_total=bool(fixed),
                             steps=int(steps))


def _starts(setup, reference, lower, upper, total, fixed, n_starts, seed, warm):
    rng = np.random.default_rng(seed)
    n = len(reference)
    totals = [np.clip(reference, lower, upper), np.full(n, total / n)]
    while len(totals) < n_starts:
        scale = total if fixed else total * rng.uniform(0.5, 2.0)
        totals.append(rng.dirichlet(np.ones(n)) * scale)
    plans = setup.plan_from_totals(np.stack(totals[:n_starts]))
    if warm is not None:  # replaces the last start, so the shapes (and the program) stay
        plans = np.concatenate([np.asarray(warm)[None] * (total / max(warm.sum(), 1e-300)),
                                plans[:-1]])
    return plans


def allocate(model, budget, n_periods, o: AllocationOptions, warm=None) -> BudgetResult:
    """Optimise a plan (checked :class:`AllocationOptions` ``o``, see
    :meth:`MMM.optimize_budget`)."""
    setup = budget_setup(model, n_periods, o.tail, o.flighting, o.by_geo, o.max_draws,
                         o.cost_per_unit)
    if o.target_roi is not None:
        return _target_roi(model, setup, n_periods, o)
    profit = o.objective == "profit" or o.target_mroi is not None
    fixed = budget is not None or not profit
    recent = setup.recent if setup.recent.sum() > 0 else setup.typical
    if fixed:
        budget = float(recent.sum()) if budget is None else float(budget)
        reference = recent / recent.sum() * budget
        default_upper = None
    else:
        reference = recent
        default_upper = FREE_CAP * np.maximum(setup.recent, setup.typical)
    lower, upper, locked = channel_bounds(setup.channels, reference, bounds=o.bounds,
                                          relative_bounds=o.relative_bounds,
                                          locked=o.locked, default_upper=default_upper)
    if fixed:
        check_feasible(lower, upper, budget, setup.channels)
    value = 1.0 / o.target_mroi if o.target_mroi is not None else (
        float(o.value_per_kpi) if o.objective == "profit" else 1.0)
    risk = o.objective if o.objective in ("quantile", "cvar") else "mean"
    unit = budget if fixed else float(reference.sum())
    problem, settings = make_problem(setup, lower=lower, upper=upper,
                                     budget=budget if fixed else 0.0, fixed=fixed, risk=risk,
                                     value=value, spend_weight=float(profit),
                                     level=float(o.level), steps=o.steps, unit=unit)
    ref_plan = setup.plan_from_totals(reference)
    dtype = setup.factor.dtype
    ref_ev = evaluate(jnp.asarray(ref_plan, dtype), setup.response, problem, settings)
    scale = abs(float(ref_ev["objective"]) + float(profit) * ref_plan.sum())
    problem = problem._replace(scale=jnp.asarray(scale if scale > 0 else 1.0, dtype))

    starts = _starts(setup, reference, lower, upper, unit, fixed, int(o.n_starts),
                     int(o.seed), warm)
    t0 = time.perf_counter()
    info = solve(jnp.asarray(starts, dtype), setup.response, problem, settings)
    raw = np.asarray(info.plan, dtype=np.float64)
    seconds = time.perf_counter() - t0
    plan = exact_plan(raw.reshape(-1, raw.shape[-1]), lower, upper, budget if fixed else None,
                      np.broadcast_to(setup.slot_shares, raw.shape).reshape(-1, raw.shape[-1]))
    plan = plan.reshape(raw.shape)
    ev = evaluate(jnp.asarray(plan, dtype), setup.response, problem, settings)
    history = np.asarray(info.history, dtype=np.float64) * scale
    pg = float(info.pg_norm)
    decrement = float(info.decrement)
    convergence = {"converged": bool(pg <= CONVERGED_PG or decrement <= CONVERGED_DECREMENT),
                   "pg_norm": pg, "decrement": decrement,
                   "iterations": int(info.newton_steps),
                   "search_iterations": np.asarray(info.search_steps).tolist(),
                   "history_tail": history[np.isfinite(history)][-5:].tolist(),
                   "start_values": np.asarray(info.start_values, np.float64).tolist(),
                   "seconds": seconds}
    settings_out = {"n_periods": int(n_periods), "budget": budget if fixed else None,
                    **o.as_dict()}
    return build_result(setup, plan, ref_plan, ev, ref_ev, lower=lower, upper=upper,
                        is_locked=locked, unit=unit, fixed_total=fixed,
                        hdi_prob=o.hdi_prob, settings=settings_out, convergence=convergence)


def _target_roi(model, setup, n_periods, o) -> BudgetResult:
    """Largest budget whose optimal plan keeps total ROI >= target (grid, then bisection)."""
    target = float(o.target_roi)
    fixed_opts = dataclasses.replace(o, target_roi=None)
    recent = setup.recent if setup.recent.sum() > 0 else setup.typical
    cap = FREE_CAP * np.maximum(setup.recent, setup.typical).sum()
    grid = recent.sum() * np.geomspace(0.02, cap / recent.sum(), _GRID)
    results, warm = [], None
    for b in grid:
        results.append(allocate(model, float(b), n_periods, fixed_opts, warm))
        warm = results[-1]._plan
    rois = np.array([r.roi for r in results])
    ok = np.flatnonzero(rois >= target)
    if ok.size == 0:
        k = int(np.argmax(rois))
        raise ValueError(f"target_roi={target:.6g} is not reached: the best total ROI over "
                         f"budgets {grid[0]:.6g}..{grid[-1]:.6g} is {rois[k]:.6g} (at budget "
                         f"{grid[k]:.6g}); lower the target")
    k = int(ok.max())
    best = results[k]
    if k + 1 < len(grid):
        lo, hi = grid[k], grid[k + 1]
        while hi / lo - 1 > _ROI_RTOL:
            mid = float(np.sqrt(lo * hi))
            res = allocate(model, mid, n_periods, fixed_opts, best._plan)
            if res.roi >= target:
                lo, best = mid, res
            else:
                hi = mid
    best.settings.update(target_roi=target, budget=best.budget,
                         note=None if k + 1 < len(grid) else
                         "ROI stays above the target up to the largest budget searched")
    return best


def as_plan(spend, setup: Setup, channels, per_period: bool) -> np.ndarray:
    """A user's spend (see :meth:`MMM.evaluate_budget`) -> ``(Gz, P, C)`` plan."""
    n = len(channels)
    if isinstance(spend, Mapping | pd.Series):
        given = dict(spend)
        unknown = [k for k in given if k not in channels]
        missing = [c for c in channels if c not in given]
        if unknown or missing:
            raise ValueError(f"spend: unknown channel {unknown[0]!r}" if unknown else
                             f"spend: channel {missing[0]!r} is missing; give every channel "
                             f"(0 for none), channels are {list(channels)}")
        values = np.array([float(given[c]) for c in channels])
    elif isinstance(spend, pd.DataFrame):
        missing = [c for c in channels if c not in spend.columns]
        if missing:
            raise ValueError(f"spend: column {missing[0]!r} is missing; columns must be the "
                             f"channels {list(channels)}")
        values = spend[list(channels)].to_numpy(dtype=np.float64)
        if setup.by_geo and setup.geos is not None:
            values = spend.reindex(list(setup.geos))[list(channels)].to_numpy(np.float64)
    else:
        values = np.asarray(spend, dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("spend must be finite and >= 0 in every channel and period")
    if setup.by_geo:
        want = (len(setup.geos), n)
    elif per_period:
        want = (setup.n_periods, n)
    else:
        want = (n,)
    if values.shape != want:
        raise ValueError(f"spend has shape {values.shape}, expected {want} (channels "
                         f"{list(channels)})")
    if setup.by_geo:
        return values[:, None, :]
    if per_period:
        return values[None]
    return setup.plan_from_totals(values)
