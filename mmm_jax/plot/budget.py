"""Budget allocation: spend per channel before and after, and the expected KPI."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import StrMethodFormatter

from mmm_jax._allocation_frame import allocation_frame
from mmm_jax.plot._common import Figure, figure


def budget_allocation(allocation) -> Figure:
    """Current vs optimal spend per channel (bars labelled with the change) and, when the
    allocation reports them, the expected KPI of both plans.

    Args:
        allocation: result of ``model.optimize_budget(...)`` or a frame with
            ``current_spend`` and ``optimal_spend`` per channel.

    Returns:
        A Figure with one or two axes.
    """
    frame = allocation_frame(allocation)
    has_kpi = {"current_kpi", "optimal_kpi"} <= set(frame.columns)
    fig, axes = figure(1, 2 if has_kpi else 1, width=11.0 if has_kpi else 8.0, height=4.0,
                       gridspec_kw={"width_ratios": [2.5, 1]} if has_kpi else None)
    ax = axes[0, 0]
    x = np.arange(len(frame))
    ax.bar(x - 0.2, frame["current_spend"], width=0.4, color="#9e9e9e", label="current")
    ax.bar(x + 0.2, frame["optimal_spend"], width=0.4, color="#1f77b4", label="optimal")
    for xi, (cur, opt) in zip(x, frame[["current_spend", "optimal_spend"]].to_numpy(),
                              strict=True):
        change = f"{opt / cur - 1:+.0%}" if cur > 0 else "new"
        ax.annotate(change, (xi + 0.2, opt), xytext=(0, 3), textcoords="offset points",
                    ha="center", fontsize=8)
    ax.set_xticks(x, list(frame.index))
    ax.set_ylabel("spend over the horizon")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.legend(fontsize=8, frameon=False)
    periods = frame.attrs.get("periods")
    horizon = f" over {periods} periods" if periods else ""
    ax.set_title(f"Budget allocation{horizon}: total {frame.attrs['budget']:,.0f}")
    if has_kpi:
        kpi = axes[0, 1]
        values = [frame["current_kpi"].sum(), frame["optimal_kpi"].sum()]
        bars = kpi.bar([0, 1], values, color=["#9e9e9e", "#1f77b4"], width=0.6)
        if {"optimal_kpi_hdi_low", "optimal_kpi_hdi_high"} <= set(frame.columns):
            low, high = frame["optimal_kpi_hdi_low"].sum(), frame["optimal_kpi_hdi_high"].sum()
            if np.isfinite(low) and np.isfinite(high):
                kpi.errorbar(1, values[1], yerr=[[max(values[1] - low, 0)],
                                                 [max(high - values[1], 0)]],
                             color="black", capsize=4)
        kpi.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize=8)
        kpi.set_xticks([0, 1], ["current", "optimal"])
        lift = values[1] / values[0] - 1 if values[0] else np.nan
        kpi.set_title(f"Media KPI ({lift:+.1%})")
        kpi.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    return fig
