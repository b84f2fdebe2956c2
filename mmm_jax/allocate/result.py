"""The result of scoring or optimising a budget: a frozen dataclass of pandas summaries."""

from __future__ import annotations

import dataclasses
import json
import pathlib
from collections.abc import Mapping

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
            ``upper`` (bounds), ``status`` (``"locked"``, ``"lower"``, ``"upper"`` or
            ``""`` when strictly inside its bounds), ``observed_low`` / ``observed_high`` (the
            least and most the channel spent in one period of the history, summed over geos:
            the range its response curve was fitted on) and ``outside_history`` (True when
            some period of the plan spends outside that range: there the response is
            extrapolated from the curve's shape and the priors, not measured).
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
        settings: the options used (``n_periods``, ``budget`` and every field of
            :class:`~mmm_jax.AllocationOptions`).

    :meth:`notes` says how the plan was bounded and which channels leave the historical
    range; :meth:`save` / :meth:`load` (and :meth:`to_dict` / :meth:`from_dict`) round-trip
    the result through JSON without loss.
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
        ``roi``, ``mroi``, ``status``, ``outside_history``; ``attrs`` holds ``periods`` and
        ``budget``."""
        c = self.channels
        out = pd.DataFrame({
            "current_spend": c["reference_spend"], "optimal_spend": c["spend"],
            "current_kpi": c["reference_kpi"], "optimal_kpi": c["kpi"],
            "optimal_kpi_hdi_low": c["kpi_hdi_low"], "optimal_kpi_hdi_high": c["kpi_hdi_high"],
            "roi": c["roi"], "mroi": c["mroi"], "status": c["status"],
            "outside_history": c["outside_history"]}, index=c.index)
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

    def period_spend(self) -> pd.DataFrame:
        """Spend per future period and channel, summed over geos (rows: dates)."""
        if isinstance(self.plan.index, pd.MultiIndex):
            return self.plan.groupby(level="date").sum()
        return self.plan

    def notes(self) -> list[str]:
        """What a reader of the plan must know, as sentences: how each channel was bounded
        (optimisation only) and which channels the plan takes outside the spend range of the
        history."""
        out = []
        s = self.settings
        if s.get("spend") != "given":
            rel = s.get("relative_bounds")
            ref = ("the historical mix at this budget" if s.get("budget") is not None
                   else f"the spend of the last {self.n_periods} periods")
            if rel is None:
                out.append(f"No relative bound (relative_bounds=None): channels may move far "
                           f"from {ref}.")
            elif isinstance(rel, Mapping):
                out.append(f"Channels {', '.join(map(str, rel))} bounded relative to {ref} "
                           f"(relative_bounds={dict(rel)}); relative_bounds=None for unbounded.")
            else:
                low, high = rel
                side = (f"at least {low:.0%}" if not np.isfinite(high) else
                        f"±{high - 1:.0%}" if np.isclose(1 - low, high - 1) else
                        f"{low:.0%} to {high:.0%}")
                out.append(f"Each channel bounded to {side} of {ref} (relative_bounds="
                           f"{tuple(rel)}); relative_bounds=None for unbounded.")
        flagged = self.channels.index[self.channels["outside_history"].to_numpy(bool)]
        if len(flagged):
            period = self.period_spend()
            parts = [f"{c} ({period[c].min():,.0f} to {period[c].max():,.0f} per period; "
                     f"observed {self.channels.loc[c, 'observed_low']:,.0f} to "
                     f"{self.channels.loc[c, 'observed_high']:,.0f})" for c in flagged]
            out.append("Outside the spend range of the history: " + "; ".join(parts)
                       + ". There the response is extrapolated from the curve's shape and the "
                       "priors, not measured.")
        return out

    # ------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        """JSON-able data, lossless (see :mod:`mmm_jax.allocate.serialize`)."""
        from mmm_jax.allocate import serialize as js

        out = {"format": js.FORMAT}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame):
                out[f.name] = {"frame": js.encode_frame(value)}
            elif isinstance(value, pd.Series):
                out[f.name] = {"series": js.encode_series(value)}
            else:
                out[f.name] = js.encode(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> BudgetResult:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: not the data of a BudgetResult (or another format version).
        """
        from mmm_jax.allocate import serialize as js

        if not isinstance(data, Mapping) or data.get("format") != js.FORMAT:
            found = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise ValueError(f"not a saved BudgetResult (format {found!r}, expected "
                             f"{js.FORMAT!r})")
        kwargs = {}
        for f in dataclasses.fields(cls):
            value = data.get(f.name)
            if isinstance(value, dict) and set(value) == {"frame"}:
                value = js.decode_frame(value["frame"])
            elif isinstance(value, dict) and set(value) == {"series"}:
                value = js.decode_series(value["series"])
            else:
                value = js.decode(value)
            kwargs[f.name] = value
        return cls(**kwargs)

    def save(self, path) -> pathlib.Path:
        """Write the result as JSON to ``path``; :meth:`load` reads it back."""
        path = pathlib.Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False),
                        encoding="utf-8")
        return path

    @classmethod
    def load(cls, path) -> BudgetResult:
        """A result saved with :meth:`save`.

        Raises:
            ValueError: the file is not JSON or not a saved BudgetResult.
        """
        path = pathlib.Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path.name} is not valid JSON: {err}") from None
        return cls.from_dict(data)

    def __repr__(self) -> str:
        spend = ", ".join(f"{c}={v:,.4g}" for c, v in self.spend.items())
        k = self.kpi
        text = (f"BudgetResult(spend {self.budget:,.6g}: {spend}; incremental KPI "
                f"{k['mean']:,.6g} [{k['hdi_low']:,.6g}, {k['hdi_high']:,.6g}]; lift "
                f"{self.lift['mean']:+,.4g} ({100 * self.lift['relative']:+.2f}%)")
        if self.convergence is not None:
            text += (f"; converged={self.convergence['converged']}, KKT spread "
                     f"{self.kkt['spread']:.2e}")
        flagged = list(self.channels.index[self.channels["outside_history"].to_numpy(bool)])
        if flagged:
            text += f"; outside the historical spend range: {', '.join(map(str, flagged))}"
        return text + ")"
