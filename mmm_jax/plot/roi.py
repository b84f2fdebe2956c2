"""ROI and marginal ROI per channel with their HDIs."""

from __future__ import annotations

import numpy as np

from mmm_jax.metrics import HDI_PROB
from mmm_jax.plot._common import Figure, channel_colors, figure


def roi(model, *, hdi_prob: float = HDI_PROB, summary=None) -> Figure:
    """Posterior mean and HDI of ROI (circles) and marginal ROI (diamonds) per channel.

    Args:
        model: a fitted :class:`mmm_jax.MMM`. hdi_prob: interval probability.
        summary: an already computed ``model.channel_summary(hdi_prob)`` (saves recomputing).

    Returns:
        A Figure with one axes; the dashed line marks ROI = 1.
    """
    s = model.channel_summary(hdi_prob) if summary is None else summary
    channels = list(s.index)
    colors = channel_colors(channels)
    y = np.arange(len(channels))[::-1].astype(float)
    fig, axes = figure(1, 1, width=8.0, height=1.0 + 0.8 * len(channels))
    ax = axes[0, 0]
    for yi, channel in zip(y, channels, strict=True):
        row = s.loc[channel]
        for name, marker, dy in (("roi", "o", 0.14), ("mroi", "D", -0.14)):
            mean, low, high = row[name], row[f"{name}_hdi_low"], row[f"{name}_hdi_high"]
            ax.errorbar(mean, yi + dy, xerr=[[mean - low], [high - mean]], fmt=marker,
                        color=colors[channel], capsize=3, markersize=6,
                        markerfacecolor=colors[channel] if name == "roi" else "white")
            ax.annotate(f"{mean:.2f}", (high, yi + dy), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=8)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(y, channels)
    ax.set_ylim(-0.6, len(channels) - 0.4)
    ax.set_xlim(left=min(0.0, float(s[["roi_hdi_low", "mroi_hdi_low"]].min().min())))
    ax.plot([], [], "o", color="black", label="ROI (filled)")
    ax.plot([], [], "D", color="black", markerfacecolor="white", label="marginal ROI (open)")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_xlabel("incremental KPI per unit of spend")
    ax.set_title(f"ROI and marginal ROI (posterior mean and {hdi_prob:.0%} HDI)")
    return fig
