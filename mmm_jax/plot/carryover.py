"""Adstock decay: the share of a period's media effect felt at each later lag."""

from __future__ import annotations

from mmm_jax.metrics import HDI_PROB
from mmm_jax.plot._common import Figure, channel_colors, figure


def adstock_decay(model, *, max_lag: int = 13, hdi_prob: float = HDI_PROB) -> Figure:
    """Posterior adstock weights per lag and channel (mean line, HDI band).

    Args:
        model: a fitted :class:`mmm_jax.MMM`. max_lag: lags shown (0 .. max_lag - 1).

    Returns:
        A Figure with one axes.
    """
    w = model.adstock_weights(max_lag, hdi_prob)
    colors = channel_colors(model.data.channels)
    fig, axes = figure(1, 1, width=8.0, height=4.0)
    ax = axes[0, 0]
    for channel in model.data.channels:
        c = w[w["channel"] == channel]
        ax.fill_between(c["lag"], c["hdi_low"], c["hdi_high"], color=colors[channel],
                        alpha=0.15, linewidth=0)
        ax.plot(c["lag"], c["mean"], "o-", color=colors[channel], markersize=3, label=channel)
    ax.set_xlabel("lag (periods)")
    ax.set_ylabel("share of the media effect")
    ax.set_ylim(bottom=0.0)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(f"Adstock decay ({model.config.adstock}; posterior mean and "
                 f"{hdi_prob:.0%} HDI)")
    return fig
