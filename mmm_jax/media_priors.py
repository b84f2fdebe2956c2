"""Media priors by what people know: a channel's contribution share, ROI, marginal ROI or
coefficient (``MMM(media_prior=...)``).

Each channel's effect is ``beta[c] * m[t] * sat(adstock(media))[t, c]`` on the unit scale
(``m`` is the time-varying effectiveness, 1 without it). The prior is placed on one of

* ``"contribution"`` (site ``contribution_share``): the channel's share of the KPI over the
  history (what ``contribution_share()`` reports);
* ``"roi"`` (site ``roi``): incremental KPI over the history / spend (``roi()``);
* ``"mroi"`` (site ``mroi``): marginal ROI of a proportional spend increase
  (``marginal_roi()``);
* ``"coefficient"`` (site ``beta``): the unit-scale coefficient itself;

and the coefficient is solved from it exactly, draw by draw: ``beta = value * factor / level``,
where ``level`` is the channel's share of the KPI per unit of ``beta`` (the mean transformed
media over the history, weighted by each geo's KPI scale; for ``"mroi"`` its derivative under a
proportional scaling of the media) and ``factor`` converts the value to a share (1 for a
contribution, ``spend / KPI total`` for an ROI). So ``priors={"roi": dist.LogNormal(0.2, 0.9)}``
is the prior of exactly what ``roi()`` reports.

Units. ``"contribution"`` and ``"coefficient"`` are unit-free: multiplying the KPI, or one
channel's spend, by 1,000 changes the reported ROI by exactly that factor and nothing else.
An ROI or marginal-ROI prior is in KPI units per currency unit: meaningful when the KPI is
revenue (Meridian's ``LogNormal(0.2, 0.9)`` default assumes that). For another KPI, divide
the ROI you believe in by the revenue per KPI unit, or use ``"contribution"`` (the default).
"""

from __future__ import annotations

import numpy as np

from mmm_jax.spec import MEDIA_PRIOR_SITES as PRIOR_SITE
from mmm_jax.spec import MEDIA_PRIORS

__all__ = ["MEDIA_PRIORS", "PRIOR_SITE", "beta_from", "levels", "prior_inputs"]


def prior_inputs(media_prior: str, data, scales, dtype) -> dict:
    """Constant inputs the media prior needs (history totals), as arrays of ``dtype``.

    Returns:
        dict with ``geo_weight`` ``(G,)`` (each geo's share of the KPI total; geo models) and,
        for ROI priors, ``spend_share`` ``(C,)``: channel spend total / KPI total.
    """
    out = {}
    if data.is_geo:
        out["geo_weight"] = scales.target / scales.target.sum()
    if media_prior in ("roi", "mroi"):
        spend = data.spend.reshape(-1, data.n_channels).sum(0)
        out["spend_share"] = spend / float(np.sum(data.target))
    return {k: np.asarray(v, dtype) for k, v in out.items()}


def levels(per_period, inputs: dict, n_geos):
    """``(C,)`` KPI share per unit of ``beta``: the mean over the history of ``per_period``
    ``([G,] T, C)`` (transformed media, effectiveness and per-geo multipliers folded in; for
    ``"mroi"`` its derivative under a proportional scaling of the media), geos weighted by
    their share of the KPI (``inputs["geo_weight"]``)."""
    mean = per_period.mean(-2)
    return mean if n_geos is None else inputs["geo_weight"] @ mean


def beta_from(value, level, inputs: dict, media_prior: str):
    """``beta`` that gives the prior quantity ``value`` ``(C,)`` at ``level`` ``(C,)``."""
    share = value * inputs["spend_share"] if media_prior in ("roi", "mroi") else value
    return share / level
