"""The flexible baseline (``baseline="piecewise"``) and time-varying media effectiveness:
the knot basis, the paths against NumPy references, extension past the history, and how the
outputs and the allocator see them."""

from __future__ import annotations

import numpy as np
import pytest

import mmm_jax as mj
from mmm_jax import posterior as post
from mmm_jax.features import knot_basis, knot_count
from mmm_jax.spec import ModelSpec
from tests.prior_fits import prior_result


def test_knot_basis_is_a_partition_of_unity_held_flat_outside_the_history():
    t = np.linspace(-0.5, 1.5, 81)
    basis = knot_basis(t, 5)
    np.testing.assert_allclose(basis.sum(1), 1.0, atol=1e-12)
    assert (basis >= 0).all()
    np.testing.assert_array_equal(basis[t <= 0], np.eye(5)[[0] * int((t <= 0).sum())])
    np.testing.assert_array_equal(basis[t >= 1], np.eye(5)[[4] * int((t >= 1).sum())])
    knots = np.linspace(0, 1, 5)
    np.testing.assert_allclose(knot_basis(knots, 5), np.eye(5), atol=1e-12)
    levels = np.array([0.0, 1.0, -1.0, 2.0, 0.5])  # piecewise-linear interpolation
    np.testing.assert_allclose(knot_basis(t, 5) @ levels, np.interp(t, knots, levels))
    assert knot_count(0, 52, 7) == 2 and knot_count(0, 520, 7) == 11 and knot_count(9, 52, 7) == 9


@pytest.mark.parametrize("geo", [False, True], ids=["national", "geo"])
def test_piecewise_baseline_is_a_random_walk_through_the_knots(national_data, geo_data, geo):
    """baseline = intercept + knots @ (sd * cumsum([0, raw])) + season + controls: checked
    against a NumPy recomputation; every geo shares the path, and future periods hold the
    last level."""
    data = geo_data if geo else national_data
    spec = ModelSpec(baseline="piecewise")
    result = prior_result(spec, data, n=2)
    assert "trend" not in result.samples and result.samples["baseline_raw"].shape[-1] == (
        knot_count(0, data.n_time, 7) - 1)
    flat = post.flatten_draws(result.samples)
    inputs = result.inputs()
    got = np.asarray(post.baselines(flat, inputs, np.ones(()), config=spec,
                                    n_geos=data.n_geos if geo else None), np.float64)
    for d in range(2):
        steps = np.cumsum(flat["baseline_raw"][d])
        levels = flat["baseline_sd"][d] * np.concatenate([[0.0], steps])
        rest = inputs["fourier"] @ flat["season"][d] + inputs["controls"] @ flat["gamma"][d]
        intercept = flat["intercept"][d][:, None] if geo else flat["intercept"][d]
        want = intercept + inputs["knots"] @ levels + rest
        np.testing.assert_allclose(got[d], want, rtol=1e-5, atol=1e-5)
    future = mj.MMM(spec=spec)._set_result(result)
    dates = np.concatenate([data.dates, data.dates[-1] + np.arange(1, 9) * np.timedelta64(7, "D")])
    knots = future._inputs(dates, np.concatenate([data.media, data.media[..., -8:, :]], -2),
                           np.concatenate([data.controls, data.controls[..., -8:, :]], -2))["knots"]
    np.testing.assert_array_equal(knots[-9:], np.eye(knots.shape[1])[[-1] * 9])


def test_time_varying_effectiveness_is_one_at_the_end_and_after(national_data):
    spec = ModelSpec(time_varying_media=True)
    model = mj.MMM(spec=spec)._set_result(prior_result(spec, national_data, n=3))
    tv = model.samples["media_tv"][0]
    assert tv.shape == (3, national_data.n_time) and (tv > 0).all()
    np.testing.assert_allclose(tv[:, -1], 1.0, rtol=1e-6)
    frame = model.media_effectiveness()
    assert list(frame.columns) == ["mean", "hdi_low", "hdi_high"] and len(frame) == 156
    # contributions over the history carry the multiplier; periods after it use 1
    flat = post.flatten_draws(model.samples)
    media = model._unit_media()
    longer = np.concatenate([media, media[-5:]])
    got = np.asarray(post.channel_contributions(flat, longer, np.ones(()), config=spec,
                                                n_geos=None))
    plain = np.asarray(post.channel_contributions(
        {k: v for k, v in flat.items() if k != "media_tv"}, longer, np.ones(()), config=spec,
        n_geos=None))
    np.testing.assert_allclose(got[:, :156], plain[:, :156] * tv[:, :, None], rtol=1e-5)
    np.testing.assert_allclose(got[:, 156:], plain[:, 156:], rtol=1e-6)
    with pytest.raises(ValueError, match="history periods"):
        post.channel_contributions(flat, media[:10], np.ones(()), config=spec, n_geos=None)


def test_constant_effectiveness_models_refuse_the_effectiveness_table(small_national):
    with pytest.raises(ValueError, match="time_varying_media=True"):
        small_national.media_effectiveness()
