"""Tests for mmm_jax.simulate (pure NumPy / pandas, no JAX needed)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mmm_jax.simulate import simulate

VARIANTS = {
    "national": {},
    "geo": {"n_geos": 4, "n_periods": 52, "seed": 3},
    "delayed_mm_daily": {"adstock": "delayed", "saturation": "michaelis_menten", "freq": "D",
                         "n_periods": 90, "n_controls": 2, "seed": 5},
    "delayed_hill_geo": {"adstock": "delayed", "n_geos": 3, "n_periods": 40, "seed": 7},
    "many_channels": {"channels": [f"ch{i}" for i in range(7)], "n_controls": 0, "seed": 9},
}


def _loop_adstock(x: np.ndarray, params: dict, c: str, kind: str) -> np.ndarray:
    """Independent reference: explicit double loop over time (and lags) for one series."""
    alpha = params["alpha"][c]
    y = np.zeros_like(x)
    if kind == "geometric":
        prev = 0.0
        for t in range(len(x)):
            prev = x[t] + alpha * prev  # y_t = x_t + alpha * y_{t-1}, then times (1 - alpha)
            y[t] = (1.0 - alpha) * prev
        return y
    theta = params["theta"][c]
    w = np.array([alpha ** ((lag - theta) ** 2) for lag in range(13)])
    w = w / w.sum()
    for t in range(len(x)):
        y[t] = sum(w[lag] * x[t - lag] for lag in range(13) if t - lag >= 0)
    return y


def _recompute_contributions(df: pd.DataFrame, truth: dict) -> dict[str, float]:
    s, p = truth["settings"], truth["params"]
    geos = truth["geos"] or [None]
    out = {}
    for c in s["channels"]:
        total = 0.0
        for g, geo in enumerate(geos):
            rows = df if geo is None else df[df["geo"] == geo]
            pick = (lambda v: v) if geo is None else (lambda v, g=g: v[g])  # noqa: E731
            a = _loop_adstock(rows[c].to_numpy(), p, c, s["adstock"])
            k = pick(p["half_max"][c])
            if s["saturation"] == "hill":
                sat = a ** p["slope"][c] / (a ** p["slope"][c] + k ** p["slope"][c])
            else:
                sat = a / (k + a)
            total += pick(p["beta"][c]) * sat.sum()
        out[c] = total
    return out


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def sim(request):
    return simulate(**VARIANTS[request.param])


def test_same_seed_identical_and_other_seed_different():
    a, ta = simulate(seed=11, n_periods=30)
    b, tb = simulate(seed=11, n_periods=30)
    c, _ = simulate(seed=12, n_periods=30)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(ta.pop("lift_tests"), tb.pop("lift_tests"), check_exact=True)
    assert ta == tb
    assert not np.allclose(a["sales"], c["sales"])


def test_truth_roi_matches_independent_recomputation(sim):
    df, truth = sim
    contrib = _recompute_contributions(df, truth)
    for c, value in contrib.items():
        spend = df[c].sum()
        np.testing.assert_allclose(value, truth["contribution"][c], rtol=1e-10)
        np.testing.assert_allclose(value / spend, truth["roi"][c], rtol=1e-10)
        np.testing.assert_allclose(spend, truth["spend"][c], rtol=1e-12)


def test_half_max_is_kappa_times_mean_spend(sim):
    df, truth = sim
    p = truth["params"]
    for c in truth["settings"]["channels"]:
        if truth["geos"] is None:
            np.testing.assert_allclose(p["half_max"][c], p["kappa"][c] * df[c].mean(), rtol=1e-12)
        else:
            means = df.groupby("geo", sort=False)[c].mean().loc[truth["geos"]].to_numpy()
            np.testing.assert_allclose(p["half_max"][c], p["kappa"][c] * means, rtol=1e-12)
        assert 0.5 <= p["kappa"][c] <= 1.5


def test_documented_ranges_and_data_sanity(sim):
    df, truth = sim
    s, p = truth["settings"], truth["params"]
    channels = s["channels"]
    shares = np.array([truth["contribution_share"][c] for c in channels])
    assert shares.sum() <= 0.6 + 1e-12
    if len(channels) <= 4:
        assert np.all((shares >= 0.05 - 1e-12) & (shares <= 0.20 + 1e-12)), shares
    lo, hi = (0.1, 0.7) if s["adstock"] == "geometric" else (0.3, 0.8)
    assert all(lo <= p["alpha"][c] <= hi for c in channels)
    if s["saturation"] == "hill":
        assert all(1.0 <= p["slope"][c] <= 2.0 for c in channels)
    else:
        assert "slope" not in p
    assert df.notna().all().all()
    assert (df["sales"] > 0).all()
    assert (df[channels] >= 0).all().all()
    assert (df[channels].sum() > 0).all()
    assert all(truth["roi"][c] > 0 for c in channels)
    json.dumps({k: v for k, v in truth.items() if k != "lift_tests"})  # JSON-serialisable


def test_columns_and_geo_panel_complete(sim):
    df, truth = sim
    s = truth["settings"]
    controls = (["price"] + [f"control_{k}" for k in range(2, s["n_controls"] + 1)]
                if s["n_controls"] else [])
    geo_cols = [] if truth["geos"] is None else ["geo"]
    assert list(df.columns) == ["date", *geo_cols, "sales", *s["channels"], *controls]
    n_geos = s["n_geos"] or 1
    assert len(df) == n_geos * s["n_periods"]
    step = pd.Timedelta(days=7 if s["freq"] == "W" else 1)
    dates = df["date"].drop_duplicates()
    assert len(dates) == s["n_periods"] and (dates.diff().dropna() == step).all()
    assert dates.iloc[0] == pd.Timestamp(s["start"])
    if geo_cols:
        full = pd.MultiIndex.from_product([truth["geos"], dates])
        assert df.set_index(["geo", "date"]).index.sort_values().equals(full.sort_values())
    for k in controls:  # standardised per geo
        stats = df.groupby(geo_cols or (lambda _: 0))[k].agg(["mean", "std"])
        np.testing.assert_allclose(stats["mean"], 0.0, atol=1e-12)


def test_noise_sigma_is_fraction_of_mean_kpi():
    _, t0 = simulate(seed=2, n_periods=40, noise=0.0)
    df, t1 = simulate(seed=2, n_periods=40, noise=0.1)
    np.testing.assert_allclose(t1["params"]["sigma"], 0.1 * t0["kpi_total"] / 40, rtol=1e-12)
    assert t0["roi"] == t1["roi"]


@pytest.mark.parametrize(
    "kwargs",
    [{"adstock": "weibull"}, {"saturation": "tanh"}, {"freq": "M"}, {"n_periods": 2},
     {"channels": ()}, {"channels": ("tv", "tv")}, {"channels": ("sales",)}, {"noise": -1.0},
     {"n_geos": 0}, {"n_controls": -1}],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        simulate(**kwargs)


def test_huge_noise_raises_instead_of_negative_kpi():
    with pytest.raises(ValueError, match="non-positive KPI"):
        simulate(seed=0, n_periods=52, noise=5.0)
