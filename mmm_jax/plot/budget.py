"""Budget allocation: spend per channel before and after, and the expected KPI."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import StrMethodFormatter

from mmm_jax.plot._common import Figure, figure

OUTSIDE_LABEL = "outside the historical spend range"


def budget_allocation(allocation) -> Figure:
    """Current (reference) vs optimal spend per channel, bars labelled with the change and
    hatched where the plan leaves the spend range of the history
    (``channels["outside_history"]``), and the incremental KPI of both plans with HDIs.

    Args:
        allocation: a :class:`~mmm_jax.BudgetResult` (``model.optimize_budget(...)`` or
            ``model.evaluate_budget(...)``).

    Returns:
        A Figure with two axes.
    """
    c = allocation.channels
    fig, axes = figure(1, 2, width=11.0, height=4.0, gridspec_kw={"width_ratios": [2.5, 1]})
    ax = axes[0, 0]
    x = np.arange(len(c))
    outside = c["outside_history"].to_numpy(bool)
    ax.bar(x - 0.2, c["reference_spend"], width=0.4, color="#9e9e9e", label="current")
    ax.bar(x + 0.2, c["spend"], width=0.4, color="#1f77b4", label="optimal",
           hatch=["//" if o else "" for o in outside], edgecolor="white")
    for xi, (cur, opt) in zip(x, c[["reference_spend", "spend"]].to_numpy(), strict=True):
        change = f"{opt / cur - 1:+.0%}" if cur > 0 else "new"
        ax.annotate(change, (xi + 0.2, opt), xytext=(0, 3), textcoords="offset points",
                    ha="center", fontsize=8)
    ax.set_xticks(x, list(c.index))
    ax.set_ylabel("spend over the horizon")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    handles, labels = ax.get_legend_handles_labels()
    if outside.any():
        handles.append(Patch(facecolor="#1f77b4", hatch="//", edgecolor="white"))
        labels.append(OUTSIDE_LABEL)
    ax.legend(handles, labels, fontsize=8, frameon=False)
    ax.set_title(f"Budget allocation over {allocation.n_periods} periods: total "
                 f"{allocation.budget:,.0f}")
    _kpi_panel(axes[0, 1], allocation)
    return fig


def _kpi_panel(ax, allocation) -> None:
    """Total incremental KPI of both plans with their HDIs."""
    totals = [allocation.reference_kpi, allocation.kpi]
    values = [t["mean"] for t in totals]
    errors = [[max(t["mean"] - t["hdi_low"], 0.0) for t in totals],
              [max(t["hdi_high"] - t["mean"], 0.0) for t in totals]]
    bars = ax.bar([0, 1], values, color=["#9e9e9e", "#1f77b4"], width=0.6, yerr=errors,
                  capsize=4, error_kw={"linewidth": 1.0})
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], label_type="center", fontsize=8,
                 color="white")
    ax.set_xticks([0, 1], ["current", "optimal"])
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    lift = values[1] / values[0] - 1 if values[0] else np.nan
    ax.set_title(f"Incremental KPI ({lift:+.1%})")


def budget_response(table, *, current_budget: float | None = None,
                    channels=None) -> Figure:
    """The optimal incremental KPI across total budgets (with its HDI band) and how the
    optimal mix changes with the budget.

    Args:
        table: ``model.budget_response(budgets, n_periods)``: indexed by ``budget`` with
            ``kpi``, ``kpi_hdi_low``, ``kpi_hdi_high`` and one spend column per channel.
        current_budget: marks this budget (e.g. the last quarter's spend).
        channels: spend columns to stack (default: every column after the summary ones).

    Returns:
        A Figure with two axes.
    """
    from mmm_jax.plot._common import channel_colors

    budgets = table.index.to_numpy(dtype=float)
    summary = {"kpi", "kpi_hdi_low", "kpi_hdi_high", "roi", "mroi", "converged"}
    channels = [c for c in table.columns if c not in summary] if channels is None else channels
    colors = channel_colors(channels)
    fig, axes = figure(1, 2, width=12.0, height=4.2)
    ax, mix = axes[0]
    ax.fill_between(budgets, table["kpi_hdi_low"], table["kpi_hdi_high"], color="#1f77b4",
                    alpha=0.2, linewidth=0, label="90% HDI")
    ax.plot(budgets, table["kpi"], "o-", color="#1f77b4", markersize=4,
            label="optimal plan (mean)")
    if current_budget is not None:
        ax.axvline(current_budget, color="grey", linestyle="--", linewidth=0.8,
                   label="current budget")
    ax.set_xlabel("total budget over the horizon")
    ax.set_ylabel("incremental KPI")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_title("Budget-response curve")
    shares = table[channels].to_numpy(dtype=float)
    shares = shares / np.maximum(shares.sum(axis=1, keepdims=True), 1e-300)
    mix.stackplot(budgets, *shares.T, colors=[colors[c] for c in channels], labels=channels,
                  alpha=0.9)
    mix.set_ylim(0.0, 1.0)
    mix.set_xlabel("total budget over the horizon")
    mix.set_ylabel("share of the budget")
    mix.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    mix.legend(fontsize=8, frameon=False, loc="upper right")
    mix.set_title("Optimal mix by budget")
    return fig
