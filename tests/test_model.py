"""The NumPyro model: structure, priors, finite log-density and gradients (no sampling)."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
from numpyro import handlers
from numpyro.infer.util import potential_energy

import mmm_jax as mj
from mmm_jax.model import make_model, site_shapes
from mmm_jax.spec import ModelSpec
from mmm_jax.transforms import ADSTOCKS, SATURATIONS
from tests.model_inputs import model_inputs as _inputs


def _unconstrained_point(model, inputs, y, seed=0):
    """A prior draw mapped to the unconstrained space (eager; no compilation)."""
    from numpyro.distributions.transforms import biject_to

    trace = handlers.trace(handlers.seed(model, seed)).get_trace(inputs, y)
    return {k: biject_to(s["fn"].support).inv(s["value"]) for k, s in trace.items()
            if s["type"] == "sample" and not s["is_observed"]}


ADSTOCK_NAMES = sorted(set(ADSTOCKS) - {"carryover"})
SATURATION_NAMES = sorted(SATURATIONS)


@pytest.mark.parametrize("adstock,saturation",
                         list(itertools.product(ADSTOCK_NAMES, SATURATION_NAMES)))
def test_every_kernel_pair_has_finite_density_and_gradient_with_zero_spend(
        national_data, adstock, saturation):
    config = ModelSpec(adstock=adstock, saturation=saturation)
    inputs, y, dims = _inputs(national_data, config)
    inputs["media"] = inputs["media"].copy()
    inputs["media"][:10] = 0.0  # zero spend at the start for every channel
    model = make_model(config, dims)
    z = _unconstrained_point(model, inputs, y)

    def pe(u):
        return potential_energy(model, (inputs, y), {}, u)

    value, grad = jax.value_and_grad(pe)(z)
    assert np.isfinite(float(value))
    for name, g in grad.items():
        assert np.all(np.isfinite(np.asarray(g))), (adstock, saturation, name)


def test_sites_and_shapes_national_and_geo(national_data, geo_data):
    config = ModelSpec()
    _, _, dims = _inputs(national_data, config)
    shapes = site_shapes(config, dims)
    assert "beta" not in shapes  # solved from the media prior's site
    assert shapes["contribution_share"] == (3,) and shapes["intercept"] == ()
    assert shapes["gamma"] == (1,)
    assert site_shapes(ModelSpec(media_prior="coefficient"), dims)["beta"] == (3,)
    assert shapes["season"] == (4,) and "dow" not in shapes and "beta_geo_sd" not in shapes
    _, _, gdims = _inputs(geo_data, config)
    gshapes = site_shapes(config, gdims)
    assert gshapes["intercept"] == (5,) and gshapes["sigma"] == (5,)
    assert gshapes["beta_geo_sd"] == (3,)


def test_geo_model_samples_non_centred_per_geo_effects(geo_data):
    config = ModelSpec()
    inputs, y, dims = _inputs(geo_data, config)
    trace = handlers.trace(handlers.seed(make_model(config, dims), 0)).get_trace(inputs, y)
    assert trace["beta_geo_raw"]["fn"].batch_shape == (5, 3)
    assert isinstance(trace["beta_geo_raw"]["fn"].base_dist, dist.Normal)
    assert trace["y"]["fn"].batch_shape == (5, geo_data.n_time)


def test_custom_prior_on_reparameterised_beta_changes_the_density(national_data):
    """beta is sampled through its effect at mean media; its prior still applies exactly."""
    base = ModelSpec(media_prior="coefficient")
    tight = ModelSpec(media_prior="coefficient", priors={"beta": dist.HalfNormal(0.01)})
    inputs, y, dims = _inputs(national_data, base)
    z = _unconstrained_point(make_model(base, dims), inputs, y, seed=1)
    pe_base = potential_energy(make_model(base, dims), (inputs, y), {}, z)
    pe_tight = potential_energy(make_model(tight, dims), (inputs, y), {}, z)
    assert float(pe_tight) > float(pe_base) + 10.0


def test_reparameterisation_keeps_the_prior_of_beta(national_data):
    """The factor added for the beta reparameterisation equals log prior(beta) + log|J| -
    log proposal(beta_raw): the declared prior on beta holds exactly."""
    config = ModelSpec(media_prior="coefficient")
    inputs, _, dims = _inputs(national_data, config)
    model = make_model(config, dims)

    z = _unconstrained_point(model, inputs, None, seed=3)
    # log density of the reparameterised site = log prior(beta) + log J - log proposal.
    from numpyro.infer.util import constrain_fn, log_density

    params = constrain_fn(model, (inputs, None), {}, z, return_deterministic=True)
    lp, tr = log_density(model, (inputs, None), {}, {k: params[k] for k in z})
    beta_prior = tr["beta_prior"]["fn"].log_prob(tr["beta_prior"]["value"])
    h = params["beta_raw"] / params["beta"]
    expected = (dist.HalfNormal(0.5).log_prob(params["beta"]).sum() + jnp.log(1 / h).sum()
                - dist.LogNormal(jnp.log(0.05), 1.0).log_prob(params["beta_raw"]).sum())
    np.testing.assert_allclose(float(beta_prior), float(expected), rtol=1e-5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(adstock="geometrix"), "geometrix"),
    (dict(saturation="tanh"), "tanh"),
    (dict(likelihood="cauchy"), "likelihood"),
    (dict(seasonality_degree=-1), "seasonality_degree"),
    (dict(seasonality_period=0), "seasonality_period"),
])
def test_bad_model_configuration_is_a_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mj.MMM(**kwargs)


def test_daily_data_gets_day_of_week_sites():
    df, _ = mj.simulate(seed=2, n_periods=120, freq="D")
    data = mj.MMMData.from_dataframe(df, date="date", target="sales",
                                     media=["tv", "search", "social"], controls=["price"])
    _, _, dims = _inputs(data, ModelSpec())
    assert dims.n_dow == 6 and site_shapes(ModelSpec(), dims)["dow"] == (6,)
