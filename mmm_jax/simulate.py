"""Ground-truth simulator for media-mix data (pure NumPy, float64).

The generator is deliberately independent of the JAX kernels in ``mmm_jax.transforms``: it is
the reference used by model-recovery tests and simulation-based calibration, so a bug in a
kernel cannot hide by also being in the data.

Generating model (per geo ``g``; national data is one geo of size 1)::

    spend[c, t]   = scale_c * size_g * flight_c[t] * season_c[t] * LogNormal(0, 0.25)
    adstock[c, t] = adstock(spend[c, :])[t]                 # original currency units
    sat[c, t]     = hill(adstock, half_max[c, g], slope_c)  # or michaelis_menten
    contrib[c, t] = beta[c, g] * sat[c, t]                  # KPI units
    mu[t]         = intercept_g + trend_g * t + fourier_g(t) [+ day_of_week_g]
                    + sum_k gamma[k, g] * control[k, t] + sum_c contrib[c, t]
    sales[t]      = mu[t] + Normal(0, sigma_g),  sigma_g = noise * mean_t(mu[t])

with the period index ``t = 0, ..., T-1`` (so ``trend`` is KPI units per period).

Parameter draws (``rng = np.random.default_rng(seed)``):

* spend: ``scale_c`` is a typical weekly spend (tv 20,000, search 3,000, social 5,000, radio
  4,000, ...; other names ``10**U(3, 4.3)``) times ``U(0.8, 1.25)``, divided by 7 for daily
  data; ``flight_c`` is a two-state Markov on/off chain (off-fraction ``U(0, 0.15)``, so a few
  zero periods, never an all-zero channel); ``season_c = 1 + U(0, 0.3) * sin(yearly)``; geo
  sizes ``exp(N(0, 0.5))`` rescaled to mean 1; spend is rounded to cents.
* adstock ``"geometric"`` (normalised, ``y_t = alpha*y_{t-1} + (1-alpha)*x_t``, ``y_{-1}=0``):
  ``alpha ~ U(0.1, 0.7)``. ``"delayed"`` (Jin et al. 2017): weights
  ``alpha**((l - theta)**2)``, ``l = 0..12``, normalised to sum 1, zeros before the start;
  ``alpha ~ U(0.3, 0.8)``, ``theta ~ U(0, 3)``.
* saturation ``"hill"``: ``a**s / (a**s + K**s)``, ``s ~ U(1, 2)``; ``"michaelis_menten"``:
  ``a / (K + a)``. In both ``K = half_max = kappa_c * mean_t(spend[c, g])``,
  ``kappa_c ~ U(0.5, 1.5)`` (original currency units, one K per channel and geo).
* contribution shares ``share_c ~ U(0.05, 0.20)`` of the noise-free KPI total; if they sum to
  more than 0.6 they are scaled down to sum 0.6 (only possible with 4+ channels). ``beta_c`` is
  solved so the shares hold exactly; geo ``g`` uses ``beta_c * size_g * exp(N(0, 0.2))``.
* baseline: ``intercept ~ sum_c scale_c * U(1, 2)``, trend over the window
  ``U(-10%, +30%)`` of the intercept, yearly Fourier seasonality of degree 2 (period 365.25/7
  periods for weekly data, 365.25 for daily) with coefficients ``N(0, (0.04*intercept)**2)``,
  day-of-week effects ``N(0, (0.03*intercept)**2)`` (daily only, centred), standardised AR(1)
  controls (``"price"`` with coefficient ``-U(0.02, 0.06)*intercept``, then ``"control_2"``,
  ... with ``N(0, (0.03*intercept)**2)``). In geo mode all of these scale with ``size_g``.

Truth (``truth["roi"]``) is incremental KPI per unit spend over the simulated window:
``sum_{g,t} contrib[c] / sum_{g,t} spend[c]``. Carryover into the window from before its start
is zero and carryover past its end is not counted.

Scenarios (``scenario=``, one of ``SCENARIOS``). ``"default"`` is the model above, bit-identical
to earlier versions. The others take every draw above from the same main stream (so they share
the default's spend jitter, transforms, shares and noise) and draw their own parameters from
``np.random.default_rng([seed, 1])``. Shapes are shared by all geos and scaled by ``size_g``
like the rest of the baseline and spend; ``t = 0..T-1``:

* ``"curved_baseline"``: the linear trend is replaced by the concave curve
  ``intercept * A * (1 - exp(-t / (tau * T)))``, ``A ~ U(0.3, 0.6)``, ``tau ~ U(0.15, 0.3)``
  (most of the rise in the first third, then flat). ``params["trend"]`` is replaced by
  ``params["trend_curve"]`` (the rise reached at ``t = T-1``).
* ``"correlated_spend"`` (C >= 3): channel 0 flighted with off-fraction ``U(0.3, 0.5)``
  (all-on only if fewer than T/4 periods are on); channel 1 always on with
  ``flight_1 * season_1 = 1 + U(0.3, 0.5) * sin(2 pi t / period + phase)``, ``phase`` the
  phase of the KPI's first harmonic (``atan2(cos1, sin1)`` coefficients), so spend peaks with
  demand; channel 2 always on with ``season_2 * (1 + 1.0 * t / T)`` while the baseline trend is
  forced positive: ``trend = intercept * U(0.1, 0.3) / T``. Other channels as default.
* ``"no_effect"`` (C >= 2): the curved baseline above; the last channel has ``share = 0``
  (``beta = 0``, contribution and ROI exactly 0) and its pattern is multiplied by
  ``1 + curve(t) / max(curve)`` (spend follows the baseline's rise, so a linear-trend model
  credits it). The other channels keep their drawn shares.
* ``"time_varying"``: ``contrib[c, t] = m(t) * beta[c, g] * sat[c, t]`` with one multiplier
  ``m(t) = exp(a * sin(2 pi t / T * w + phase))``, ``a ~ U(0.3, 0.5)``, ``w ~ U(0.5, 1)``,
  ``phase ~ U(0, 2 pi)``, divided by its mean over t (``truth["effectiveness"]``).
* ``"confounded"``: an unobserved demand factor ``u(t)`` (AR(1), ``phi = 0.9``, standardised
  to mean 0 and sd 1 over t; ``truth["confounder"]``, not a frame column) adds
  ``U(0.03, 0.06) * intercept * u(t)`` to the baseline and multiplies the pattern of channels
  0 and 1 by ``exp(U(0.2, 0.35) * u(t))`` (one coefficient per channel).

In every scenario ``beta`` is solved after the scenario is applied, so the contribution shares
hold exactly (the no-effect channel's share is 0); ``params["scenario"]`` records the draws.

Lift tests (``truth["lift_tests"]``, every scenario; drawn from
``np.random.default_rng([seed, 7])``, so they change nothing else). One experiment per channel,
in one geo ``g ~ U{geos}`` in geo mode: a window of ``L ~ U{4..8}`` periods with
``8 <= start`` and ``end <= T - 9`` (``start`` uniform on the allowed range; for T < 24 the
margins shrink to ``(T - L) // 2``); ``delta_spend = U(0.3, 0.6) * sum(spend[g, start..end, c])``
(the channel's average spend times L if it is off over the whole window), added evenly,
``delta_spend / L`` per period, over ``start..end`` inclusive. ``true_lift`` is the incremental
KPI up to the end of the data, ``sum_{t >= start} contrib(spend + delta)[t] - contrib(spend)[t]``
(true adstock, saturation with the fixed ``half_max``, ``beta`` and ``m(t)``; carryover after
``end`` counted, past ``T-1`` not). ``lift = true_lift + lift_sd * N(0, 1)`` with
``lift_sd = lift_test_sd * |true_lift|``, or ``lift_test_sd * delta_spend * median(roi of the
channels with an effect)`` for a no-effect channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mmm_jax._scenarios import SCENARIOS, build_scenario, lift_tests, markov_on, validate_scenario

__all__ = ["SCENARIOS", "simulate"]

_ADSTOCKS = ("geometric", "delayed")
_SATURATIONS = ("hill", "michaelis_menten")
_FREQS = {"W": (7, 365.25 / 7), "D": (1, 365.25)}  # days per period, periods per year
_DELAYED_LAGS = 13
_SHARE_RANGE = (0.05, 0.20)
_MAX_TOTAL_SHARE = 0.6
_SPEND_SCALE = {"tv": 20_000.0, "search": 3_000.0, "social": 5_000.0, "radio": 4_000.0,
                "print": 2_000.0, "display": 2_500.0, "ooh": 6_000.0, "video": 8_000.0}
_RESERVED = ("date", "geo", "sales")


def _geometric_adstock(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Normalised geometric adstock over axis -2 of ``x`` (..., time, channel)."""
    out = np.empty_like(x)
    prev = np.zeros(x.shape[:-2] + x.shape[-1:])
    for t in range(x.shape[-2]):
        prev = alpha * prev + (1.0 - alpha) * x[..., t, :]
        out[..., t, :] = prev
    return out


def _delayed_weights(alpha: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Jin et al. (2017) delayed-adstock weights, shape (lag, channel), summing to 1."""
    lags = np.arange(_DELAYED_LAGS, dtype=float)[:, None]
    w = alpha[None, :] ** ((lags - theta[None, :]) ** 2)
    return w / w.sum(axis=0, keepdims=True)


def _delayed_adstock(x: np.ndarray, alpha: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Delayed adstock over axis -2 of ``x`` with zero padding before the start."""
    w = _delayed_weights(alpha, theta)
    out = np.zeros_like(x)
    n_time = x.shape[-2]
    for lag in range(min(_DELAYED_LAGS, n_time)):
        out[..., lag:, :] += w[lag] * x[..., : n_time - lag, :]
    return out


def _adstock(x: np.ndarray, alpha: np.ndarray, theta: np.ndarray | None) -> np.ndarray:
    """Geometric (``theta is None``) or delayed adstock over axis -2 of ``x``."""
    return _geometric_adstock(x, alpha) if theta is None else _delayed_adstock(x, alpha, theta)


def _saturate(a: np.ndarray, half_max: np.ndarray, slope: np.ndarray | None) -> np.ndarray:
    """Hill (``slope`` given) or Michaelis-Menten (``slope is None``) saturation."""
    if slope is None:
        return a / (half_max + a)
    a_s = a**slope
    return a_s / (a_s + half_max**slope)


def _flight_parts(rng: np.random.Generator, n: int, period: float) -> tuple[np.ndarray, ...]:
    """On/off flighting (bool) and a smooth seasonal multiplier for one channel, each (n,)."""
    on = markov_on(rng, n, rng.uniform(0.0, 0.15), max(1, n // 2))
    phase = rng.uniform(0.0, 2.0 * np.pi)
    season = 1.0 + rng.uniform(0.0, 0.3) * np.sin(2.0 * np.pi * np.arange(n) / period + phase)
    return on, season


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], phi: float = 0.8) -> np.ndarray:
    """AR(1) noise along the last axis with unit marginal variance."""
    eps = rng.normal(size=shape)
    out = np.empty(shape)
    out[..., 0] = eps[..., 0]
    for t in range(1, shape[-1]):
        out[..., t] = phi * out[..., t - 1] + np.sqrt(1.0 - phi**2) * eps[..., t]
    return out


def _control_names(n_controls: int) -> list[str]:
    return ["price"] + [f"control_{k + 1}" for k in range(1, n_controls)] if n_controls else []


def _validate(n_periods, channels, n_geos, freq, adstock, saturation, noise, n_controls):
    if not isinstance(n_periods, int | np.integer) or n_periods < 4:
        raise ValueError(f"n_periods must be an integer >= 4, got {n_periods!r}; pass more periods")
    if len(channels) == 0 or len(set(channels)) != len(channels):
        raise ValueError(f"channels must be non-empty and unique, got {list(channels)!r}")
    clash = set(channels) & (set(_RESERVED) | set(_control_names(n_controls)))
    if clash:
        raise ValueError(f"channel names {sorted(clash)} clash with reserved columns; rename them")
    if n_geos is not None and (not isinstance(n_geos, int | np.integer) or n_geos < 1):
        raise ValueError(f"n_geos must be None or an integer >= 1, got {n_geos!r}")
    if freq not in _FREQS:
        raise ValueError(f"freq must be one of {sorted(_FREQS)}, got {freq!r}")
    if adstock not in _ADSTOCKS:
        raise ValueError(f"unknown adstock {adstock!r}; choose one of {list(_ADSTOCKS)}")
    if saturation not in _SATURATIONS:
        raise ValueError(f"unknown saturation {saturation!r}; choose one of {list(_SATURATIONS)}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if not isinstance(n_controls, int | np.integer) or n_controls < 0:
        raise ValueError(f"n_controls must be an integer >= 0, got {n_controls!r}")


def _out(values: np.ndarray, geo: bool) -> float | list[float]:
    """A per-geo array as a JSON-friendly list (geo mode) or a float (national)."""
    values = np.asarray(values, dtype=float)
    return [float(v) for v in values] if geo else float(values[0])


def simulate(
    seed: int = 0,
    *,
    n_periods: int = 156,
    channels: Sequence[str] = ("tv", "search", "social"),
    n_geos: int | None = None,
    freq: str = "W",
    adstock: str = "geometric",
    saturation: str = "hill",
    noise: float = 0.05,
    start: str = "2022-01-03",
    n_controls: int = 1,
    scenario: str = "default",
    lift_test_sd: float = 0.1,
) -> tuple[pd.DataFrame, dict]:
    """Simulate media-mix data with known ground truth (see the module docstring).

    Args:
        seed: seed for ``np.random.default_rng``; the same seed gives an identical frame.
        n_periods: number of periods T (>= 4).
        channels: channel names C; each becomes a spend column in currency units.
        n_geos: None for national data, else G geos in long format with a ``"geo"`` column.
        freq: ``"W"`` (7-day steps from ``start``) or ``"D"`` (daily, adds day-of-week effects).
        adstock: ``"geometric"`` (normalised) or ``"delayed"`` (Jin et al. 2017, 13 lags).
        saturation: ``"hill"`` or ``"michaelis_menten"``.
        noise: observation sd as a fraction of each geo's mean noise-free KPI.
        start: first date.
        n_controls: number K of standardised controls (``"price"``, ``"control_2"``, ...).
        scenario: one of ``SCENARIOS`` (see the module docstring); ``"default"`` reproduces
            earlier versions bit for bit.
        lift_test_sd: relative sd (> 0) of the simulated lift-test estimates.

    Returns:
        ``(df, truth)``. ``df`` has columns ``date``, [``geo``], ``sales``, one per channel,
        one per control; T rows (national) or G*T rows sorted by geo then date. ``truth`` is
        JSON-serialisable: ``roi``, ``contribution``, ``contribution_share`` (of the noise-free
        KPI total), ``spend`` (totals), ``params`` (``alpha``, ``theta`` for delayed,
        ``kappa``, ``half_max``, ``slope`` for hill, ``beta``, ``intercept``, ``trend`` (KPI per
        period), ``seasonality`` ([sin1, cos1, sin2, cos2]), ``day_of_week`` (daily),
        ``gamma``, ``sigma``, ``geo_size``, ``trend_curve`` instead of ``trend`` for curved
        baselines, ``scenario`` (drawn scenario parameters; non-default only)), ``geos``,
        ``settings`` (the arguments), ``contributions`` (channel -> T weekly contributions
        summed over geos), ``baseline_trend`` (T values of the trend component, summed over
        geos), ``effectiveness`` (``"time_varying"``: T values of m(t)) and ``confounder``
        (``"confounded"``: T values of u(t)). In geo mode every geo-specific value is a list
        ordered like ``truth["geos"]``. Everything is JSON-serialisable except
        ``truth["lift_tests"]``, a DataFrame with columns ``channel``, [``geo``], ``start``,
        ``end`` (Timestamps from ``df["date"]``, inclusive), ``delta_spend``, ``lift``,
        ``lift_sd``, ``true_lift``; use ``truth["lift_tests"].to_dict("records")`` (dates as
        strings) for JSON.

    Raises:
        ValueError: on an unknown adstock/saturation/freq/scenario, bad sizes, too few channels
            for a scenario, ``lift_test_sd`` not finite and > 0, a channel named like a
            reserved column, or when ``noise`` is so large that a KPI value is not positive.

    References:
        Jin, Wang, Sun, Chan and Koehler (2017), "Bayesian methods for media mix modeling with
        carryover and shape effects", Google Inc.

    >>> df, truth = simulate(seed=0, n_periods=52)
    >>> df.shape, list(df.columns)
    ((52, 6), ['date', 'sales', 'tv', 'search', 'social', 'price'])
    >>> sorted(truth["roi"]) == ["search", "social", "tv"]
    True
    """
    channels = [str(c) for c in channels]
    _validate(n_periods, channels, n_geos, freq, adstock, saturation, noise, n_controls)
    validate_scenario(scenario, len(channels), lift_test_sd)
    rng = np.random.default_rng(seed)
    geo_mode = n_geos is not None
    G, T, C, K = (n_geos or 1), int(n_periods), len(channels), int(n_controls)
    step_days, period = _FREQS[freq]
    t_idx = np.arange(T, dtype=float)

    # --- main-stream draws, in their historical order (scenario="default" is unchanged) ---
    size = np.exp(rng.normal(0.0, 0.5, size=G)) if geo_mode else np.ones(1)
    size = size / size.mean()
    scale = np.array([_SPEND_SCALE.get(c.lower(), 10 ** rng.uniform(3.0, 4.3)) for c in channels])
    scale = scale * rng.uniform(0.8, 1.25, size=C) * step_days / 7.0
    on, season = (np.stack(v, axis=-1) for v in
                  zip(*[_flight_parts(rng, T, period) for _ in range(C)], strict=True))  # (T, C)
    jitter = np.exp(rng.normal(0.0, 0.25, size=(G, T, C)))
    if adstock == "geometric":
        alpha, theta = rng.uniform(0.1, 0.7, size=C), None
    else:
        alpha, theta = rng.uniform(0.3, 0.8, size=C), rng.uniform(0.0, 3.0, size=C)
    kappa = rng.uniform(0.5, 1.5, size=C)
    slope = rng.uniform(1.0, 2.0, size=C) if saturation == "hill" else None
    intercept0 = scale.sum() * rng.uniform(1.0, 2.0)
    trend0 = intercept0 * rng.uniform(-0.1, 0.3) / T
    season0 = rng.normal(0.0, 0.04 * intercept0, size=4)
    dow0 = np.zeros(7)
    if freq == "D":
        dow0 = rng.normal(0.0, 0.03 * intercept0, size=7)
        dow0 -= dow0.mean()
    gamma0 = np.array([-rng.uniform(0.02, 0.06) if k == 0 else rng.normal(0.0, 0.03)
                       for k in range(K)]) * intercept0
    controls = np.zeros((0, G, T))  # (K, G, T): shared AR(1) + geo AR(1), standardised per geo
    if K:
        controls = _ar1(rng, (K, T))[:, None, :] + 0.5 * _ar1(rng, (K, G, T))
        controls = (controls - controls.mean(-1, keepdims=True)) / controls.std(-1, keepdims=True)

    # --- scenario (its own stream), media spend (G, T, C) and transforms ---
    sc = build_scenario(scenario, seed, on=on, season=season, intercept=intercept0,
                        trend=trend0, season_coef=season0, period=period)
    spend = np.round(scale * size[:, None, None] * sc.pattern * jitter, 2)
    ad = _adstock(spend, alpha, theta)
    half_max = kappa * spend.mean(axis=1)  # (G, C)
    sat = _saturate(ad, half_max[:, None, :], slope)  # (G, T, C)
    eff = sat if sc.effectiveness is None else sc.effectiveness[None, :, None] * sat

    # --- baseline (G, T) ---
    angle = 2.0 * np.pi * t_idx / period
    fourier = np.stack([f(k * angle) for k in (1, 2) for f in (np.sin, np.cos)], axis=-1)  # (T, 4)
    dates = pd.Timestamp(start) + pd.to_timedelta(np.arange(T) * step_days, unit="D")
    dow_effect = dow0[dates.day_of_week.to_numpy()]
    baseline0 = intercept0 + sc.trend + fourier @ season0 + dow_effect
    if sc.extra is not None:
        baseline0 = baseline0 + sc.extra
    baseline = size[:, None] * (baseline0[None, :] + np.einsum("k,kgt->gt", gamma0, controls))

    # --- coefficients: shares of the noise-free KPI total ---
    share = rng.uniform(*_SHARE_RANGE, size=C)
    if share.sum() > _MAX_TOTAL_SHARE:
        share *= _MAX_TOTAL_SHARE / share.sum()
    if sc.no_effect is not None:
        share[sc.no_effect] = 0.0
    beta_mult = size[:, None] * (np.exp(rng.normal(0.0, 0.2, size=(G, C))) if geo_mode else 1.0)
    sat_total = (beta_mult[:, None, :] * eff).sum(axis=(0, 1))  # (C,)
    beta0 = share * baseline.sum() / ((1.0 - share.sum()) * sat_total)
    beta = beta0 * beta_mult  # (G, C)
    contrib = beta[:, None, :] * eff  # (G, T, C)
    mu = baseline + contrib.sum(axis=-1)
    sigma = noise * mu.mean(axis=1)  # (G,)
    sales = mu + sigma[:, None] * rng.normal(size=(G, T))
    if np.any(sales <= 0) or np.any(mu <= 0):
        raise ValueError(f"noise={noise} (seed={seed}) produced a non-positive KPI value; "
                         "KPI must stay positive, use a smaller noise (e.g. <= 0.3)")

    # --- assemble the long frame ---
    geos = [f"geo_{g:02d}" for g in range(G)]
    cols: dict[str, object] = {"date": np.tile(dates.to_numpy().astype("datetime64[ns]"), G)}
    if geo_mode:
        cols["geo"] = np.repeat(geos, T)
    cols["sales"] = sales.reshape(-1)
    for c, name in enumerate(channels):
        cols[name] = spend[:, :, c].reshape(-1)
    for k, name in enumerate(_control_names(K)):
        cols[name] = controls[k].reshape(-1)
    df = pd.DataFrame(cols)

    tot_contrib, tot_spend = contrib.sum(axis=(0, 1)), spend.sum(axis=(0, 1))
    per_c = lambda v: {c: float(v[i]) for i, c in enumerate(channels)}  # noqa: E731
    per_cg = lambda v: {c: _out(v[:, i], geo_mode) for i, c in enumerate(channels)}  # noqa: E731
    params: dict[str, object] = {"alpha": per_c(alpha)}
    if theta is not None:
        params["theta"] = per_c(theta)
    params.update({"kappa": per_c(kappa), "half_max": per_cg(half_max)})
    if slope is not None:
        params["slope"] = per_c(slope)
    params.update({
        "beta": per_cg(beta),
        "intercept": _out(intercept0 * size, geo_mode),
        "seasonality": ([[float(v) for v in season0 * s] for s in size] if geo_mode
                        else [float(v) for v in season0]),
        "gamma": {n: _out(gamma0[k] * size, geo_mode) for k, n in enumerate(_control_names(K))},
        "sigma": _out(sigma, geo_mode),
        "geo_size": _out(size, geo_mode),
    })
    if sc.trend_slope is not None:
        params["trend"] = _out(sc.trend_slope * size, geo_mode)
    else:
        params["trend_curve"] = _out(sc.trend[-1] * size, geo_mode)  # KPI rise by t = T-1
    if freq == "D":
        params["day_of_week"] = ([[float(v) for v in dow0 * s] for s in size] if geo_mode
                                 else [float(v) for v in dow0])
    if scenario != "default":
        params["scenario"] = sc.params
    roi = tot_contrib / tot_spend

    def contribution(g: int, c: int, x: np.ndarray) -> np.ndarray:
        """True contribution (T,) of channel ``c`` in geo ``g`` for spend series ``x`` (T,)."""
        a = _adstock(x[:, None], alpha[c : c + 1], None if theta is None else theta[c : c + 1])
        s = _saturate(a, half_max[g, c : c + 1], None if slope is None else slope[c : c + 1])
        s = s[:, 0] if sc.effectiveness is None else sc.effectiveness * s[:, 0]
        return beta[g, c] * s

    lifts = lift_tests(seed, spend, contribution, channels=channels, dates=dates,
                       geos=geos if geo_mode else None, roi=roi, has_effect=beta0 != 0,
                       lift_test_sd=float(lift_test_sd))
    truth = {
        "roi": per_c(roi),
        "contribution": per_c(tot_contrib),
        "contribution_share": per_c(tot_contrib / mu.sum()),
        "spend": per_c(tot_spend),
        "kpi_total": float(sales.sum()),
        "params": params,
        "geos": geos if geo_mode else None,
        "settings": {"seed": int(seed), "n_periods": T, "channels": channels,
                     "n_geos": None if n_geos is None else int(n_geos), "freq": freq,
                     "adstock": adstock, "saturation": saturation, "noise": float(noise),
                     "start": str(start), "n_controls": K, "scenario": scenario,
                     "lift_test_sd": float(lift_test_sd)},
        "contributions": {c: [float(v) for v in contrib[:, :, i].sum(axis=0)]
                          for i, c in enumerate(channels)},
        "baseline_trend": [float(v) for v in sc.trend * size.sum()],
        "lift_tests": lifts,
    }
    if sc.effectiveness is not None:
        truth["effectiveness"] = [float(v) for v in sc.effectiveness]
    if sc.confounder is not None:
        truth["confounder"] = [float(v) for v in sc.confounder]
    return df, truth
