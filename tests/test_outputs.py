"""Outputs of a fitted model: ROI, marginal ROI, decomposition, curves, decay, prediction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mmm_jax as mj


def test_summaries_have_the_public_columns(small_national):
    for frame in (small_national.roi(), small_national.marginal_roi(),
                  small_national.cost_per_kpi(), small_national.contribution_share()):
        assert list(frame.columns) == ["mean", "hdi_low", "hdi_high"]
        assert list(frame.index) == ["tv", "search", "social"]
        assert (frame["hdi_low"] <= frame["mean"]).all() and (frame["mean"] <=
                                                             frame["hdi_high"]).all()
    summary = small_national.channel_summary()
    assert {"spend", "roi", "mroi", "share", "cost_per_kpi"} <= set(summary.columns)


def test_roi_is_contribution_over_spend_in_original_units(small_national):
    contrib = small_national.contributions()
    spend = small_national.data.spend.sum(axis=0)
    roi_of_mean = contrib[["tv", "search", "social"]].sum().to_numpy() / spend
    np.testing.assert_allclose(small_national.roi()["mean"].to_numpy(), roi_of_mean, rtol=1e-5)
    cpk = small_national.cost_per_kpi()["mean"].to_numpy()
    assert np.all(cpk >= 1.0 / small_national.roi()["mean"].to_numpy() * (1 - 1e-6))  # Jensen


def test_decomposition_sums_to_the_expected_kpi(small_national):
    contrib = small_national.contributions()
    assert list(contrib.columns) == ["baseline", "tv", "search", "social"]
    assert isinstance(contrib.index, pd.DatetimeIndex) and len(contrib) == 156
    expected = small_national.predict(include_noise=False).mean(axis=0)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), expected, rtol=1e-4)
    assert (contrib[["tv", "search", "social"]] >= 0).all().all()


def test_response_curve_passes_through_history_and_matches_marginal_roi(small_national):
    m = np.array([0.0, 0.999, 1.0, 1.001])
    curves = small_national.response_curves(m, max_draws=None)
    roi = small_national.roi()
    mroi = small_national.marginal_roi()
    for channel in ("tv", "search", "social"):
        c = curves[curves.channel == channel].set_index("multiplier")
        assert c.loc[0.0, "mean"] == 0.0
        spend = c.loc[1.0, "spend"]
        np.testing.assert_allclose(c.loc[1.0, "mean"] / spend, roi.loc[channel, "mean"],
                                   rtol=1e-4)
        slope = (c.loc[1.001, "mean"] - c.loc[0.999, "mean"]) / (0.002 * spend)
        np.testing.assert_allclose(slope, mroi.loc[channel, "mean"], rtol=2e-2)
    with pytest.raises(ValueError, match="multipliers"):
        small_national.response_curves([-1.0])


def test_response_curves_are_monotone_and_concave_beyond_the_knee(small_national):
    curves = small_national.response_curves()
    for _, c in curves.groupby("channel"):
        assert np.all(np.diff(c["mean"].to_numpy()) >= -1e-6)


def test_adstock_weights_are_the_geometric_decay(small_national):
    w = small_national.adstock_weights(max_lag=8)
    alpha = small_national.samples["alpha"].reshape(-1, 3)
    for j, channel in enumerate(("tv", "search", "social")):
        c = w[w.channel == channel].set_index("lag")["mean"]
        expected = [np.mean((1 - alpha[:, j]) * alpha[:, j] ** lag) for lag in range(8)]
        np.testing.assert_allclose(c.to_numpy(), expected, rtol=1e-4)
        assert c.sum() <= 1.0 + 1e-6


def test_fit_metrics(small_national):
    fit = small_national.fit_metrics()
    assert set(fit) == {"r2", "mape"} and 0.0 < fit["r2"] <= 1.0 and fit["mape"] > 0.0


def _future(df, weeks=6):
    last = df["date"].max()
    fut = df.iloc[-weeks:].drop(columns="sales").copy()
    fut["date"] = pd.date_range(last + pd.Timedelta(weeks=1), periods=weeks, freq="7D")
    return fut


def test_predict_carries_adstock_over_from_history(small_national):
    df = mj.load_example("national")
    fut = _future(df)
    draws = small_national.predict(fut, include_noise=False)
    assert draws.shape == (300, 6)
    zero = fut.assign(tv=0.0, search=0.0, social=0.0)
    no_media = small_national.predict(zero, include_noise=False).mean(axis=0)
    # With zero future spend, media still add (carryover) and the effect decays over time.
    baseline_only = small_national.predict(zero, include_noise=False, max_draws=300)
    assert np.all(baseline_only.mean(axis=0) == no_media)
    carry = no_media - _baseline(small_national, zero)
    assert carry[0] > 0 and np.all(np.diff(carry) < 0)
    same_seed = small_national.predict(fut, seed=3)
    np.testing.assert_array_equal(same_seed, small_national.predict(fut, seed=3))


def _baseline(model, fut):
    """Posterior-mean baseline for future rows (no media at all, history media removed)."""
    import jax.numpy as jnp

    from mmm_jax import posterior as post

    data = model.data
    dates = np.concatenate([data.dates, fut["date"].to_numpy(dtype="datetime64[ns]")])
    media = np.zeros((len(dates), 3))
    controls = np.concatenate([data.controls, fut[["price"]].to_numpy()])
    inputs = model._inputs(dates, media, controls)
    base = post.baselines(model._draws(), inputs, jnp.asarray(model.scales.target, jnp.float32),
                          config=model.config, n_geos=None)
    return np.asarray(base).mean(0)[-len(fut):]


def test_predict_rejects_bad_future_data(small_national):
    df = mj.load_example("national")
    fut = _future(df)
    with pytest.raises(ValueError, match="tv"):
        small_national.predict(fut.drop(columns="tv"))
    gap = fut.assign(date=fut["date"] + pd.Timedelta(weeks=2))
    with pytest.raises(ValueError, match="date"):
        small_national.predict(gap)
