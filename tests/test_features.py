"""Design features: unit-scale factors, trend index, Fourier terms, day of week, the design."""

from __future__ import annotations

import numpy as np
import pytest

import mmm_jax as mj
from mmm_jax.features import (
    compute_scales,
    day_of_week,
    design,
    fourier_terms,
    scale_controls,
    scale_media,
    time_index,
)

COLUMNS = dict(date="date", target="sales", media=["tv", "search", "social"], controls=["price"])


def _dates(*days):
    return np.array(days, dtype="datetime64[ns]")


def test_national_scales_are_the_history_means_and_control_moments(national_data):
    s = compute_scales(national_data)
    np.testing.assert_allclose(s.target, national_data.target.mean())
    np.testing.assert_allclose(s.media, national_data.media.mean(axis=0))
    np.testing.assert_allclose(s.control_mean, national_data.controls.mean(axis=0))
    np.testing.assert_allclose(s.control_std, national_data.controls.std(axis=0))
    assert s.start == national_data.dates[0] and s.n_time == national_data.n_time
    media = scale_media(national_data.media, s)
    np.testing.assert_allclose(media.mean(axis=0), 1.0)
    controls = scale_controls(national_data.controls, s)
    np.testing.assert_allclose(controls.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(controls.std(axis=0), 1.0)


def test_geo_scales_are_per_geo_with_the_overall_mean_for_an_all_zero_channel():
    df = mj.load_example("geo")
    df.loc[df["geo"] == "geo_00", "tv"] = 0.0
    data = mj.MMMData.from_dataframe(df, geo="geo", **COLUMNS)
    s = compute_scales(data)
    assert s.target.shape == (5,) and s.media.shape == (5, 3)
    np.testing.assert_allclose(s.target, data.target.mean(axis=1))
    np.testing.assert_allclose(s.media[0, 0], data.media[..., 0].mean())  # fallback
    np.testing.assert_allclose(s.media[1:], data.media[1:].mean(axis=1))
    scaled = scale_media(data.media, s)
    np.testing.assert_allclose(scaled[1:].mean(axis=1), 1.0)
    assert np.all(scaled[0, :, 0] == 0.0) and np.all(np.isfinite(scaled))


def test_a_constant_control_is_centred_and_not_divided_by_zero():
    df = mj.load_example("national").assign(price=2.0)
    s = compute_scales(mj.MMMData.from_dataframe(df, **COLUMNS))
    assert s.control_mean.tolist() == [2.0] and s.control_std.tolist() == [1.0]
    assert np.all(scale_controls(np.full((4, 1), 2.0), s) == 0.0)


def test_time_index_runs_from_zero_to_one_and_continues(national_data):
    s = compute_scales(national_data)
    dates = national_data.dates
    future = dates[-1] + np.timedelta64(7, "D")
    t = time_index(np.append(dates, future), s, period_days=7)
    assert t[0] == 0.0 and t[-2] == pytest.approx(1.0)
    np.testing.assert_allclose(np.diff(t), 1.0 / (national_data.n_time - 1))


def test_fourier_terms_are_sines_then_cosines_of_the_calendar_day():
    f = fourier_terms(_dates("1970-01-01", "1970-01-02", "1970-01-06"), 2, period_days=4.0)
    assert f.shape == (3, 4)
    np.testing.assert_allclose(f[0], [0.0, 0.0, 1.0, 1.0], atol=1e-12)  # day 0
    np.testing.assert_allclose(f[1], [1.0, 0.0, 0.0, -1.0], atol=1e-12)  # a quarter period
    np.testing.assert_allclose(f[2], f[1], atol=1e-12)  # one period later: the same
    assert fourier_terms(_dates("2024-01-01"), 0).shape == (1, 0)


def test_day_of_week_dummies_take_monday_as_reference():
    week = _dates(*[f"2024-01-0{d}" for d in range(1, 8)])  # Monday 1 .. Sunday 7
    dow = day_of_week(week)
    assert dow.shape == (7, 6)
    assert dow[0].sum() == 0.0
    np.testing.assert_array_equal(dow[1:], np.eye(6))


@pytest.mark.parametrize("period_days, n_fourier, n_dow", [(7, 2, 0), (1, 0, 6)])
def test_design_has_every_input_in_the_asked_dtype(national_data, period_days, n_fourier,
                                                   n_dow):
    d = national_data
    s = compute_scales(d)
    out = design(d.dates, d.media, d.controls, s, period_days=period_days,
                 n_fourier=n_fourier, seasonality_period=365.25, dtype=np.float32)
    assert set(out) == {"media", "controls", "t", "fourier", "dow"}
    assert all(v.dtype == np.float32 for v in out.values())
    assert out["media"].shape == d.media.shape and out["controls"].shape == d.controls.shape
    assert out["t"].shape == (d.n_time,)
    assert out["fourier"].shape == (d.n_time, 2 * n_fourier)
    assert out["dow"].shape == (d.n_time, n_dow)
    np.testing.assert_allclose(out["media"], scale_media(d.media, s), rtol=1e-6)
