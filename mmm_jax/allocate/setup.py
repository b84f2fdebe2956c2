"""From a fitted model to the allocator's inputs: horizon shapes, geo shares, costs, bounds.

Conventions (all documented on :meth:`mmm_jax.MMM.optimize_budget`):

* **Recent spend**: each channel's spend over the last ``n_periods`` of the history (summed
  over geos; the history repeats cyclically when ``n_periods`` exceeds it).
* **Weekly shape** (``flighting="historical"``): spend in horizon period ``k`` is the channel's
  horizon total times its share of the recent spend in the matching recent period (equal
  shares for a channel with no recent spend).
* **Geo split** (national plans on geo models): a channel's spend goes to each geo in
  proportion to that geo's recent spend of the channel (its whole-history share when the
  channel had no recent spend).
* **Cost per media unit**: total spend / total media over the history per channel (1 when the
  media are the spend), unless ``cost_per_unit`` overrides it; spend / cost = media.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np
import pandas as pd

from mmm_jax import posterior as post
from mmm_jax.allocate.response import Response, build
from mmm_jax.features import scale_media
from mmm_jax.transforms import get_adstock, get_saturation

__all__ = ["FLIGHTINGS", "Setup", "channel_values", "make_setup"]

FLIGHTINGS = ("historical", "free")


@dataclasses.dataclass(frozen=True, eq=False)
class Setup:
    """Everything the allocator needs about one model and horizon (cached per options).

    Attributes:
        response: per-draw response terms (:class:`~mmm_jax.allocate.response.Response`).
        factor: ``(G, C)`` unit-scale media per unit of spend in each geo (includes the geo
            share for national plans).
        slot_shares: ``(Gz, P, C)`` how a channel's total spreads over the plan slots by
            default (sums to 1 per channel): the starting and reference layout.
        recent: ``(C,)`` spend over the last ``n_periods``. typical: ``(C,)`` mean spend per
            ``n_periods`` over the whole history.
        observed_low, observed_high: ``(C,)`` smallest and largest spend in one period of
            the history (summed over geos): the range the response curves were fitted on.
        shape: ``(n, C)`` weekly shape. geo_share: ``(G, C)`` geo split (ones for national).
        cost_per_unit: ``(C,)``. dates: ``(n,)`` future dates. channels, geos: labels.
        saturation: the model's saturation name. by_geo, flighting: the plan layout.
    """

    response: Response
    factor: jnp.ndarray
    slot_shares: np.ndarray
    recent: np.ndarray
    typical: np.ndarray
    observed_low: np.ndarray
    observed_high: np.ndarray
    shape: np.ndarray
    geo_share: np.ndarray
    cost_per_unit: np.ndarray
    dates: np.ndarray
    channels: tuple
    geos: tuple | None
    saturation: str
    by_geo: bool
    flighting: str

    @property
    def n_periods(self) -> int:
        return int(self.shape.shape[0])

    def plan_from_totals(self, totals) -> np.ndarray:
        """``(..., C)`` channel totals -> ``(..., Gz, P, C)`` plans in the default layout."""
        totals = np.asarray(totals, dtype=np.float64)
        return totals[..., None, None, :] * self.slot_shares

    def per_period(self, plan) -> np.ndarray:
        """``(Gz, P, C)`` plan -> ``(G, n, C)`` spend per geo and period."""
        plan = np.asarray(plan, dtype=np.float64)
        if plan.shape[1] == 1:
            plan = plan * self.shape[None]
        return plan if self.by_geo else plan * self.geo_share[:, None, :]

    def plan_frame(self, plan) -> pd.DataFrame:
        """Spend per period as a DataFrame: rows dates (or (geo, date)), columns channels."""
        spend = self.per_period(plan)
        dates = pd.DatetimeIndex(self.dates, name="date")
        if self.geos is None:
            return pd.DataFrame(spend[0], index=dates, columns=list(self.channels))
        index = pd.MultiIndex.from_product([list(self.geos), dates], names=["geo", "date"])
        return pd.DataFrame(spend.reshape(-1, spend.shape[-1]), index=index,
                            columns=list(self.channels))

    def geo_frame(self, plan) -> pd.DataFrame | None:
        if self.geos is None:
            return None
        return pd.DataFrame(self.per_period(plan).sum(1), index=pd.Index(self.geos, name="geo"),
                            columns=list(self.channels))


def channel_values(spec, channels, what: str, *, allow_none: bool = False) -> dict:
    """Check a ``{channel: value}`` mapping and return it as a dict.

    Raises:
        ValueError: an unknown channel (named, with the valid names), or not a mapping.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"{what} must be a dict {{channel: value}}, got {type(spec).__name__}")
    unknown = [k for k in spec if k not in channels]
    if unknown:
        raise ValueError(f"{what}: unknown channel {unknown[0]!r}; the model's channels are "
                         f"{list(channels)}")
    return dict(spec)


def _cost_per_unit(data, override) -> np.ndarray:
    spend = data.spend.reshape(-1, data.n_channels).sum(0)
    media = data.media.reshape(-1, data.n_channels).sum(0)
    cost = spend / media
    if override is not None:
        for name, value in channel_values(override, data.channels, "cost_per_unit").items():
            value = float(value)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"cost_per_unit[{name!r}] = {value} must be a finite number "
                                 "> 0 (spend per media unit)")
            cost[data.channels.index(name)] = value
    return cost


def _shares(part: np.ndarray, fallback) -> np.ndarray:
    """``part / part.sum(axis 0)`` per channel, ``fallback`` where the channel's sum is 0."""
    total = part.sum(0)
    return np.where(total > 0, part / np.where(total > 0, total, 1.0), fallback)


def make_setup(model, n_periods: int, *, tail: int, flighting: str, by_geo: bool,
               max_draws: int | None, cost_per_unit: Mapping | None) -> Setup:
    """Build the allocator's inputs for a fitted model (see the module docstring)."""
    data, config = model.data, model.config
    spend = data.spend if data.is_geo else data.spend[None]  # (G, T, C)
    n_geos, n_time, n_channels = spend.shape
    idx = (n_time - n_periods + np.arange(n_periods)) % n_time
    recent_gtc = spend[:, idx, :]
    recent = recent_gtc.sum((0, 1))
    typical = spend.sum((0, 1)) * n_periods / n_time
    shape = _shares(recent_gtc.sum(0), np.full((n_periods, n_channels), 1.0 / n_periods))
    geo_share = _shares(recent_gtc.sum(1), _shares(spend.sum(1), 1.0 / n_geos))
    cost = _cost_per_unit(data, cost_per_unit)
    media_scale = np.broadcast_to(model.scales.media, (n_geos, n_channels))
    per_spend = 1.0 / (cost[None, :] * media_scale)  # unit-scale media per unit of spend
    factor = per_spend if by_geo else per_spend * geo_share

    dtype = jnp.float64  # the caller enables x64 (see mmm_jax.allocate.mixin)
    history = scale_media(data.media, model.scales).reshape(n_geos, n_time, n_channels)
    names = {*get_adstock(config.adstock).params, *get_saturation(config.saturation).params,
             "beta", "beta_geo_sd", "beta_geo_raw"}
    draws = post.thin(post.flatten_draws({k: v for k, v in model.samples.items() if k in names}),
                      max_draws)
    draws = {k: jnp.asarray(v, dtype=dtype) for k, v in draws.items()}
    response = build(draws, history, np.broadcast_to(model.scales.target, (n_geos,)),
                     config=config, n_geos=model._n_geos(), n_periods=n_periods, tail=tail,
                     shape=shape if flighting == "historical" else None)

    n_slots = 1 if flighting == "historical" else n_periods
    slot_shares = np.ones((1, n_slots, n_channels))
    if n_slots > 1:
        slot_shares = slot_shares * shape[None]
    if by_geo:
        slot_shares = slot_shares * geo_share[:, None, :]
    step = np.timedelta64(data.period_days, "D")
    dates = data.dates[-1] + step * np.arange(1, n_periods + 1)
    return Setup(response=response, factor=jnp.asarray(factor, dtype), slot_shares=slot_shares,
                 recent=recent, typical=typical, observed_low=spend.sum(0).min(0),
                 observed_high=spend.sum(0).max(0), shape=shape, geo_share=geo_share,
                 cost_per_unit=cost, dates=dates, channels=tuple(data.channels),
                 geos=tuple(data.geos) if data.is_geo else None, saturation=config.saturation,
                 by_geo=by_geo, flighting=flighting)
