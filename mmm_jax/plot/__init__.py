"""Plots of a fitted :class:`mmm_jax.MMM` (matplotlib; every function returns a Figure).

===========================  ================================================================
function                     shows
===========================  ================================================================
:func:`model_fit`            actual vs predicted KPI, 90% predictive band, R² and MAPE
:func:`decomposition`        baseline + channel contributions stacked over time
:func:`response_curves`      incremental KPI vs spend per channel, current and optimal spend
:func:`roi`                  ROI and marginal ROI per channel with 90% HDIs
:func:`adstock_decay`        carryover weights per lag and channel
:func:`prior_posterior`      prior vs posterior of every parameter
:func:`budget_allocation`    spend per channel before/after an allocation
:func:`budget_response`      optimal KPI and mix across total budgets
:func:`convergence`          R-hat and ESS per parameter, rank plot of the worst one
===========================  ================================================================

Figures are built without pyplot (nothing stays open; any backend can save them); in a
notebook they display as the cell's result. :func:`all_figures` builds the set the report uses
and :func:`save_figures` writes PNG files.

Example:
    >>> import mmm_jax.plot as mp
    >>> fig = mp.roi(model)  # doctest: +SKIP
    >>> fig.savefig("roi.png")  # doctest: +SKIP
"""

from __future__ import annotations

import pathlib

from mmm_jax.plot._common import Figure, png_bytes
from mmm_jax.plot.budget import budget_allocation, budget_response
from mmm_jax.plot.carryover import adstock_decay
from mmm_jax.plot.convergence import convergence
from mmm_jax.plot.curves import response_curves
from mmm_jax.plot.decomposition import decomposition
from mmm_jax.plot.fit import model_fit
from mmm_jax.plot.priors import prior_draws, prior_posterior
from mmm_jax.plot.roi import roi

__all__ = ["Figure", "adstock_decay", "all_figures", "budget_allocation", "budget_response",
           "convergence", "decomposition", "model_fit", "prior_draws", "prior_posterior",
           "response_curves", "roi", "save_figures"]


def all_figures(model, allocation=None, *, summary=None) -> dict[str, Figure]:
    """Every plot of the report, by file stem: ``fit``, ``decomposition``, ``roi``,
    ``response_curves``, ``adstock``, ``priors``, ``convergence`` and, given an allocation,
    ``budget``.

    Args:
        model: a fitted :class:`mmm_jax.MMM`.
        allocation: optional :class:`~mmm_jax.BudgetResult` (``model.optimize_budget(...)``).
        summary: an already computed ``model.channel_summary()``.
    """
    figures = {
        "fit": model_fit(model),
        "decomposition": decomposition(model),
        "roi": roi(model, summary=summary),
        "response_curves": response_curves(model, allocation),
        "adstock": adstock_decay(model),
        "priors": prior_posterior(model),
        "convergence": convergence(model),
    }
    if allocation is not None:
        figures["budget"] = budget_allocation(allocation)
    return figures


def save_figures(figures: dict[str, Figure], directory, *,
                 dpi: int = 100) -> dict[str, pathlib.Path]:
    """Write each figure as ``directory/<name>.png`` (directory created).

    Returns:
        dict name -> path written.
    """
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, fig in figures.items():
        path = directory / f"{name}.png"
        path.write_bytes(png_bytes(fig, dpi))
        out[name] = path
    return out
