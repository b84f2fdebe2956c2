"""The complete InferenceData (issue 11 item 1): groups, dims, names, prior, LOO, PPC plot.

Runs on ArviZ 0.x (``InferenceData``) and 1.x (``xarray.DataTree``).
"""

from __future__ import annotations

import dataclasses
import warnings

import arviz as az
import jax.numpy as jnp
import matplotlib
import numpy as np
import numpyro.distributions as dist
import pytest
from numpyro.infer.util import log_likelihood
from scipy import stats

import mmm_jax as mj
from mmm_jax import _arviz, inference_data
from mmm_jax.inference_data import loo_data
from mmm_jax.model import make_model
from mmm_jax.plot.convergence import parameter_labels

matplotlib.use("Agg")

GROUPS = ("posterior", "prior", "prior_predictive", "posterior_predictive", "log_likelihood",
          "sample_stats", "observed_data", "constant_data")
PRIOR_DRAWS = 2000


@pytest.fixture(scope="module")
def idata(small_national):
    return small_national.to_inference_data(prior_draws=PRIOR_DRAWS, seed=1)


@pytest.fixture(scope="module")
def geo_idata(small_geo):
    return small_geo.to_inference_data(prior_draws=50, seed=1)


def test_every_group_is_present(idata, geo_idata):
    for group in GROUPS:
        assert group in idata
        assert group in geo_idata


def test_dims_and_coords(idata, small_national):
    post = idata["posterior"]
    assert list(post["beta"].dims) == ["chain", "draw", "channel"]
    assert list(post["contribution"].dims) == ["chain", "draw", "date", "channel"]
    assert list(post["roi"].dims) == ["chain", "draw", "channel"]
    assert list(post["contribution"].coords["channel"].values) == ["tv", "search", "social"]
    np.testing.assert_array_equal(post["contribution"].coords["date"].values,
                                  small_national.data.dates)
    assert idata["prior"]["beta"].shape == (1, PRIOR_DRAWS, 3)
    assert idata["constant_data"]["media"].dims == ("date", "channel")


def test_observed_and_predictive_names_agree(idata, geo_idata):
    for data, obs in ((idata, ("date",)), (geo_idata, ("geo", "date"))):
        assert data["observed_data"]["kpi"].dims == obs
        for group in ("posterior_predictive", "prior_predictive", "log_likelihood"):
            assert data[group]["kpi"].dims == ("chain", "draw", *obs), group
            np.testing.assert_array_equal(data[group]["kpi"].coords["date"].values,
                                          data["observed_data"]["kpi"].coords["date"].values)


def test_geo_coords_and_contribution(small_geo, geo_idata):
    geos = list(small_geo.data.geos)
    assert list(geo_idata["log_likelihood"]["kpi"].coords["geo"].values) == geos
    c = geo_idata["posterior"]["contribution"]
    assert c.dims == ("chain", "draw", "geo", "date", "channel")
    summed = small_geo.to_inference_data(prior_draws=0, geo_contribution=False)
    assert "prior" not in summed
    np.testing.assert_allclose(summed["posterior"]["contribution"].values,
                               c.sum("geo").values, rtol=1e-9)


def _student_t(result):
    """``result`` as a Student-t fit (nu = 5 in every draw): exercises the other likelihood."""
    spec = mj.MMM(likelihood="student_t").spec
    nu = np.full(result.samples["sigma"].shape, 5.0, result.samples["sigma"].dtype)
    return dataclasses.replace(result, spec=spec, samples=dict(result.samples, nu=nu))


@pytest.mark.parametrize("likelihood", ["normal", "student_t"])
def test_log_likelihood_is_the_models_in_original_units(idata, small_national, likelihood):
    """Pointwise, equal to numpyro's unit-scale log likelihood minus log(KPI scale)."""
    r = small_national.result
    if likelihood == "student_t":
        r = _student_t(r)
        model = mj.MMM(spec=r.spec)._set_result(r)
        idata = model.to_inference_data(prior_draws=10)
        assert np.isfinite(idata["posterior_predictive"]["kpi"].values).all()
    ll = idata["log_likelihood"]["kpi"]
    assert ll.shape == (2, 150, 156)
    flat = {k: jnp.asarray(v.reshape(-1, *v.shape[2:])) for k, v in r.samples.items()}
    unit = np.asarray(log_likelihood(make_model(r.spec, r.dims), flat, r.inputs(),
                                     r.unit_target())["y"], np.float64)
    expected = unit - np.log(r.scales.target)
    np.testing.assert_allclose(ll.values.reshape(-1, 156), expected, rtol=1e-4, atol=2e-3)


def test_posterior_roi_and_contribution_match_the_model(idata, small_national):
    np.testing.assert_allclose(idata["posterior"]["roi"].mean(("chain", "draw")).values,
                               small_national.roi()["mean"].to_numpy(), rtol=1e-6)
    mean = idata["posterior"]["contribution"].mean(("chain", "draw")).values
    table = small_national.contributions()[list(small_national.data.channels)].to_numpy()
    np.testing.assert_allclose(mean, table, rtol=1e-6, atol=1e-6 * np.abs(table).max())


def test_prior_group_draws_the_declared_priors(idata):
    """contribution_share ~ HalfNormal(0.2) (the default media prior) and intercept ~
    Normal(0.5, 0.5), not the sampler's proposals.

    6000 share draws: the mean's standard error is 0.12 / sqrt(6000) = 0.0016, so 0.008 is 5
    SE; the KS test rejects the LogNormal proposal by orders of magnitude."""
    share = idata["prior"]["contribution_share"].values.ravel().astype(np.float64)
    assert abs(share.mean() - 0.2 * np.sqrt(2 / np.pi)) < 0.008
    assert abs(share.std() - 0.2 * np.sqrt(1 - 2 / np.pi)) < 0.008
    assert stats.kstest(share, stats.halfnorm(0.0, 0.2).cdf).pvalue > 1e-3
    assert np.all(idata["prior"]["beta"].values > 0)  # solved from the share, draw by draw
    intercept = idata["prior"]["intercept"].values.ravel().astype(np.float64)
    assert abs(intercept.mean() - 0.5) < 5 * 0.5 / np.sqrt(PRIOR_DRAWS)
    assert stats.kstest(intercept, stats.norm(0.5, 0.5).cdf).pvalue > 1e-3
    assert np.all(np.isfinite(idata["prior_predictive"]["kpi"].values))


def test_custom_prior_is_used(small_national):
    model = mj.MMM(media_prior="coefficient", priors={"beta": dist.HalfNormal(0.1)})
    model._set_result(dataclasses.replace(small_national.result, spec=model.spec))
    beta = model.to_inference_data(prior_draws=1000)["prior"]["beta"].values.ravel()
    assert abs(beta.mean() - 0.1 * np.sqrt(2 / np.pi)) < 0.01


def test_seeded_and_reproducible(small_national):
    a = small_national.to_inference_data(prior_draws=20, seed=5)
    b = small_national.to_inference_data(prior_draws=20, seed=5)
    c = small_national.to_inference_data(prior_draws=20, seed=6)
    for group in ("posterior_predictive", "prior_predictive", "prior"):
        np.testing.assert_array_equal(a[group]["kpi" if "pred" in group else "beta"].values,
                                      b[group]["kpi" if "pred" in group else "beta"].values)
    assert not np.array_equal(a["prior"]["beta"].values, c["prior"]["beta"].values)
    with pytest.raises(ValueError, match="prior_draws"):
        small_national.to_inference_data(prior_draws=-1)


def test_az_loo_works(idata, geo_idata, small_national):
    for data in (idata, geo_idata):
        with warnings.catch_warnings():  # Pareto k of a short fit may exceed ArviZ's bound
            warnings.simplefilter("ignore", UserWarning)
            elpd = az.loo(data)
        value = elpd.elpd if _arviz.ARVIZ_1 else elpd["elpd_loo"]
        assert np.isfinite(float(value))
    assert "log_likelihood" in loo_data(small_national.result)


def test_ppc_plot_renders_a_matplotlib_figure(idata):
    from matplotlib.figure import Figure

    if _arviz.ARVIZ_1:
        pc = az.plot_ppc_dist(idata, backend="matplotlib", num_samples=20)
        fig = pc.viz["figure"].item()
    else:
        ax = np.ravel(az.plot_ppc(idata, num_pp_samples=20))[0]
        fig = ax.figure
    assert isinstance(fig, Figure)
    fig.canvas.draw()
    matplotlib.pyplot.close(fig)


def test_convergence_labels_still_use_coords(small_national):
    assert parameter_labels(small_national, ["beta[0]", "trend"]) == ["beta[tv]", "trend"]



def test_big_geo_contribution_is_summed_with_a_warning(small_geo, monkeypatch):
    monkeypatch.setattr(inference_data, "CONTRIBUTION_MAX_BYTES", 0)
    with pytest.warns(UserWarning, match="summed over geos"):
        data = small_geo.to_inference_data(prior_draws=0)
    assert data["posterior"]["contribution"].dims == ("chain", "draw", "date", "channel")
