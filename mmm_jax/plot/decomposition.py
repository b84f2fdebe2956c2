"""Decomposition: baseline and each channel's contribution stacked over time."""

from __future__ import annotations

import numpy as np

from mmm_jax.plot._common import (
    BASELINE_COLOR,
    Figure,
    channel_colors,
    dates_of,
    figure,
    total_target,
)


def decomposition(model) -> Figure:
    """Stacked posterior-mean contributions (baseline + channels) over time, with the actual
    KPI as a line; geo models are summed over geos.

    Args:
        model: a fitted :class:`mmm_jax.MMM`.

    Returns:
        A Figure with one axes; the legend gives each part's share of the modelled KPI.
    """
    parts = model.contributions()
    channels = list(model.data.channels)
    total = float(parts.to_numpy().sum())
    share = {c: float(parts[c].sum()) / total for c in parts.columns}
    colors = channel_colors(channels)
    dates = dates_of(model)

    fig, axes = figure(1, 1, height=4.5)
    ax = axes[0, 0]
    ax.stackplot(dates, *(parts[c].to_numpy() for c in parts.columns),
                 colors=[BASELINE_COLOR, *(colors[c] for c in channels)],
                 labels=[f"{c} ({share[c]:.0%})" for c in parts.columns], alpha=0.9)
    ax.plot(dates, total_target(model), color="black", linewidth=1.0, label="actual")
    ax.set_ylabel(model.data.target_name)
    ax.set_ylim(bottom=min(0.0, float(np.min(parts["baseline"]))))
    fig.legend(loc="outside lower center", fontsize=8, ncol=min(len(channels) + 2, 6),
               frameon=False)
    media = 1.0 - share["baseline"]
    ax.set_title(f"Decomposition: baseline {share['baseline']:.0%}, media {media:.0%} of the "
                 "modelled KPI (posterior mean)")
    return fig
