"""Turn a solved plan and its posterior evaluation into a :class:`BudgetResult`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmm_jax.allocate.result import BudgetResult, interval
from mmm_jax.metrics import summarize

__all__ = ["along_plan", "build_result", "kkt_check", "outside_history"]

_AT_BOUND = 1e-9  # a channel within this fraction of the plan's unit of its bound is "at" it
_KKT_TOL = 1e-3   # relative slack before a bound channel's gradient counts as a violation
_HISTORY_RTOL = 1e-9  # spend per period this close to the observed range is inside it


def outside_history(setup, plan) -> np.ndarray:
    """``(C,)`` True where some period of the plan spends more than the most, or less than
    the least, the channel spent in one period of the history (national totals per period)."""
    per_period = setup.per_period(plan).sum(0)  # (n, C)
    high = per_period.max(0) > setup.observed_high * (1 + _HISTORY_RTOL)
    low = per_period.min(0) < setup.observed_low * (1 - _HISTORY_RTOL)
    return high | low


def along_plan(plan: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Per-channel derivative along each channel's own plan (``(Gz, P, C)`` -> ``(C,)``).

    For a channel with spend, the derivative of the objective when its whole plan is scaled
    (per unit of extra spend); for a channel with none, the best slot to add spend to.
    """
    totals = plan.sum((0, 1))
    along = (plan * grad).sum((0, 1)) / np.where(totals > 0, totals, 1.0)
    return np.where(totals > 0, along, grad.max((0, 1)))


def _status(totals, lower, upper, is_locked, unit) -> list[str]:
    tol = _AT_BOUND * unit
    return ["locked" if lock else "lower" if t <= lo + tol else "upper" if t >= hi - tol else ""
            for t, lo, hi, lock in zip(totals, lower, upper, is_locked, strict=True)]


def kkt_check(grad: np.ndarray, status: list[str], channels, fixed_total: bool) -> dict:
    """First-order optimality of a plan from per-channel objective gradients (``(C,)``).

    With a fixed total, channels strictly inside their bounds share one marginal value
    ``multiplier``; a channel at its lower bound may have a smaller one, at its upper bound a
    larger one. With a free total the multiplier is 0.

    Returns:
        dict with ``multiplier``, ``spread`` (range of the interior channels' gradients over
        ``|multiplier|``, or their largest ``|gradient|`` when the total is free; 0 with fewer
        than two interior channels and a fixed total) and ``violations`` (channel names).
    """
    free = np.array([s == "" for s in status])
    if fixed_total:
        lam = float(np.mean(grad[free])) if free.any() else float("nan")
        spread = float(np.ptp(grad[free]) / abs(lam)) if free.sum() > 1 else 0.0
    else:
        lam = 0.0
        spread = float(np.abs(grad[free]).max()) if free.any() else 0.0
    if np.isnan(lam):  # every channel at a bound: any multiplier between the two groups
        lows = [g for g, s in zip(grad, status, strict=True) if s == "lower"]
        lam = float(max(lows)) if lows else float("nan")
    slack = _KKT_TOL * max(abs(lam), 1e-300) if fixed_total else _KKT_TOL
    violations = [c for c, g, s in zip(channels, grad, status, strict=True)
                  if (s == "lower" and g > lam + slack) or (s == "upper" and g < lam - slack)]
    return {"multiplier": lam, "spread": spread, "violations": violations}


def build_result(setup, plan, reference_plan, ev, ref_ev, *, lower, upper, is_locked, unit,
                 fixed_total, hdi_prob, settings, convergence=None) -> BudgetResult:
    """Assemble the result (see :class:`BudgetResult`); ``ev``/``ref_ev`` come from
    :func:`mmm_jax.allocate.solver.evaluate` at the plan and the reference plan."""
    channels = pd.Index(list(setup.channels), name="channel")
    totals, ref_totals = plan.sum((0, 1)), reference_plan.sum((0, 1))
    kpi_draws = np.asarray(ev["kpi"], dtype=np.float64)
    draws, ref_draws = kpi_draws.sum(1), np.asarray(ref_ev["kpi"], dtype=np.float64).sum(1)
    lift = interval(draws - ref_draws, hdi_prob)
    ref_mean = ref_draws.mean()
    lift["relative"] = lift["mean"] / ref_mean if ref_mean != 0 else np.nan
    per_channel = summarize(kpi_draws, channels, hdi_prob)
    ref_channel = np.asarray(ref_ev["kpi"], dtype=np.float64).mean(0)
    status = _status(totals, lower, upper, is_locked, unit)
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(totals > 0, per_channel["mean"].to_numpy() / totals, np.nan)
    table = pd.DataFrame({
        "spend": totals, "reference_spend": ref_totals, "kpi": per_channel["mean"],
        "kpi_hdi_low": per_channel["hdi_low"], "kpi_hdi_high": per_channel["hdi_high"],
        "reference_kpi": ref_channel, "roi": roi,
        "mroi": along_plan(plan, np.asarray(ev["grad_mean"], dtype=np.float64)),
        "lower": lower, "upper": upper, "status": status,
        "observed_low": setup.observed_low, "observed_high": setup.observed_high,
        "outside_history": outside_history(setup, plan)}, index=channels)
    kkt = None
    if convergence is not None:
        grad = along_plan(plan, np.asarray(ev["grad_objective"], dtype=np.float64))
        kkt = kkt_check(grad, status, setup.channels, fixed_total)
    return BudgetResult(
        spend=pd.Series(totals, index=channels, name="spend"),
        plan=setup.plan_frame(plan),
        kpi=interval(draws, hdi_prob),
        reference_spend=pd.Series(ref_totals, index=channels, name="reference_spend"),
        reference_kpi=interval(ref_draws, hdi_prob),
        lift=lift, channels=table, objective=float(ev["objective"]), kkt=kkt,
        convergence=convergence, spend_by_geo=setup.geo_frame(plan), settings=settings,
        _plan=plan)
