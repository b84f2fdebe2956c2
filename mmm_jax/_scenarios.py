"""Scenario variants and lift-test draws for :func:`mmm_jax.simulate.simulate` (pure NumPy).

Private helper module; the generating formulas are documented in ``mmm_jax.simulate``. It is a
leaf module (it imports nothing from ``mmm_jax``) so ``simulate`` can import it at the top.

Random streams: scenario parameters come from ``np.random.default_rng([seed, 1])`` and the
lift tests from ``np.random.default_rng([seed, 7])``, never from the main stream
``default_rng(seed)``, so ``scenario="default"`` frames are unchanged and adding lift tests
changes no frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SCENARIOS = ("default", "curved_baseline", "correlated_spend", "no_effect", "time_varying",
             "confounded")
_MIN_CHANNELS = {"correlated_spend": 3, "no_effect": 2}
_SCENARIO_STREAM, _LIFT_STREAM = 1, 7
_LIFT_LENGTH = (4, 8)  # periods, inclusive
_LIFT_MARGIN = 8  # periods kept free at both ends of the data
_LIFT_FRACTION = (0.9, 1.0)  # of the window's lowest spend per period, removed
_LIFT_TRIES = 8  # window placements drawn; the steadiest is used


def markov_on(rng: np.random.Generator, n: int, p_off: float, min_on: int) -> np.ndarray:
    """Two-state on/off Markov chain with stationary off-fraction ``p_off``, shape (n,) bool.

    Off periods last 3 periods on average (stay-off probability 2/3). A chain with fewer than
    ``min_on`` on-periods is replaced by all-on (never an all-zero channel).
    """
    stay_off = 2.0 / 3.0
    to_off = p_off / (1.0 - p_off) * (1.0 - stay_off)
    on = np.empty(n, dtype=bool)
    state = True
    for t in range(n):
        u = rng.uniform()
        state = (u >= to_off) if state else (u >= stay_off)
        on[t] = state
    if on.sum() < min_on:
        on[:] = True
    return on


def validate_scenario(scenario: str, n_channels: int, lift_test_sd: float) -> None:
    """Raise ValueError on an unknown scenario, too few channels, or a bad ``lift_test_sd``."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {list(SCENARIOS)}")
    need = _MIN_CHANNELS.get(scenario, 1)
    if n_channels < need:
        raise ValueError(f"scenario {scenario!r} needs at least {need} channels, got "
                         f"{n_channels}; pass more channel names")
    if isinstance(lift_test_sd, bool) or not np.isfinite(lift_test_sd) or lift_test_sd <= 0:
        raise ValueError(f"lift_test_sd must be a finite number > 0 (relative sd of the lift "
                         f"estimates), got {lift_test_sd!r}")


@dataclass
class Scenario:
    """Time-varying pieces of one scenario (shapes per unit geo size).

    Attributes:
        pattern: (T, C) spend pattern (flighting x seasonality x scenario multipliers).
        trend: (T,) trend component of the baseline, KPI units.
        trend_slope: KPI per period of a linear trend, or None for a curved trend.
        extra: (T,) additive baseline term (confounder), or None.
        effectiveness: (T,) media effectiveness multiplier with mean 1, or None.
        confounder: (T,) standardised unobserved demand factor, or None.
        no_effect: index of the channel with no effect, or None.
        params: JSON-friendly drawn scenario parameters.
    """

    pattern: np.ndarray
    trend: np.ndarray
    trend_slope: float | None
    extra: np.ndarray | None = None
    effectiveness: np.ndarray | None = None
    confounder: np.ndarray | None = None
    no_effect: int | None = None
    params: dict = field(default_factory=dict)


def _standardised_ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Smooth AR(1) series, shape (n,), standardised to mean 0 and sd 1 over time."""
    eps = rng.normal(size=n)
    out = np.empty(n)
    out[0] = eps[0]
    for t in range(1, n):
        out[t] = phi * out[t - 1] + np.sqrt(1.0 - phi**2) * eps[t]
    sd = out.std()
    return (out - out.mean()) / (sd if sd > 0 else 1.0)


def build_scenario(name: str, seed: int, *, on: np.ndarray, season: np.ndarray,
                   intercept: float, trend: float, season_coef: np.ndarray,
                   period: float) -> Scenario:
    """Apply scenario ``name`` to the default draws.

    Args:
        on: (T, C) bool on/off flighting of the default draws.
        season: (T, C) spend seasonality multipliers of the default draws.
        intercept, trend: default baseline intercept and linear trend (KPI per period).
        season_coef: (4,) KPI Fourier coefficients [sin1, cos1, sin2, cos2].
        period: periods per year.

    Returns:
        The :class:`Scenario`; for ``"default"`` exactly ``on * season`` and ``trend * t``.
    """
    n, n_ch = on.shape
    t = np.arange(n, dtype=float)
    pattern = on * season
    if name == "default":
        return Scenario(pattern=pattern, trend=trend * t, trend_slope=trend)
    rng = np.random.default_rng([int(seed), _SCENARIO_STREAM])
    pattern = pattern.copy()
    sc = Scenario(pattern=pattern, trend=trend * t, trend_slope=trend)
    if name in ("curved_baseline", "no_effect"):
        amp, tau = rng.uniform(0.3, 0.6), rng.uniform(0.15, 0.3)
        shape = 1.0 - np.exp(-t / (tau * n))
        sc.trend, sc.trend_slope = intercept * amp * shape, None
        sc.params = {"curve_amplitude": float(amp), "curve_tau": float(tau)}
        if name == "no_effect":
            last = n_ch - 1
            pattern[:, last] *= 1.0 + shape / max(shape.max(), 1e-300)
            sc.no_effect = last
    elif name == "correlated_spend":
        p_off = rng.uniform(0.3, 0.5)
        pattern[:, 0] = markov_on(rng, n, p_off, max(1, n // 4)) * season[:, 0]
        amp1 = rng.uniform(0.3, 0.5)
        phase = np.arctan2(season_coef[1], season_coef[0])  # a sin + b cos = R sin(x + phase)
        pattern[:, 1] = 1.0 + amp1 * np.sin(2.0 * np.pi * t / period + phase)
        trend_frac = rng.uniform(0.1, 0.3)
        sc.trend_slope = intercept * trend_frac / n
        sc.trend = sc.trend_slope * t
        pattern[:, 2] = season[:, 2] * (1.0 + 1.0 * t / n)
        sc.params = {"off_fraction_0": float(p_off), "season_amplitude_1": float(amp1),
                     "season_phase_1": float(phase), "trend_fraction": float(trend_frac)}
    elif name == "time_varying":
        a, w, phase = rng.uniform(0.3, 0.5), rng.uniform(0.5, 1.0), rng.uniform(0.0, 2 * np.pi)
        m = np.exp(a * np.sin(2.0 * np.pi * t / n * w + phase))
        sc.effectiveness = m / m.mean()
        sc.params = {"effect_amplitude": float(a), "effect_cycles": float(w),
                     "effect_phase": float(phase)}
    elif name == "confounded":
        u = _standardised_ar1(rng, n, 0.9)
        b = rng.uniform(0.03, 0.06)
        coef = rng.uniform(0.2, 0.35, size=min(2, n_ch))
        sc.extra = b * intercept * u
        pattern[:, : len(coef)] *= np.exp(coef[None, :] * u[:, None])
        sc.confounder = u
        sc.params = {"confounder_baseline": float(b),
                     "confounder_spend": [float(v) for v in coef]}
    return sc


def lift_tests(seed: int, spend: np.ndarray, contribution: Callable[[int, int, np.ndarray],
               np.ndarray], *, channels: list[str], dates: pd.DatetimeIndex,
               geos: list[str] | None, roi: np.ndarray, has_effect: np.ndarray,
               lift_test_sd: float) -> pd.DataFrame:
    """One simulated geo/national lift experiment per channel.

    Args:
        spend: (G, T, C) simulated spend.
        contribution: ``contribution(g, c, x)`` -> (T,) true contribution of channel ``c`` in
            geo ``g`` for a spend series ``x`` (T,), using the true parameters.
        roi: (C,) true ROI; ``has_effect`` (C,) bool marks channels with a nonzero beta.

    Returns:
        DataFrame with columns ``channel``, [``geo``], ``start``, ``end``, ``delta_spend``,
        ``lift``, ``lift_sd``, ``true_lift`` (one row per channel, in channel order).
    """
    rng = np.random.default_rng([int(seed), _LIFT_STREAM])
    n_geo, n, _ = spend.shape
    ref_roi = float(np.median(roi[has_effect])) if has_effect.any() else 1.0
    rows = []
    for c, name in enumerate(channels):
        length = min(int(rng.integers(_LIFT_LENGTH[0], _LIFT_LENGTH[1] + 1)), n)
        margin = min(_LIFT_MARGIN, (n - length) // 2)
        starts = rng.integers(margin, n - margin - length + 1, size=_LIFT_TRIES)
        frac = rng.uniform(*_LIFT_FRACTION)
        g = int(rng.integers(n_geo))
        z = rng.normal()
        x = spend[g, :, c]
        # go dark where the channel spends steadily: the window whose lowest spend is highest
        first = int(max(starts, key=lambda f: (x[f:f + length].min(), -f)))
        last = first + length - 1
        floor = x[first : last + 1].min()
        if floor <= 0:  # no steady window: add spend instead (its average, per period)
            delta = frac * x.mean() * length
        else:
            delta = -frac * floor * length
        bumped = x.copy()
        bumped[first : last + 1] += delta / length
        diff = contribution(g, c, bumped) - contribution(g, c, x)
        true_lift = float(diff[first:].sum())
        sd = lift_test_sd * (abs(true_lift) if has_effect[c] else abs(delta) * ref_roi)
        row = {"channel": name}
        if geos is not None:
            row["geo"] = geos[g]
        row.update({"start": dates[first], "end": dates[last], "delta_spend": float(delta),
                    "lift": true_lift + sd * z, "lift_sd": float(sd), "true_lift": true_lift})
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("start", "end"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    return out
