"""Budget allocation on a fitted :class:`~mmm_jax.MMM`: optimise, score and sweep budgets."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from mmm_jax.allocate import engine
from mmm_jax.allocate.objective import evaluate
from mmm_jax.allocate.options import OBJECTIVES, AllocationOptions
from mmm_jax.allocate.report import build_result
from mmm_jax.allocate.result import BudgetResult

__all__ = ["OBJECTIVES", "AllocatorMixin"]


class AllocatorMixin:
    """Budget allocation; mixed into :class:`mmm_jax.MMM` (needs a fitted model)."""

    def optimize_budget(self, budget: float | None = None, n_periods: int = 13, *,
                        options: AllocationOptions | None = None, **overrides) -> BudgetResult:
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
        ``bounds`` upper value or else 10x its historical spend over ``n_periods``, and the
        relative bounds refer to that historical spend (so by default a flexible budget
        stays within +-30% of it; ``relative_bounds=None`` lets it range further).

        Method: several starts (the historical mix, an equal split, random feasible plans;
        they cope with S-shaped Hill curves) run projected Adam (optax) side by side on a
        subset of draws, with plans projected onto the budget simplex intersected with the
        bounds; the best is polished on all draws by projected Newton steps with the exact
        autodiff gradient and curvature, then made exactly feasible in float64 (the allocator
        computes in float64). No finite differences. One compiled program per model, horizon
        and option set: new budgets, bounds or seeds do not recompile.

        Bounds: by default every channel stays within +-30% of the reference plan
        (``relative_bounds=(0.7, 1.3)``): the response curves are measured only near the spend
        the data cover, and an unbounded plan follows the priors far outside it (it moves TV
        from 101k to 0 in the demo). ``relative_bounds=None`` removes the bound; the result's
        ``channels["outside_history"]`` flags channels whose plan leaves the per-period spend
        range of the history either way.

        Args:
            budget: total spend over the horizon (currency), > 0.
            n_periods: horizon length in model periods.
            options: an :class:`~mmm_jax.AllocationOptions` (default: its defaults).
            **overrides: any of its fields, replacing those of ``options`` (each documented
                on :class:`~mmm_jax.AllocationOptions`): ``bounds`` (absolute ``(low, high)``
                spend per channel, or ``{channel: (low, high)}``), ``relative_bounds`` (the
                same as fractions of the reference plan; default ``(0.7, 1.3)``, ``None``:
                unbounded), ``locked`` (channels held at their reference spend, or
                ``{channel: amount}``), ``objective`` (``"mean"``, ``"quantile"``,
                ``"cvar"`` or ``"profit"``), ``level`` (tail probability of quantile /
                cvar), ``value_per_kpi`` (currency value of one KPI unit), ``target_roi`` /
                ``target_mroi`` (flexible budgets, see above), ``flighting``
                (``"historical"`` or ``"free"``), ``by_geo`` (spend per geo),
                ``cost_per_unit`` (``{channel: spend per media unit}``), ``tail`` (counted
                zero-spend periods after the horizon), ``max_draws`` (posterior draws used;
                ``None``: all), ``n_starts``, ``steps``, ``seed`` (optimiser starts,
                iterations and their seed) and ``hdi_prob`` (interval probability).

        Returns:
            A :class:`~mmm_jax.allocate.result.BudgetResult` (spend, plan per period, KPI and
            lift with intervals, per-channel ROI and marginal ROI, KKT check, convergence).

        Raises:
            ValueError: an unknown option (with a did-you-mean) or a bad value (named), a
                non-positive budget, unknown channel in ``bounds``/``locked``/
                ``cost_per_unit`` (named), bounds that cannot meet the budget, an unreachable
                ``target_roi``, or an unfitted model.

        Example:
            >>> res = model.optimize_budget(5e4, 13, relative_bounds=(0.5, 2.0))  # doctest: +SKIP
            >>> res.channels[["spend", "mroi", "status", "outside_history"]]  # doctest: +SKIP
        """
        options = AllocationOptions.build(options, **overrides)
        options.check(self, budget, n_periods)
        budget = options.check_budget(budget)
        with jax.enable_x64(True):
            return engine.allocate(self, budget, n_periods, options)

    def budget_response(self, budgets, n_periods: int = 13, *,
                        options: AllocationOptions | None = None, **overrides) -> pd.DataFrame:
        """The optimal expected incremental KPI across a range of total budgets.

        Each budget is optimised as in :meth:`optimize_budget` (same ``options`` and
        overrides, so each plan keeps the default +-30% bound around the historical mix at
        its budget unless ``relative_bounds`` says otherwise), warm started from the previous
        one; the compiled solver is reused.

        Args:
            budgets: totals to optimise (> 0). n_periods: as for ``optimize_budget``.
            options, **overrides: an :class:`~mmm_jax.AllocationOptions` and any of its
                fields, as for ``optimize_budget`` except ``target_roi`` / ``target_mroi``.

        Returns:
            DataFrame indexed by ``budget`` with ``kpi``, ``kpi_hdi_low``, ``kpi_hdi_high``,
            ``roi`` (kpi / budget), ``mroi`` (the KKT multiplier: marginal objective per unit
            of budget), ``converged`` and the spend of every channel.

        Raises:
            ValueError: as for ``optimize_budget``, or a target given.

        Example:
            >>> model.budget_response([2e4, 4e4, 8e4], 13)  # doctest: +SKIP
        """
        options = AllocationOptions.build(options, **overrides)
        targets = [k for k in ("target_roi", "target_mroi") if getattr(options, k) is not None]
        if targets:
            raise ValueError(f"budget_response: unsupported option {targets[0]} (it chooses "
                             "the budget); use the options of optimize_budget except the "
                             "targets")
        budgets = np.sort(np.asarray(budgets, dtype=np.float64).ravel())
        for b in budgets:
            options.check(self, float(b), n_periods)
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

    def evaluate_budget(self, spend=None, n_periods: int = 13, *,
                        options: AllocationOptions | None = None, **overrides) -> BudgetResult:
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
            n_periods: as for ``optimize_budget``.
            options, **overrides: an :class:`~mmm_jax.AllocationOptions` and any of its
                fields; scoring uses ``by_geo``, ``cost_per_unit``, ``tail``, ``max_draws``
                and ``hdi_prob`` (the others only steer the optimiser).

        Returns:
            A :class:`~mmm_jax.allocate.result.BudgetResult` without ``kkt``/``convergence``.

        Raises:
            ValueError: missing or unknown channels, negative or non-finite spend, bad shape.

        Example:
            >>> base = model.evaluate_budget(None, 13).spend  # doctest: +SKIP
            >>> shifted = base.copy(); shifted["search"] += 0.2 * base["tv"]  # doctest: +SKIP
            >>> shifted["tv"] *= 0.8; model.evaluate_budget(shifted, 13).lift  # doctest: +SKIP
        """
        options = AllocationOptions.build(options, **overrides)
        options.check(self, None, n_periods)
        per_period = not options.by_geo and (isinstance(spend, pd.DataFrame) or (
            spend is not None and not isinstance(spend, Mapping | pd.Series)
            and np.ndim(spend) == 2))
        with jax.enable_x64(True):
            return _evaluate(self, spend, n_periods, per_period, options)


def _evaluate(model, spend, n_periods, per_period, o: AllocationOptions) -> BudgetResult:
    channels = list(model.data.channels)
    setup = engine.budget_setup(model, n_periods, o.tail, "free" if per_period else "historical",
                                o.by_geo, o.max_draws, o.cost_per_unit)
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
                        fixed_total=True, hdi_prob=o.hdi_prob,
                        settings={"n_periods": int(n_periods), "spend": "given", **o.as_dict()})
