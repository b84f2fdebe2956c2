"""The result of scoring or optimising a budget: a frozen dataclass of pandas summaries."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mmm_jax.metrics import hdi

__all__ = ["BudgetResult", "interval"]


def interval(draws, prob: float) -> pd.Series:
    """Posterior mean and HDI of ``(D,)`` draws as a Series ``mean, hdi_low, hdi_high``.

    >>> interval(np.arange(11.0), 0.9).tolist()
    [5.0, 0.0, 9.0]
    """
    draws = np.asarray(draws, dtype=np.float64)
    low, high = hdi(draws, prob)
    return pd.Series({"mean": draws.mean(), "hdi_low": float(low), "hdi_high": float(high)})


@dataclasses.dataclass(frozen=True, eq=False)
class BudgetResult:
    """A spend plan over a future horizon with its posterior incremental KPI.

    Incremental KPI is counted over the horizon and the adstock tail after it, against zero
    spend over the horizon (see :mod:`mmm_jax.allocate.response`). Intervals are HDIs at the
    probability the result was computed with (0.9 by default).

    Attributes:
        spend: per-channel spend over the horizon (Series indexed by channel).
        plan: spend per period (rows: future dates, or (geo, date) for geo models; columns:
            channels).
        kpi: total incremental KPI of the plan: ``mean``, ``hdi_low``, ``hdi_high``.
        reference_spend, reference_kpi: the same for the reference allocation: the historical
            mix scaled to the same budget (fixed budget), or the historical spend over the
            last ``n_periods`` (:meth:`~mmm_jax.MMM.evaluate_budget` and flexible budgets).
        lift: ``kpi - reference_kpi`` per draw (paired): ``mean``, ``hdi_low``, ``hdi_high``
            and ``relative`` (mean lift / mean reference KPI).
        channels: per channel: ``spend``, ``reference_spend``, ``kpi`` (mean),
            ``kpi_hdi_low``, ``kpi_hdi_high``, ``reference_kpi`` (mean), ``roi`` (kpi /
            spend), ``mroi`` (d E[KPI] / d spend along the channel's plan), ``lower``,
            ``upper`` (bounds) and ``status`` (``"locked"``, ``"lower"``, ``"upper"`` or
            ``""`` when strictly inside its bounds).
        objective: the optimised objective's value at the plan (KPI value units).
        kkt: first-order optimality check (optimisation only): ``multiplier`` (the common
            marginal value of spend, d objective / d spend, of the channels strictly inside
            their bounds; 0 when the total is free), ``spread`` (their range divided by
            ``|multiplier|``, or the largest ``|gradient|`` when the total is free; ~0 at the
            optimum), ``violations`` (channels at a bound whose gradient points inside).
        convergence: optimiser report (optimisation only): ``converged`` (``pg_norm`` <=
            1e-4 or ``decrement`` <= 1e-5), ``pg_norm`` (projected-gradient norm; the plan and
            objective scaled to about 1), ``decrement`` (relative objective gain a further
            Newton step promises), ``iterations`` (Newton polish), ``search_iterations``
            (Adam, per start), ``start_values`` (objective at each start's search result),
            ``history_tail`` (last objective values), ``seconds`` (solve time).
        spend_by_geo: ``(geo x channel)`` spend for geo models, else None.
        settings: the options used.
    """

    spend: pd.Series
    plan: pd.DataFrame
    kpi: pd.Series
    reference_spend: pd.Series
    reference_kpi: pd.Series
    lift: pd.Series
    channels: pd.DataFrame
    objective: float
    kkt: dict | None
    convergence: dict | None
    spend_by_geo: pd.DataFrame | None
    settings: dict
    _plan: np.ndarray | None = dataclasses.field(default=None, repr=False)  # (Gz, P, C) layout

    @property
    def budget(self) -> float:
        """Total spend of the plan."""
        return float(self.spend.sum())

    @property
    def roi(self) -> float:
        """Total ROI: mean incremental KPI / total spend."""
        return float(self.kpi["mean"] / self.budget) if self.budget > 0 else float("nan")

    @property
    def n_periods(self) -> int:
        """Horizon length in model periods."""
        return int(self.settings["n_periods"])

    def to_frame(self) -> pd.DataFrame:
        """Per-channel table for plots and reports: ``current_spend`` (reference),
        ``optimal_spend``, ``current_kpi``, ``optimal_kpi`` (+ ``_hdi_low``/``_hdi_high``),
        ``roi``, ``mroi``, ``status``; ``attrs`` holds ``periods`` and ``budget``."""
        c = self.channels
        out = pd.DataFrame({
            "current_spend": c["reference_spend"], "optimal_spend": c["spend"],
            "current_kpi": c["reference_kpi"], "optimal_kpi": c["kpi"],
            "optimal_kpi_hdi_low": c["kpi_hdi_low"], "optimal_kpi_hdi_high": c["kpi_hdi_high"],
            "roi": c["roi"], "mroi": c["mroi"], "status": c["status"]}, index=c.index)
        out.attrs.update(periods=self.n_periods, budget=self.budget)
        return out

    def summary(self) -> pd.DataFrame:
        """Plan vs reference: rows ``spend``, ``kpi``, ``kpi_hdi_low``, ``kpi_hdi_high``,
        ``roi``; columns ``plan``, ``reference``, ``change``."""
        ref_budget = float(self.reference_spend.sum())
        rows = {
            "spend": (self.budget, ref_budget),
            "kpi": (self.kpi["mean"], self.reference_kpi["mean"]),
            "kpi_hdi_low": (self.kpi["hdi_low"], self.reference_kpi["hdi_low"]),
            "kpi_hdi_high": (self.kpi["hdi_high"], self.reference_kpi["hdi_high"]),
            "roi": (self.roi, self.reference_kpi["mean"] / ref_budget if ref_budget > 0
                    else np.nan),
        }
        out = pd.DataFrame(rows, index=["plan", "reference"]).T
        out["change"] = out["plan"] - out["reference"]
        return out

    def __repr__(self) -> str:
        spend = ", ".join(f"{c}={v:,.4g}" for c, v in self.spend.items())
        k = self.kpi
        text = (f"BudgetResult(spend {self.budget:,.6g}: {spend}; incremental KPI "
                f"{k['mean']:,.6g} [{k['hdi_low']:,.6g}, {k['hdi_high']:,.6g}]; lift "
                f"{self.lift['mean']:+,.4g} ({100 * self.lift['relative']:+.2f}%)")
        if self.convergence is not None:
            text += (f"; converged={self.convergence['converged']}, KKT spread "
                     f"{self.kkt['spread']:.2e}")
        return text + ")"
