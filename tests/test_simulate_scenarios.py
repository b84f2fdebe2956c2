"""Tests for the ``scenario=`` variants and ``truth["lift_tests"]`` of mmm_jax.simulate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mmm_jax.simulate import SCENARIOS, simulate

MODES = {"national": {"n_periods": 60}, "geo": {"n_geos": 3, "n_periods": 40}}
PER_YEAR = 365.25 / 7


def _frame_and_json_truth(df, truth):
    return df, {k: v for k, v in truth.items() if k != "lift_tests"}


def _loop_contribution(x, truth, c, g, eff=None):
    """Independent float64 reference: explicit loops over periods (and lags) for one series."""
    p, s = truth["params"], truth["settings"]
    pick = (lambda v: v) if truth["geos"] is None else (lambda v: v[g])  # noqa: E731
    alpha, k, beta = p["alpha"][c], pick(p["half_max"][c]), pick(p["beta"][c])
    n = len(x)
    a = np.zeros(n)
    if s["adstock"] == "geometric":
        prev = 0.0
        for t in range(n):
            prev = alpha * prev + (1.0 - alpha) * x[t]
            a[t] = prev
    else:
        w = np.array([alpha ** ((lag - p["theta"][c]) ** 2) for lag in range(13)])
        w = w / w.sum()
        for t in range(n):
            a[t] = sum(w[lag] * x[t - lag] for lag in range(13) if t - lag >= 0)
    out = np.zeros(n)
    for t in range(n):
        if s["saturation"] == "hill":
            sat = a[t] ** p["slope"][c] / (a[t] ** p["slope"][c] + k ** p["slope"][c])
        else:
            sat = a[t] / (k + a[t])
        out[t] = (1.0 if eff is None else eff[t]) * beta * sat
    return out


def _loop_lift(df, truth, row):
    """Recompute one experiment's true lift from the frame and the truth parameters."""
    geo = row.get("geo")
    g = 0 if geo is None else truth["geos"].index(geo)
    rows = df if geo is None else df[df["geo"] == geo]
    dates = list(rows["date"])
    x = rows[row["channel"]].to_numpy(dtype=float)
    first, last = dates.index(row["start"]), dates.index(row["end"])
    bumped = x.copy()
    for t in range(first, last + 1):
        bumped[t] += row["delta_spend"] / (last - first + 1)
    eff = truth.get("effectiveness")
    new = _loop_contribution(bumped, truth, row["channel"], g, eff)
    old = _loop_contribution(x, truth, row["channel"], g, eff)
    return sum(new[t] - old[t] for t in range(first, len(x)))


@pytest.fixture(scope="module", params=[(s, m) for s in SCENARIOS for m in MODES],
                ids=lambda v: f"{v[0]}-{v[1]}")
def sim(request):
    scenario, mode = request.param
    return simulate(seed=4, scenario=scenario, **MODES[mode])


def test_default_scenario_is_unchanged():
    """Explicit default == implicit default, pinned values of seed 0, and lift tests (their own
    stream) leave the main stream alone: the frame does not depend on lift_test_sd."""
    a, ta = simulate(seed=0)
    b, tb = simulate(seed=0, scenario="default", lift_test_sd=0.5)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert _frame_and_json_truth(a, ta)[1] | {"settings": None} == \
        _frame_and_json_truth(b, tb)[1] | {"settings": None}
    pinned = {"sales": [85374.22130477885, 100311.56658454335, 99596.81005875215],
              "tv": [22783.98, 17892.57, 13576.85], "search": [3585.56, 4017.31, 3895.95],
              "price": [-0.48205664475671417, 0.7372284686680957, 1.3571461178745217]}
    for col, values in pinned.items():  # values of simulate(seed=0) before scenarios existed
        np.testing.assert_allclose(a[col].iloc[[0, 77, 155]], values, rtol=1e-12)
    np.testing.assert_allclose(ta["roi"]["tv"], 0.8239476510861341, rtol=1e-12)
    shares = np.array(list(ta["contribution_share"].values()))
    assert np.all((shares >= 0.05) & (shares <= 0.20))
    np.testing.assert_allclose(ta["lift_tests"]["lift_sd"] / tb["lift_tests"]["lift_sd"], 0.2)


def test_every_scenario_runs_and_is_deterministic(sim):
    df, truth = sim
    s = truth["settings"]
    again_df, again = simulate(seed=4, scenario=s["scenario"], n_periods=s["n_periods"],
                               n_geos=s["n_geos"])
    pd.testing.assert_frame_equal(df, again_df, check_exact=True)
    pd.testing.assert_frame_equal(truth["lift_tests"], again["lift_tests"], check_exact=True)
    assert _frame_and_json_truth(df, truth)[1] == _frame_and_json_truth(df, again)[1]
    assert df.notna().all().all() and (df["sales"] > 0).all()
    T, channels = s["n_periods"], s["channels"]
    assert s["lift_test_sd"] == 0.1
    for c in channels:  # weekly contributions add up to the totals, shares as drawn
        assert len(truth["contributions"][c]) == T
        np.testing.assert_allclose(sum(truth["contributions"][c]), truth["contribution"][c],
                                   rtol=1e-10)
        share = truth["contribution_share"][c]
        assert share == 0.0 if s["scenario"] == "no_effect" and c == channels[-1] else \
            0.05 - 1e-12 <= share <= 0.2 + 1e-12
    assert len(truth["baseline_trend"]) == T
    json.dumps(_frame_and_json_truth(df, truth)[1])
    json.dumps(truth["lift_tests"].to_dict("records"), default=str)


def test_lift_tests_columns_dtypes_and_windows(sim):
    df, truth = sim
    lt, s = truth["lift_tests"], truth["settings"]
    geo = [] if truth["geos"] is None else ["geo"]
    assert list(lt.columns) == ["channel", *geo, "start", "end", "delta_spend", "lift",
                                "lift_sd", "true_lift"]
    assert lt["channel"].tolist() == s["channels"]
    assert lt["start"].dtype == "datetime64[ns]" and lt["end"].dtype == "datetime64[ns]"
    for col in ("delta_spend", "lift", "lift_sd", "true_lift"):
        assert lt[col].dtype == np.float64
    assert (lt["delta_spend"] != 0).all() and (lt["lift_sd"] > 0).all()
    # go-dark tests never take spend below zero (even spreading over the window)
    if geo:
        assert set(lt["geo"]) <= set(df["geo"])
    dates = list(df["date"].drop_duplicates())
    for _, row in lt.iterrows():
        first, last = dates.index(row["start"]), dates.index(row["end"])
        assert 4 <= last - first + 1 <= 8 and first >= 8 and last <= len(dates) - 9
        if row["delta_spend"] < 0:
            rows = df if not geo else df[df["geo"] == row["geo"]]
            window = rows[row["channel"]].to_numpy()[first:last + 1]
            assert (window + row["delta_spend"] / (last - first + 1) >= -1e-9).all()


def test_lift_matches_independent_loop(sim):
    df, truth = sim
    for row in truth["lift_tests"].to_dict("records"):
        expected = _loop_lift(df, truth, row)
        np.testing.assert_allclose(row["true_lift"], expected, rtol=1e-10, atol=1e-12)


def test_delayed_adstock_lift_matches_loop():
    df, truth = simulate(seed=6, n_periods=50, adstock="delayed", saturation="michaelis_menten",
                         n_geos=2, scenario="time_varying")
    for row in truth["lift_tests"].to_dict("records"):
        np.testing.assert_allclose(row["true_lift"], _loop_lift(df, truth, row), rtol=1e-10)


def test_lift_noise_is_standard_normal_over_seeds():
    """200 seeds give 200 independent z = (lift - true_lift) / lift_sd per channel position; if
    z ~ N(0, 1) their mean has sd 1/sqrt(200), so |mean| < 4/sqrt(200) is a 4-sigma bound
    (false-alarm probability ~6e-5; the check is deterministic given the seeds)."""
    z = np.array([simulate(seed=s, n_periods=30, channels=("tv",))[1]["lift_tests"]
                  .eval("(lift - true_lift) / lift_sd").iloc[0] for s in range(200)])
    assert abs(z.mean()) < 4 / np.sqrt(200)
    assert 0.7 < z.std() < 1.3


def test_no_effect_channel_is_exactly_zero():
    for kw in MODES.values():
        df, truth = simulate(seed=2, scenario="no_effect", **kw)
        last = truth["settings"]["channels"][-1]
        assert truth["roi"][last] == 0.0 and truth["contribution"][last] == 0.0
        assert all(v == 0.0 for v in truth["contributions"][last])
        row = truth["lift_tests"].set_index("channel").loc[last]
        assert row["true_lift"] == 0.0 and row["lift_sd"] > 0
        assert np.corrcoef(df.groupby("date")[last].sum(), truth["baseline_trend"])[0, 1] > 0.3


def test_curved_baseline_is_concave():
    for scenario in ("curved_baseline", "no_effect"):
        for seed in range(5):
            _, truth = simulate(seed=seed, scenario=scenario, n_periods=104)
            trend = np.array(truth["baseline_trend"])
            assert np.all(np.diff(trend, 2) < 0) and trend[-1] > 0.25 * trend.max()
            assert "trend" not in truth["params"] and "trend_curve" in truth["params"]


def test_correlated_spend_correlations():
    """Rule: over seeds 0..19 (156 weeks), channel 1's spend correlates > 0.5 with the KPI's
    first harmonic in every seed, and the 4-week moving average of channel 2's spend correlates
    > 0.6 with t in at least 80% of seeds (> 0.3 raw in all): at the specified slope
    ``1 + t/T`` the weekly LogNormal(0, 0.25) jitter alone caps the raw corr near 0.6."""
    hits = 0
    for seed in range(20):
        df, truth = simulate(seed=seed, scenario="correlated_spend")
        t = np.arange(len(df), dtype=float)
        sn, cs = truth["params"]["seasonality"][:2]
        harmonic = sn * np.sin(2 * np.pi * t / PER_YEAR) + cs * np.cos(2 * np.pi * t / PER_YEAR)
        assert np.corrcoef(df["search"], harmonic)[0, 1] > 0.5
        social = df["social"].to_numpy()
        assert np.corrcoef(social, t)[0, 1] > 0.3
        smooth = np.convolve(social, np.ones(4) / 4, mode="valid")
        hits += np.corrcoef(smooth, t[: len(smooth)])[0, 1] > 0.6
        assert truth["params"]["trend"] > 0
        assert (df["tv"] == 0).mean() > 0.1 and (df["search"] > 0).all()
    assert hits >= 16


def test_time_varying_multiplier():
    df, truth = simulate(seed=3, scenario="time_varying", n_periods=80)
    base_df, base = simulate(seed=3, n_periods=80)
    m = np.array(truth["effectiveness"])
    np.testing.assert_allclose(m.mean(), 1.0, rtol=1e-12)
    assert m.max() / m.min() > 1.5
    pd.testing.assert_frame_equal(df.drop(columns="sales"), base_df.drop(columns="sales"))
    for c in truth["settings"]["channels"]:  # same spend, so contrib = m(t) * beta' * sat(t)
        ratio = np.array(truth["contributions"][c]) / np.array(base["contributions"][c])
        np.testing.assert_allclose(ratio / m, (ratio / m)[0], rtol=1e-10)
        np.testing.assert_allclose(truth["contribution_share"][c],
                                   base["contribution_share"][c], rtol=1e-10)


def test_confounder_drives_spend_and_is_hidden():
    df, truth = simulate(seed=5, scenario="confounded")
    _, base = simulate(seed=5)
    u = np.array(truth["confounder"])
    np.testing.assert_allclose([u.mean(), u.std()], [0.0, 1.0], atol=1e-12)
    assert "confounder" not in df.columns and "confounder" not in base
    coef = truth["params"]["scenario"]["confounder_spend"]
    for k, c in enumerate(("tv", "search")):
        assert 0.2 <= coef[k] <= 0.35
        on = df[c].to_numpy() > 0  # log spend of the on-periods follows coef * u + noise
        assert np.corrcoef(np.log(df[c].to_numpy()[on]), u[on])[0, 1] > 0.3
    pd.testing.assert_series_equal(df["social"], simulate(seed=5)[0]["social"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"scenario": "nope"}, "curved_baseline"), ({"lift_test_sd": 0.0}, "lift_test_sd"),
     ({"lift_test_sd": float("nan")}, "lift_test_sd"), ({"lift_test_sd": -1}, "lift_test_sd"),
     ({"scenario": "correlated_spend", "channels": ("tv", "search")}, "at least 3"),
     ({"scenario": "no_effect", "channels": ("tv",)}, "at least 2")],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate(**kwargs)


def test_short_series_still_has_lift_tests():
    for n in (4, 12, 20):
        _, truth = simulate(seed=1, n_periods=n, scenario="time_varying")
        lt = truth["lift_tests"]
        assert len(lt) == 3 and (lt["end"] >= lt["start"]).all() and (lt["lift_sd"] > 0).all()
