"""Transform registry: names, default priors, lookup errors, decay weights."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest

import mmm_jax.transforms as tr

ALL = [("adstock", n) for n in tr.ADSTOCKS] + [("saturation", n) for n in tr.SATURATIONS]
GET = {"adstock": tr.get_adstock, "saturation": tr.get_saturation}
N_TIME, N_CHANNEL, N_DRAW = 52, 3, 64
# XLA compilation dominates the run time on 2 cores; compile the test programs without LLVM's
# expensive optimisations (same numerics, faster to compile).
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


# Prior draws come from NumPy's samplers for the same distributions: numpyro's Gamma/Beta
# samplers take seconds to compile on 2 cores. The mapping to NumPy is checked against
# numpyro's analytic mean and support in test_numpy_prior_draws_match_numpyro.
NUMPY_SAMPLERS = {
    dist.Beta: lambda d, rng, n: rng.beta(d.concentration1, d.concentration0, n),
    dist.Gamma: lambda d, rng, n: rng.gamma(d.concentration, 1 / d.rate, n),
    dist.LogNormal: lambda d, rng, n: rng.lognormal(d.loc, d.scale, n),
    dist.HalfNormal: lambda d, rng, n: np.abs(rng.normal(0.0, d.scale, n)),
}


def sample(d: dist.Distribution, rng, shape):
    if type(d) not in NUMPY_SAMPLERS:
        pytest.fail(f"add a NumPy sampler for {type(d).__name__} to NUMPY_SAMPLERS")
    return NUMPY_SAMPLERS[type(d)](d, rng, shape).astype(np.float32)


def prior_draws(t: tr.Transform, seed=0):
    """(N_DRAW, N_CHANNEL) float32 draws of each parameter from its default prior."""
    rng = np.random.default_rng(seed)
    return {p: sample(t.priors[p](), rng, (N_DRAW, N_CHANNEL)) for p in t.params}


def media(shape=(N_TIME, N_CHANNEL)):
    x = np.random.default_rng(0).gamma(2.0, 0.5, size=shape)  # unit-mean media
    x[..., ::5, :] = 0.0
    return x.astype(np.float32)


def test_registered_names():
    assert set(tr.ADSTOCKS) == {"geometric", "delayed", "carryover", "weibull_cdf",
                                "weibull_pdf", "none"}
    assert set(tr.SATURATIONS) == {"hill", "logistic", "michaelis_menten", "power", "none"}


def test_numpy_prior_draws_match_numpyro():
    rng = np.random.default_rng(3)
    for kind, name in ALL:
        for p, factory in GET[kind](name).priors.items():
            d = factory()
            x = sample(d, rng, 20_000)
            assert bool(np.all(d.support(x))), f"{name}.{p}"
            np.testing.assert_allclose(x.mean(), d.mean, rtol=0.03, err_msg=f"{name}.{p}")


@pytest.mark.parametrize(("kind", "name"), ALL)
def test_default_priors_are_scalar_numpyro_distributions(kind, name):
    t = GET[kind](name)
    assert isinstance(t, tr.Transform) and t.name == name
    assert set(t.priors) == set(t.params)
    for p in t.params:
        d = t.priors[p]()
        assert isinstance(d, dist.Distribution)
        assert d.batch_shape == () and d.event_shape == (), f"{name}.{p} prior must be scalar"


# "carryover" is the same kernel as "delayed" (test_alias_carryover_is_delayed)
@pytest.mark.parametrize(("kind", "name"), [a for a in ALL if a[1] != "carryover"])
def test_callable_with_prior_draws_finite_values_and_gradients(kind, name):
    """One (channel,) draw on (time, channel) media, and a vmap over N_DRAW draws on
    (geo, time, channel) media with zero weeks: finite values and float32 gradients."""
    t = GET[kind](name)
    x = media((2, N_TIME, N_CHANNEL))
    if not t.params:  # "none": the identity
        np.testing.assert_array_equal(t(x[0]), x[0])
        return
    draws = prior_draws(t)
    one = {p: v[0] for p, v in draws.items()}
    assert all(v.shape == (N_CHANNEL,) for v in one.values())

    @functools.partial(jax.jit, compiler_options=FAST_COMPILE)
    def run(one, draws):
        def total(params):  # a sum of non-negative terms: finite iff every term is finite
            return jnp.sum(t(x, **params))

        return t(x[0], **one), jax.vmap(jax.value_and_grad(total))(draws)

    y_one, (totals, grads) = jax.tree.map(np.asarray, run(one, draws))
    assert y_one.shape == (N_TIME, N_CHANNEL) and y_one.dtype == np.float32
    assert totals.shape == (N_DRAW,) and np.all(np.isfinite(totals))
    assert np.all(np.isfinite(y_one)) and np.all(y_one >= 0)
    for p, g in grads.items():
        assert np.all(np.isfinite(g)), f"{name}: gradient wrt {p} not finite"


def test_alias_carryover_is_delayed():
    delayed, carryover = tr.get_adstock("delayed"), tr.get_adstock("carryover")
    assert carryover.fn is delayed.fn and carryover.params == delayed.params
    assert carryover.fn.keywords == {"max_lag": tr.DEFAULT_MAX_LAG}


@pytest.mark.parametrize("getter", [tr.get_adstock, tr.get_saturation])
@pytest.mark.parametrize("bad", ["hil", "Geometric", None])
def test_unknown_name_lists_available(getter, bad):
    registry = tr.ADSTOCKS if getter is tr.get_adstock else tr.SATURATIONS
    with pytest.raises(ValueError, match="choose one of") as info:
        getter(bad)
    assert repr(bad) in str(info.value)
    assert all(n in str(info.value) for n in registry)


def test_transform_is_frozen_and_validated():
    t = tr.get_saturation("hill")
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.priors["slope"] = t.priors["half_max"]  # type: ignore[index]
    with pytest.raises(ValueError, match="must match params"):
        tr.Transform("bad", tr.hill, ("half_max", "slope"), {"half_max": t.priors["half_max"]})
    hash(t)


@pytest.mark.parametrize("name", list(tr.ADSTOCKS))
def test_carryover_weights(name):
    t = tr.get_adstock(name)
    params = {p: v[1] for p, v in prior_draws(t).items()}
    pulse = np.zeros((tr.DEFAULT_MAX_LAG, N_CHANNEL), np.float32)
    pulse[0] = 1.0

    @functools.partial(jax.jit, compiler_options=FAST_COMPILE)
    def weights_and_pulse_response(params):
        w = tr.carryover_weights(name, params, n_channels=N_CHANNEL)
        return w, t(pulse, **params)

    w, response = jax.tree.map(np.asarray, weights_and_pulse_response(params))
    assert w.shape == (tr.DEFAULT_MAX_LAG, N_CHANNEL)
    assert np.all(w >= 0)
    np.testing.assert_allclose(w, response, rtol=1e-5, atol=1e-7)  # weights = pulse response
    if name == "geometric":
        alpha = np.asarray(params["alpha"])
        lags = np.arange(tr.DEFAULT_MAX_LAG)[:, None]
        np.testing.assert_allclose(w, alpha**lags * (1 - alpha), rtol=1e-5, atol=1e-7)
    else:
        np.testing.assert_allclose(w.sum(0), 1.0, rtol=1e-5)


def test_carryover_weights_rejects_wrong_params():
    with pytest.raises(ValueError, match="expected"):
        tr.carryover_weights("geometric", {"theta": jnp.ones(2)})


def test_prior_table_documents_every_default():
    doc = tr.__doc__
    rows = doc.splitlines()
    for kind, name in ALL:
        t = GET[kind](name)
        for p in t.params:
            family = type(t.priors[p]()).__name__
            assert any(p in r and family in r and name.split("_")[0] in r for r in rows), (
                f"{name}.{p} ({family}) missing from the prior table in transforms/__init__.py"
            )
