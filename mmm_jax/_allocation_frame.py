"""Read the budget allocator's result as one table, for plots, the report and the CLI.

The allocator (``model.optimize_budget``) is developed separately; this adapter is the one
place that knows its result's shape. It accepts a DataFrame, an object with ``to_frame()``,
``to_dataframe()``, ``table`` or ``summary``, or a mapping of per-channel columns, and returns
a DataFrame indexed by channel with ``current_spend`` and ``optimal_spend`` (totals over the
planning horizon) and, when the result has them, ``current_kpi``, ``optimal_kpi`` and
``optimal_kpi_hdi_low``/``optimal_kpi_hdi_high``. ``frame.attrs`` holds ``periods`` and
``budget`` when known and, from a ``BudgetResult``, the totals ``kpi``, ``reference_kpi``
and ``lift`` (dicts with ``mean``, ``hdi_low``, ``hdi_high``).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

#: normalised column -> names the allocator may use for it, in order of preference.
ALIASES = {
    "current_spend": ("current_spend", "current", "spend_current", "initial_spend",
                      "historical_spend", "before"),
    "optimal_spend": ("optimal_spend", "optimal", "spend_optimal", "optimized_spend",
                      "optimised_spend", "allocation", "after"),
    "current_kpi": ("current_kpi", "kpi_current", "current_response", "response_current"),
    "optimal_kpi": ("optimal_kpi", "kpi_optimal", "optimal_response", "response_optimal",
                    "expected_kpi"),
    "optimal_kpi_hdi_low": ("optimal_kpi_hdi_low", "kpi_optimal_hdi_low"),
    "optimal_kpi_hdi_high": ("optimal_kpi_hdi_high", "kpi_optimal_hdi_high"),
}
REQUIRED = ("current_spend", "optimal_spend")


def _raw_table(result) -> pd.DataFrame:
    if isinstance(result, pd.DataFrame):
        return result
    for name in ("to_frame", "to_dataframe", "table", "summary"):
        attr = getattr(result, name, None)
        value = attr() if callable(attr) else attr
        if isinstance(value, pd.DataFrame):
            return value
    if isinstance(result, Mapping):
        return pd.DataFrame({k: v for k, v in result.items() if not isinstance(v, Mapping)})
    raise ValueError(f"cannot read an allocation result of type {type(result).__name__}; "
                     "expected a DataFrame with current_spend and optimal_spend per channel")


def allocation_frame(result, *, periods: int | None = None,
                     budget: float | None = None) -> pd.DataFrame:
    """The allocation as a DataFrame indexed by channel (see the module docstring).

    Args:
        result: what ``model.optimize_budget(...)`` returned, or an already normalised frame.
        periods: planning horizon in periods, when the result does not carry it.
        budget: total budget, when the result does not carry it (default: the optimal total).

    Raises:
        ValueError: the result has no per-channel current and optimal spend.

    >>> f = allocation_frame(pd.DataFrame({"channel": ["tv", "search"], "current": [2.0, 1.0],
    ...                                    "optimal": [1.5, 1.5]}), periods=4)
    >>> list(f.columns), f.attrs["periods"], f.attrs["budget"]
    (['current_spend', 'optimal_spend'], 4, 3.0)
    """
    raw = _raw_table(result)
    if "channel" in raw.columns:
        raw = raw.set_index("channel")
    out = pd.DataFrame(index=pd.Index([str(c) for c in raw.index], name="channel"))
    used = set()
    for name, aliases in ALIASES.items():
        found = next((a for a in aliases if a in raw.columns), None)
        if found is not None:
            out[name] = pd.to_numeric(raw[found], errors="coerce").to_numpy(dtype=float)
            used.add(found)
    for extra in raw.columns:  # e.g. roi, mroi, status: kept as they are
        if extra not in used and extra not in out.columns:
            out[extra] = raw[extra].to_numpy()
    missing = [c for c in REQUIRED if c not in out.columns]
    if missing:
        raise ValueError(f"the allocation result has no {' or '.join(missing)} column (columns: "
                         f"{list(raw.columns)}); expected per-channel current and optimal spend")
    attrs = dict(getattr(raw, "attrs", {}) or {})
    # attributes of a result object (never of a DataFrame, whose columns are attributes too)
    obj = {} if isinstance(result, pd.DataFrame | Mapping) else {
        name: getattr(result, name, None)
        for name in ("periods", "n_periods", "budget", "lift", "kpi", "reference_kpi")}
    periods = periods or attrs.get("periods") or obj.get("periods") or obj.get("n_periods")
    budget = budget or attrs.get("budget") or obj.get("budget")
    out.attrs.update({k: v for k, v in attrs.items() if k not in ("periods", "budget")})
    out.attrs["periods"] = int(periods) if periods else None
    out.attrs["budget"] = float(budget) if budget else float(out["optimal_spend"].sum())
    for name in ("lift", "kpi", "reference_kpi"):  # BudgetResult totals: mean and HDI
        value = obj.get(name)
        if isinstance(value, pd.Series | Mapping):
            out.attrs[name] = {k: float(v) for k, v in dict(value).items()}
    return out
