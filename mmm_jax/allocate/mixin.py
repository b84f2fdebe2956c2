"""Budget allocation on a fitted :class:`~mmm_jax.MMM`: optimise, score and sweep budgets."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from mmm_jax.allocate import engine
from mmm_jax.allocate.objective import evaluate
from mmm_jax.allocate.report import build_result
from mmm_jax.allocate.result import BudgetResult
from mmm_jax.allocate.setup import FLIGHTINGS
from mmm_jax.metrics import HDI_PROB

__all__ = ["OBJECTIVES", "AllocatorMixin"]

OBJECTIVES = ("mean", "quantile", "cvar", "profit")
_OPTIONS = dict(bounds=None, relative_bounds=None, locked=None, objective="mean", level=0.1,
                value_per_kpi=1.0, target_roi=None, target_mroi=None, flighting="historical",
                by_geo=False, cost_per_unit=None, tail=13, max_draws=1000, n_starts=4,
                steps=50, seed=0, hdi_prob=HDI_PROB)


def _positive(name, value, *, allow_none=True):
    if value is None and allow_none:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} must be a number > 0") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a finite number > 0")
    return value


def _check_options(model, budget, n_periods, o) -> None:
    model._require_fit()
    _positive("budget", budget)
    if int(n_periods) != n_periods or n_periods < 1:
        raise ValueError(f"n_periods={n_periods!r} must be an integer >= 1 (future periods)")
    if o["objective"] not in OBJECTIVES:
        raise ValueError(f"objective={o['objective']!r}; use one of {OBJECTIVES}")
    if not 0.0 < float(o["level"]) < 1.0:
        raise ValueError(f"level={o['level']!r} must be in (0, 1), e.g. 0.1 for the lowest 10%")
    _positive("value_per_kpi", o["value_per_kpi"], allow_none=False)
    _positive("target_roi", o["target_roi"])
    _positive("target_mroi", o["target_mroi"])
    targets = [k for k in ("target_roi", "target_mroi") if o[k] is not None]
    if targets and budget is not None:
        raise ValueError(f"give either budget or {targets[0]}, not both: {targets[0]} chooses "
                         "the budget")
    if len(targets) == 2 or (targets and o["objective"] == "profit"):
        raise ValueError("choose one flexible-budget rule: target_roi, target_mroi or "
                         "objective='profit'")
    if o["flighting"] not in FLIGHTINGS:
        raise ValueError(f"flighting={o['flighting']!r}; use one of {FLIGHTINGS}")
    if o["by_geo"] and not model.data.is_geo:
        raise ValueError("by_geo=True needs a geo model; this model is national")
    for name, low in (("tail", 0), ("n_starts", 1), ("steps", 1)):
        if int(o[name]) != o[name] or o[name] < low:
            raise ValueError(f"{name}={o[name]!r} must be an integer >= {low}")


class AllocatorMixin:
    """Budget allocation; mixed into :class:`mmm_jax.MMM` (needs a fitted model)."""

    def optimize_budget(self, budget: float | None = None, n_periods: int = 13, *,
                        bounds=None, relative_bounds=None, locked=None, objective: str = "mean",
                        level: float = 0.1, value_per_kpi: float = 1.0,
                        target_roi: float | None = None, target_mroi: float | None = None,
                        flighting: str = "historical", by_geo: bool = False,
                        cost_per_unit: Mapping | None = None, tail: int = 13,
                        max_draws: int | None = 1000, n_starts: int = 4, steps: int = 50,
                        seed: int = 0, hdi_prob: float = HDI_PROB) -> BudgetResult:
        """Choose spend per channel over the next ``n_periods`` to maximise incremental KPI.

        Incremental KPI (per posterior draw) is the media contribution over the horizon plus
        ``tail`` zero-spend periods after it (the adstock tail), minus the same without new
        spend; carryover from **all** of the history enters the horizon in both (see
        :mod:`mmm_jax.allocate.response`). The objective averages over the posterior draws
        (evenly thinned to ``max_draws``).

        Spend within the horizon follows the historical weekly shape: period ``k`` gets the
        channel's share of its spend in the matching period of the last ``n_periods`` weeks
        (``flighting="historical"``), or every period is chosen (``flighting="free"``, which
        lets the optimiser pulse spend). Geo models split a channel's spend over geos by
        their recent spend shares, or choose it per geo with ``by_geo=True``. Spend becomes
        media at ``cost_per_unit`` (default: historical spend / media per channel).

        Budget modes: a fixed ``budget`` (default: the spend of the last ``n_periods``);
        ``objective="profit"`` without a budget: the profit-maximising budget
        (``value_per_kpi * KPI - spend``); ``target_mroi``: the largest spend at which each
        channel's marginal ROI is still >= the target (profit with value ``1 / target``);
        ``target_roi``: the largest budget whose optimal plan still has total ROI >= the
        target (searched over budgets). With a free total each channel is capped at its
        ``bounds`` upper value or else 10x its historical spend over ``n_periods``.

        Method: several starts (the historical mix, an equal split, random feasible plans;
        they cope with S-shaped Hill curves) run projected Adam (optax) side by side on a
        subset of draws, with plans projected onto the budget simplex intersected with the
        bounds; the best is polished on all draws by projected Newton steps with the exact
        autodiff gradient and curvature, then made exactly feasible in float64 (the allocator
        computes in float64). No finite differences. One compiled program per model, horizon
        and option set: new budgets, bounds or seeds do not recompile.

        Args:
            budget: total spend over the horizon (currency), > 0.
            n_periods: horizon length in model periods.
            bounds: absolute ``(low, high)`` spend per channel over the horizon, for all
                channels or as ``{channel: (low, high)}``; ``None`` = open side.
            relative_bounds: the same as fractions of the reference plan (the historical mix
                at this budget; the historical spend when the total is free), e.g.
                ``(0.8, 1.2)``. Intersected with ``bounds``.
            locked: channels held at their reference spend (list) or ``{channel: amount}``.
            objective: ``"mean"`` (posterior mean KPI), ``"quantile"`` (the ``level``
                quantile), ``"cvar"`` (mean of the lowest ``level`` fraction of draws) or
                ``"profit"`` (``value_per_kpi`` x mean KPI - spend).
            level: tail probability for ``"quantile"``/``"cvar"``.
            value_per_kpi: currency value of one KPI unit (profit).
            target_roi, target_mroi: flexible-budget targets (see above).
            flighting: ``"historical"`` or ``"free"``. by_geo: choose spend per geo.
            cost_per_unit: ``{channel: spend per media unit}`` overrides.
            tail: zero-spend periods after the horizon whose carryover is counted.
            max_draws: posterior draws used (evenly thinned; ``None`` = all).
            n_starts: optimiser starts. steps: most iterations. seed: random starts.
            hdi_prob: probability of the reported intervals.

        Returns:
            A :class:`~mmm_jax.allocate.result.BudgetResult` (spend, plan per period, KPI and
            lift with intervals, per-channel ROI and marginal ROI, KKT check, convergence).

        Raises:
            ValueError: a non-positive budget, unknown channel in ``bounds``/``locked``/
                ``cost_per_unit`` (named), bounds that cannot meet the budget, an unreachable
                ``target_roi``, or an unfitted model.

        Example:
            >>> res = model.optimize_budget(5e4, 13, relative_bounds=(0.5, 2.0))  # doctest: +SKIP
            >>> res.channels[["spend", "roi", "mroi", "status"]]  # doctest: +SKIP
        """
        options = dict(bounds=bounds, relative_bounds=relative_bounds, locked=locked,
                       objective=objective, level=level, value_per_kpi=value_per_kpi,
                       target_roi=target_roi, target_mroi=target_mroi, flighting=flighting,
                       by_geo=by_geo, cost_per_unit=cost_per_unit, tail=tail,
                       max_draws=max_draws, n_starts=n_starts, steps=steps, seed=seed,
                       hdi_prob=hdi_prob)
        _check_options(self, budget, n_periods, options)
        with jax.enable_x64(True):
            return engine.allocate(self, budget, n_periods, options)

    def budget_response(self, budgets, n_periods: int = 13, **options) -> pd.DataFrame:
        """The optimal expected incremental KPI across a range of total budgets.

        Each budget is optimised as in :meth:`optimize_budget` (same ``options``), warm
        started from the previous one; the compiled solver is reused.

        Args:
            budgets: totals to optimise (> 0). n_periods, options: as for ``optimize_budget``.

        Returns:
            DataFrame indexed by ``budget`` with ``kpi``, ``kpi_hdi_low``, ``kpi_hdi_high``,
            ``roi`` (kpi / budget), ``mroi`` (the KKT multiplier: marginal objective per unit
            of budget), ``converged`` and the spend of every channel.

        Example:
            >>> model.budget_response([2e4, 4e4, 8e4], 13)  # doctest: +SKIP
        """
        unknown = set(options) - set(_OPTIONS)
        if unknown or {"target_roi", "target_mroi"} & set(options):
            raise ValueError(f"budget_response: unsupported option(s) "
                             f"{sorted(unknown | ({'target_roi', 'target_mroi'} & set(options)))}"
                             f"; use the options of optimize_budget except the targets")
        budgets = np.sort(np.asarray(budgets, dtype=np.float64).ravel())
        options = {**_OPTIONS, **options}
        for b in budgets:
            _check_options(self, float(b), n_periods, options)
        rows, warm = [], None
        for b in budgets:
            with jax.enable_x64(True):
                res = engine.allocate(self, float(b), n_periods, options, warm=warm)
            warm = res._plan
            row = {"budget": float(b), "kpi": res.kpi["mean"], "kpi_hdi_low": res.kpi["hdi_low"],
                   "kpi_hdi_high": res.kpi["hdi_high"], "roi": res.roi,
                   "mroi": res.kkt["multiplier"], "converged": res.convergence["converged"]}
            rows.append(row | res.spend.to_dict())
        return pd.DataFrame(rows).set_index("budget")

    def evaluate_budget(self, spend=None, n_periods: int = 13, *, by_geo: bool = False,
                        cost_per_unit: Mapping | None = None, tail: int = 13,
                        max_draws: int | None = 1000, hdi_prob: float = HDI_PROB
                        ) -> BudgetResult:
        """Score any spend plan with the same summaries as :meth:`optimize_budget`.

        The reference is the historical spend of the last ``n_periods`` (business as usual),
        so ``lift`` answers what-if questions such as "move 20% from TV to search" or "cut
        all spend by 30%".

        Args:
            spend: ``None`` (the historical spend), per-channel totals over the horizon (a
                dict / Series over all channels or a ``(C,)`` array; spread by the historical
                weekly shape and geo shares), a per-period plan (``(n_periods, C)`` array or
                DataFrame with channel columns), or with ``by_geo=True`` per-geo totals
                (``(G, C)`` array or DataFrame indexed by geo).
            n_periods, cost_per_unit, tail, max_draws, hdi_prob: as for ``optimize_budget``.

        Returns:
            A :class:`~mmm_jax.allocate.result.BudgetResult` without ``kkt``/``convergence``.

        Raises:
            ValueError: missing or unknown channels, negative or non-finite spend, bad shape.

        Example:
            >>> base = model.evaluate_budget(None, 13).spend  # doctest: +SKIP
            >>> shifted = base.copy(); shifted["search"] += 0.2 * base["tv"]  # doctest: +SKIP
            >>> shifted["tv"] *= 0.8; model.evaluate_budget(shifted, 13).lift  # doctest: +SKIP
        """
        options = {**_OPTIONS, "by_geo": by_geo, "cost_per_unit": cost_per_unit, "tail": tail,
                   "max_draws": max_draws, "hdi_prob": hdi_prob}
        _check_options(self, None, n_periods, options)
        per_period = not by_geo and (isinstance(spend, pd.DataFrame) or (
            spend is not None and not isinstance(spend, Mapping | pd.Series)
            and np.ndim(spend) == 2))
        with jax.enable_x64(True):
            return _evaluate(self, spend, n_periods, per_period, options)


def _evaluate(model, spend, n_periods, per_period, options) -> BudgetResult:
    channels = list(model.data.channels)
    setup = engine.budget_setup(model, n_periods, options["tail"],
                                "free" if per_period else "historical", options["by_geo"],
                                options["max_draws"], options["cost_per_unit"])
    reference = setup.plan_from_totals(setup.recent)
    plan = reference if spend is None else engine.as_plan(spend, setup, channels, per_period)
    n = len(channels)
    bounds = dict(lower=np.zeros(n), upper=np.full(n, np.inf))
    problem, settings = engine.make_problem(setup, **bounds, budget=plan.sum(), fixed=True,
                                            risk="mean", value=1.0, spend_weight=0.0,
                                            level=0.1, steps=1)
    ev = evaluate(jnp.asarray(plan), setup.response, problem, settings)
    ref_ev = evaluate(jnp.asarray(reference), setup.response, problem, settings)
    return build_result(setup, plan, reference, ev, ref_ev, **bounds,
                        is_locked=np.zeros(n, bool), unit=max(plan.sum(), 1e-300),
                        fixed_total=True, hdi_prob=options["hdi_prob"],
                        settings={"n_periods": int(n_periods), "spend": "given", **options})
