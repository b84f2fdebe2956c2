"""Response curves: incremental KPI per period against spend per period, per channel."""

from __future__ import annotations

import numpy as np

from mmm_jax.metrics import HDI_PROB
from mmm_jax.plot._common import Figure, channel_colors, figure, grid, hide_unused, total_spend


def optimal_multipliers(model, allocation) -> dict[str, float]:
    """Per channel, a :class:`~mmm_jax.BudgetResult`'s spend per period over the historical
    spend per period."""
    per_period = total_spend(model) / model.data.n_time
    spend = allocation.spend
    out = {}
    for j, channel in enumerate(model.data.channels):
        value = float(spend[channel]) if channel in spend.index else None
        if value is not None and np.isfinite(value) and value >= 0 and per_period[j] > 0:
            out[channel] = value / allocation.n_periods / per_period[j]
    return out


def response_curves(model, allocation=None, *, max_draws: int = 500,
                    hdi_prob: float = HDI_PROB, max_cols: int = 3) -> Figure:
    """One panel per channel: average incremental KPI per period when the channel's
    historical spend is scaled, with the HDI band, the current spend (a circle: the historical
    average per period) and, given an allocation, the optimal spend per period (a star).

    Args:
        model: a fitted :class:`mmm_jax.MMM`.
        allocation: optional :class:`~mmm_jax.BudgetResult` (``model.optimize_budget(...)``).
        max_draws: posterior draws used. hdi_prob: band probability.

    Returns:
        A Figure with one axes per channel.
    """
    optimal = optimal_multipliers(model, allocation) if allocation is not None else {}
    top = max([2.0, *(1.2 * m for m in optimal.values())])
    multipliers = np.union1d(np.linspace(0.0, top, 41), [1.0, *optimal.values()])
    curves = model.response_curves(multipliers, max_draws=max_draws, hdi_prob=hdi_prob)
    n_time = model.data.n_time
    channels = list(model.data.channels)
    colors = channel_colors(channels)
    rows, cols = grid(len(channels), max_cols)
    fig, axes = figure(rows, cols, width=4.0 * cols, height=3.2 * rows)
    for ax, channel in zip(axes.ravel(), channels, strict=False):
        c = curves[curves["channel"] == channel]
        x = c["spend"].to_numpy() / n_time
        ax.fill_between(x, c["hdi_low"] / n_time, c["hdi_high"] / n_time,
                        color=colors[channel], alpha=0.2, linewidth=0)
        ax.plot(x, c["mean"] / n_time, color=colors[channel], linewidth=1.8)
        m = c["multiplier"].to_numpy()
        now = np.argmin(np.abs(m - 1.0))
        ax.plot(x[now], c["mean"].iloc[now] / n_time, "o", color="black", markersize=6,
                label="current", clip_on=False, zorder=3)
        if channel in optimal:
            k = np.argmin(np.abs(m - optimal[channel]))
            change = optimal[channel] - 1.0
            change = 0.0 if abs(change) < 0.005 else change  # no "-0%"
            ax.plot(x[k], c["mean"].iloc[k] / n_time, "*", color="#d62728", markersize=13,
                    label=f"optimal ({change:+.0%} vs average)", clip_on=False,
                    zorder=4)
        ax.set_title(channel)
        ax.set_xlabel("spend per period")
        ax.set_ylabel("incremental KPI per period")
        ax.set_xlim(left=0.0)
        ax.set_ylim(bottom=0.0)
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    hide_unused(axes, len(channels))
    fig.suptitle(f"Response curves (posterior mean and {hdi_prob:.0%} HDI)")
    return fig
