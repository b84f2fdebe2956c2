"""Priors: the defaults of every site, custom priors by site name, shapes, hashable keys."""

from __future__ import annotations

import jax.numpy as jnp
import numpyro.distributions as dist
import pytest
from numpyro import handlers

from mmm_jax.model import make_model
from mmm_jax.priors import check_sites, default_priors, prior_key, resolve
from mmm_jax.spec import ModelSpec
from mmm_jax.transforms import get_adstock, get_saturation
from tests.model_inputs import model_inputs as _inputs

BASE_SITES = {"intercept", "trend", "season", "dow", "gamma", "beta", "beta_geo_sd", "sigma",
              "nu", "contribution_share", "roi", "mroi", "baseline_sd", "baseline_raw",
              "media_tv_sd", "media_tv_raw"}


def test_default_priors_cover_the_base_sites_and_the_kernel_parameters():
    priors = default_priors(get_adstock("delayed"), get_saturation("hill"))
    assert set(priors) == BASE_SITES | {"alpha", "theta", "half_max", "slope"}
    assert set(default_priors(get_adstock("none"), get_saturation("none"))) == BASE_SITES
    # factories: each call builds a fresh scalar distribution
    first, second = priors["beta"](), priors["beta"]()
    assert first is not second and first.batch_shape == ()
    assert isinstance(priors["alpha"](), dist.Beta)
    assert float(priors["beta"]().scale) == 0.5


def test_resolve_prefers_the_custom_prior_and_expands_scalars():
    defaults = default_priors(get_adstock("geometric"), get_saturation("hill"))
    expanded = resolve("beta", (3,), {}, defaults)
    assert expanded.batch_shape == (3,) and isinstance(expanded.base_dist, dist.HalfNormal)
    assert resolve("intercept", (), {}, defaults).batch_shape == ()
    custom = dist.HalfNormal(jnp.array([0.1, 0.2, 0.3]))
    assert resolve("beta", (3,), {"beta": custom}, defaults) is custom  # exact shape: as is
    scalar = resolve("sigma", (), {"sigma": dist.HalfNormal(0.1)}, defaults)
    assert float(scalar.scale) == pytest.approx(0.1)
    with pytest.raises(ValueError, match=r"site 'beta' has batch shape \(2,\).*shape \(3,\)"):
        resolve("beta", (3,), {"beta": dist.HalfNormal(jnp.ones(2))}, defaults)


def test_check_sites_names_every_unknown_site():
    check_sites({"beta": None}, ["beta", "sigma"])  # known sites pass
    with pytest.raises(ValueError, match=r"unknown site\(s\) \['betta', 'sgima'\]"):
        check_sites({"betta": None, "sgima": None, "beta": None}, ["beta", "sigma"])


def test_prior_key_is_hashable_and_tells_distributions_apart():
    key = prior_key(dist.Normal(0.0, 1.0))
    assert hash(key) == hash(prior_key(dist.Normal(0.0, 1.0)))
    assert key == prior_key(dist.Normal(0.0, 1.0))
    assert key != prior_key(dist.Normal(0.0, 2.0))
    assert key != prior_key(dist.Cauchy(0.0, 1.0))
    expanded = prior_key(dist.Normal(0.0, 1.0).expand([3]))
    assert expanded != key and expanded != prior_key(dist.Normal(0.0, 2.0).expand([3]))


def test_custom_prior_replaces_default_by_site_name(national_data):
    custom = dist.Beta(5.0, 1.5)
    config = ModelSpec(priors={"alpha": custom, "sigma": dist.HalfNormal(0.1)})
    inputs, y, dims = _inputs(national_data, config)
    trace = handlers.trace(handlers.seed(make_model(config, dims), 0)).get_trace(inputs, y)
    alpha_fn = trace["alpha"]["fn"]
    assert isinstance(alpha_fn.base_dist, dist.Beta)
    assert float(alpha_fn.base_dist.concentration1) == 5.0
    assert float(trace["sigma"]["fn"].scale) == pytest.approx(0.1)


def test_unknown_prior_site_and_bad_shapes_are_value_errors(national_data):
    inputs, y, dims = _inputs(national_data, ModelSpec())
    with pytest.raises(ValueError, match="unknown site.*'betta'"):
        make_model(ModelSpec(priors={"betta": dist.Normal(0, 1)}), dims)
    bad = ModelSpec(media_prior="coefficient", priors={"beta": dist.HalfNormal(jnp.ones(5))})
    with pytest.raises(ValueError, match="site 'beta' has batch shape"):
        handlers.seed(make_model(bad, dims), 0)(inputs, y)
    with pytest.raises(ValueError, match="prior for site 'beta'.*numpyro distribution"):
        ModelSpec(priors={"beta": 0.5})
