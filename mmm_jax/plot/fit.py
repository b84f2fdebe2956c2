"""Model fit: actual KPI against the posterior predictive, with a 90% band and residuals."""

from __future__ import annotations

import numpy as np

from mmm_jax.metrics import HDI_PROB, hdi
from mmm_jax.plot._common import Figure, dates_of, figure, total_target


def model_fit(model, *, hdi_prob: float = HDI_PROB, max_draws: int = 1000,
              seed: int = 0) -> Figure:
    """Actual vs predicted KPI over time (summed over geos), with the posterior predictive
    interval and a residual panel; R² and MAPE (:meth:`MMM.fit_metrics`) in the title.

    Args:
        model: a fitted :class:`mmm_jax.MMM`.
        hdi_prob: probability of the predictive band (default 0.9).
        max_draws: posterior draws used for the band. seed: seed of the observation noise.

    Returns:
        A Figure with two axes (series, residuals).
    """
    pred = model.predict(seed=seed, max_draws=max_draws)  # (D, T[, G]) with noise
    if model.data.is_geo:
        pred = pred.sum(axis=-1)
    low, high = hdi(pred, hdi_prob)
    expected = model.contributions().sum(axis=1).to_numpy()
    actual = total_target(model)
    dates = dates_of(model)
    metrics = model.fit_metrics()
    covered = float(np.mean((actual >= low) & (actual <= high)))

    fig, axes = figure(2, 1, height=5.5, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax, res = axes[:, 0]
    ax.fill_between(dates, low, high, color="#1f77b4", alpha=0.25, linewidth=0,
                    label=f"{hdi_prob:.0%} predictive interval")
    ax.plot(dates, expected, color="#1f77b4", linewidth=1.5, label="predicted (posterior mean)")
    ax.plot(dates, actual, "o", color="black", markersize=2.5, label="actual")
    ax.set_ylabel(model.data.target_name)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    geo = f" (sum of {model.data.n_geos} geos)" if model.data.is_geo else ""
    ax.set_title(f"Model fit{geo}: R² = {metrics['r2']:.3f}, MAPE = {metrics['mape']:.1f}%, "
                 f"{hdi_prob:.0%} band covers {covered:.0%} of periods")
    res.axhline(0.0, color="grey", linewidth=0.8)
    res.plot(dates, actual - expected, color="black", linewidth=0.8)
    res.set_ylabel("residual")
    return fig
