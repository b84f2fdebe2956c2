"""Labelled forecasts: ``model.forecast(future)`` summarises ``predict`` with dates (and geos)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mmm_jax as mj

CHANNELS = ("tv", "search", "social")


def _future(df, weeks=6, geo=False):
    """The last ``weeks`` rows (per geo) shifted to the periods right after the history."""
    last = df["date"].max()
    dates = pd.date_range(last + pd.Timedelta(weeks=1), periods=weeks, freq="7D")
    parts = [g for _, g in df.groupby("geo")] if geo else [df]
    return pd.concat([p.iloc[-weeks:].assign(date=dates) for p in parts]).drop(columns="sales")


@pytest.fixture(scope="module")
def national_future():
    return _future(mj.load_example("national"))


@pytest.fixture(scope="module")
def national_forecast(small_national, national_future):
    return small_national.forecast(national_future)


def test_index_and_columns(national_forecast, national_future):
    f = national_forecast
    assert isinstance(f.index, pd.DatetimeIndex) and f.index.name == "date"
    assert list(f.index) == list(pd.to_datetime(national_future["date"]))
    expected = ["kpi", "kpi_hdi_low", "kpi_hdi_high", "expected_kpi", "expected_kpi_hdi_low",
                "expected_kpi_hdi_high", "baseline"]
    for c in CHANNELS:
        expected += [c, f"{c}_hdi_low", f"{c}_hdi_high"]
    assert list(f.columns) == expected
    assert np.isfinite(f.to_numpy()).all()


def test_hdis_contain_the_mean(national_forecast):
    f = national_forecast
    for name in ("kpi", "expected_kpi", *CHANNELS):
        assert (f[f"{name}_hdi_low"] <= f[name]).all() and (f[name] <= f[f"{name}_hdi_high"]).all()
    # the predictive interval (with noise) is wider than the interval of the expected KPI
    width = f["kpi_hdi_high"] - f["kpi_hdi_low"]
    assert (width > f["expected_kpi_hdi_high"] - f["expected_kpi_hdi_low"]).all()


def test_consistent_with_predict(small_national, national_future, national_forecast):
    f = national_forecast
    expected = small_national.predict(national_future, include_noise=False).mean(0)
    np.testing.assert_allclose(f["expected_kpi"].to_numpy(), expected, rtol=1e-5)
    noisy = small_national.predict(national_future, seed=0).mean(0)
    np.testing.assert_allclose(f["kpi"].to_numpy(), noisy, rtol=1e-5)
    parts = f[["baseline", *CHANNELS]].sum(axis=1).to_numpy()
    np.testing.assert_allclose(parts, f["expected_kpi"].to_numpy(), rtol=1e-6)
    quiet = small_national.forecast(national_future, include_noise=False, max_draws=100)
    np.testing.assert_allclose(
        quiet["kpi"].to_numpy(),
        small_national.predict(national_future, include_noise=False, max_draws=100).mean(0),
        rtol=1e-5)
    np.testing.assert_array_equal(quiet["kpi"], quiet["expected_kpi"])


def test_carryover_gives_contributions_with_zero_future_media(small_national,
                                                              national_future):
    zero = national_future.assign(tv=0.0, search=0.0, social=0.0)
    f = small_national.forecast(zero, include_noise=False)
    for c in CHANNELS:
        assert f[c].iloc[0] > 0 and f[c].iloc[1] > 0
        assert np.all(np.diff(f[c].to_numpy()) < 0)  # the carryover decays
    # and the first future week of the real plan still carries the history over
    f_real = small_national.forecast(national_future, include_noise=False)
    assert (f_real[list(CHANNELS)].iloc[0] > f[list(CHANNELS)].iloc[0]).all()


def test_bad_future_data_raises_like_predict(small_national, national_future):
    with pytest.raises(ValueError, match="tv"):
        small_national.forecast(national_future.drop(columns="tv"))
    gap = national_future.assign(date=national_future["date"] + pd.Timedelta(weeks=2))
    with pytest.raises(ValueError, match="date"):
        small_national.forecast(gap)
    with pytest.raises(ValueError, match="not fitted"):
        mj.MMM().forecast(national_future)


def test_geo_forecast_has_a_geo_date_multiindex(small_geo):
    future = _future(mj.load_example("geo"), weeks=4, geo=True)
    f = small_geo.forecast(future, max_draws=120)
    data = small_geo.data
    assert isinstance(f.index, pd.MultiIndex) and list(f.index.names) == ["geo", "date"]
    assert len(f) == data.n_geos * 4
    assert list(f.index.get_level_values("geo").unique()) == list(data.geos)
    expected = small_geo.predict(future, include_noise=False, max_draws=120).mean(0)  # (T, G)
    np.testing.assert_allclose(f["expected_kpi"].to_numpy(), expected.T.reshape(-1), rtol=1e-5)
    assert (f["kpi_hdi_low"] <= f["kpi"]).all() and (f["kpi"] <= f["kpi_hdi_high"]).all()
