"""Design features: scaling to the unit scale, time index, Fourier terms, day of week.

The model works on a unit scale so that one set of default priors fits any dataset:

* target: divided by its mean (per geo for geo data), so the KPI averages 1;
* media: divided by the per-channel mean over time (per geo and channel for geo data; a geo
  where a channel is all zero falls back to that channel's mean over all geos);
* controls: centred and divided by their standard deviation over all rows;
* time: ``t = period index / (T - 1)``, so the trend coefficient is the change over the history;
  future periods continue the same index (the trend extrapolates linearly);
* seasonality: Fourier terms of the calendar day, so history and future line up;
* day of week (daily data): six dummies, Monday is the reference;
* knots (a piecewise baseline, time-varying media): ``K`` hat functions of ``t`` with knots
  evenly spaced over the history, ``t`` clipped to [0, 1] so that a path through the knots
  is held at its first / last level outside the history.

Everything the user sees is mapped back to original units with :class:`Scales`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mmm_jax.data import MMMData

DAYS_PER_YEAR = 365.25


@dataclasses.dataclass(frozen=True, eq=False)
class Scales:
    """Factors that map the unit scale back to original units (NumPy, float64).

    Attributes:
        target: ``()`` national or ``(G,)`` geo: the KPI mean.
        media: ``(C,)`` national or ``(G, C)`` geo: media mean per channel.
        control_mean: ``(K,)`` control means. control_std: ``(K,)`` control std devs.
        start: first date (``datetime64[ns]``). n_time: history length ``T``.
    """

    target: np.ndarray
    media: np.ndarray
    control_mean: np.ndarray
    control_std: np.ndarray
    start: np.datetime64
    n_time: int


def compute_scales(data: MMMData) -> Scales:
    """Compute the unit-scale factors of a dataset (see the module docstring).

    >>> import mmm_jax as mj
    >>> data = mj.MMMData.from_dataframe(mj.load_example("national"), date="date",
    ...     target="sales", media=["tv", "search", "social"], controls=["price"])
    >>> compute_scales(data).media.shape
    (3,)
    """
    target_scale = data.target.mean(axis=-1)
    media_scale = data.media.mean(axis=-2)
    if data.is_geo:
        overall = data.media.mean(axis=(0, 1))
        media_scale = np.where(media_scale > 0, media_scale, overall[None, :])
    if data.n_controls:
        flat = data.controls.reshape(-1, data.n_controls)
        c_mean, c_std = flat.mean(axis=0), flat.std(axis=0)
        c_std = np.where(c_std > 0, c_std, 1.0)
    else:
        c_mean = c_std = np.zeros((0,))
    return Scales(
        target=np.asarray(target_scale, dtype=np.float64),
        media=np.asarray(media_scale, dtype=np.float64),
        control_mean=c_mean,
        control_std=c_std,
        start=data.dates[0],
        n_time=data.n_time,
    )


def time_index(dates: np.ndarray, scales: Scales, period_days: int) -> np.ndarray:
    """Trend covariate: 0 at the first history date, 1 at the last; continues for the future."""
    steps = (dates - scales.start) / np.timedelta64(period_days, "D")
    return np.asarray(steps, dtype=np.float64) / max(scales.n_time - 1, 1)


def fourier_terms(dates: np.ndarray, degree: int, period_days: float = DAYS_PER_YEAR) -> np.ndarray:
    """``(T, 2 * degree)`` matrix of ``sin, cos`` of ``2 pi k day / period`` for k = 1..degree.

    >>> import numpy as np
    >>> f = fourier_terms(np.array(["2024-01-01", "2024-07-01"], dtype="datetime64[ns]"), 2)
    >>> f.shape
    (2, 4)
    """
    days = (dates - np.datetime64("1970-01-01", "ns")) / np.timedelta64(1, "D")
    ks = np.arange(1, degree + 1)
    angle = 2.0 * np.pi * np.asarray(days, dtype=np.float64)[:, None] * ks[None, :] / period_days
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)


def day_of_week(dates: np.ndarray) -> np.ndarray:
    """``(T, 6)`` dummies for Tuesday..Sunday (Monday is the reference level)."""
    dow = ((dates.astype("datetime64[D]").astype(np.int64) + 3) % 7)  # 1970-01-01 was a Thursday
    return (dow[:, None] == np.arange(1, 7)[None, :]).astype(np.float64)


def knot_count(knots: int, n_time: int, period_days: int) -> int:
    """Number of knots: ``knots`` when set, else one per year of history plus one (>= 2).

    Knots a year apart keep the path from mimicking the yearly seasonality (a path through
    knots at the same phase of every year cannot oscillate within a year), which the Fourier
    terms then identify on their own.

    >>> knot_count(0, 156, 7), knot_count(0, 104, 7), knot_count(5, 156, 7)
    (4, 3, 5)
    """
    if knots:
        return int(knots)
    years = n_time * period_days / DAYS_PER_YEAR
    return max(2, int(round(years)) + 1)


def knot_basis(t: np.ndarray, n_knots: int) -> np.ndarray:
    """``(T, K)`` piecewise-linear (hat) basis at time index ``t`` (0..1 over the history);
    rows sum to 1, and a path ``basis @ levels`` is held flat outside [0, 1].

    >>> knot_basis(np.array([0.0, 0.25, 1.0, 2.0]), 3).tolist()
    [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    """
    position = np.clip(np.asarray(t, np.float64), 0.0, 1.0) * (n_knots - 1)
    return np.maximum(0.0, 1.0 - np.abs(position[:, None] - np.arange(n_knots)[None, :]))


def scale_media(media: np.ndarray, scales: Scales) -> np.ndarray:
    """Media in unit scale; ``media`` is ``(T, C)`` or ``(G, T, C)``."""
    if media.ndim == 3:
        return media / scales.media[:, None, :]
    return media / scales.media


def scale_controls(controls: np.ndarray, scales: Scales) -> np.ndarray:
    """Controls centred and scaled with the history's statistics."""
    return (controls - scales.control_mean) / scales.control_std


def design(dates, media, controls, scales: Scales, *, period_days: int, n_fourier: int,
           seasonality_period: float, dtype, n_knots: int = 0) -> dict:
    """The model's inputs on the unit scale as a dict of arrays (no target).

    Args:
        dates: ``(T,)`` datetime64. media: ``(T, C)`` or ``(G, T, C)``. controls: ``(T, K)``
            or ``(G, T, K)``. scales: from :func:`compute_scales`.
        period_days: 7 for weekly, 1 for daily (daily data gets day-of-week dummies).
        n_fourier: Fourier degree (0 for no seasonality). seasonality_period: in days.
        dtype: the floating dtype of the returned arrays.
        n_knots: knots of a piecewise baseline / time-varying media (0: none).

    Returns:
        dict with ``media``, ``controls``, ``t`` ``(T,)``, ``fourier`` ``(T, 2 * degree)``,
        ``dow`` ``(T, 6)`` or ``(T, 0)`` and, with knots, ``knots`` ``(T, n_knots)``.
    """
    fourier = (fourier_terms(dates, n_fourier, seasonality_period) if n_fourier
               else np.zeros((len(dates), 0)))
    dow = day_of_week(dates) if period_days == 1 else np.zeros((len(dates), 0))
    out = {
        "media": scale_media(media, scales),
        "controls": scale_controls(controls, scales),
        "t": time_index(dates, scales, period_days),
        "fourier": fourier,
        "dow": dow,
    }
    if n_knots:
        out["knots"] = knot_basis(out["t"], n_knots)
    return {k: np.asarray(v, dtype=dtype) for k, v in out.items()}
