"""The NUTS kernel and its program cache on a toy model with a closed-form posterior (CPU, fast).

The toy model: ``mu`` (3 dims) with a Normal prior and Normal data of known sigma, and a
precision ``tau`` with a Gamma prior and zero-mean Normal data (a constrained site, so the
constraining of the draws is exercised). Both posteriors are conjugate and known exactly.
"""

from __future__ import annotations

import arviz as az
import jax
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

import mmm_jax.sampler as sampler_mod
from mmm_jax.caches import clear_caches
from mmm_jax.sampler import run_nuts
from mmm_jax.sampler_config import SamplerConfig
from tests.conftest import count_compiles

SIGMA = 1.5  # known sd of the mu data
A, B = 3.0, 2.0  # Gamma prior of tau (shape, rate)
PRIOR_SD = np.array([1.0, 2.0, 0.5], np.float32)
N = 20
SETTINGS = SamplerConfig(num_warmup=300, num_samples=500, num_chains=2, progress_bar=False)


def make_toy():
    """A new model function each call (as a new ``MMM`` object builds one)."""

    def model(inputs, y):
        mu = numpyro.sample("mu", dist.Normal(0.0, inputs["prior_sd"]).to_event(1))
        tau = numpyro.sample("tau", dist.Gamma(A, B))
        numpyro.deterministic("sd", tau ** -0.5)
        numpyro.sample("y_mu", dist.Normal(mu, SIGMA).expand(y[:, :3].shape).to_event(2),
                       obs=y[:, :3])
        numpyro.sample("y_tau", dist.Normal(0.0, tau ** -0.5).expand(y[:, 3].shape).to_event(1),
                       obs=y[:, 3])

    return model


def toy_data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    mu = np.array([0.8, -1.0, 0.3])
    y = np.column_stack([mu + SIGMA * rng.normal(size=(n, 3)), 0.7 * rng.normal(size=n)])
    return {"prior_sd": PRIOR_SD}, y.astype(np.float32)


def exact_posterior(y):
    """Means and sds of mu (3,) and tau, from the conjugate updates."""
    y = y.astype(np.float64)
    n = len(y)
    precision = 1.0 / PRIOR_SD.astype(np.float64) ** 2 + n / SIGMA ** 2
    mu_mean = y[:, :3].sum(0) / SIGMA ** 2 / precision
    shape, rate = A + n / 2, B + (y[:, 3] ** 2).sum() / 2
    return {"mu": (mu_mean, precision ** -0.5), "tau": (shape / rate, np.sqrt(shape) / rate)}


def run(seed=0, sampler=SETTINGS, cache_key=("toy", "closed form"), data=None):
    inputs, y = data if data is not None else toy_data()
    return run_nuts(make_toy(), inputs, y, sampler, seed, cache_key)


@pytest.fixture(scope="module")
def toy_run():
    return run(seed=0)


def test_draws_match_the_closed_form_posterior(toy_run):
    _, y = toy_data()
    samples, stats = toy_run
    assert samples["mu"].shape == (2, 500, 3) and samples["tau"].shape == (2, 500)
    assert np.all(samples["tau"] > 0)  # constrained back from the log scale
    np.testing.assert_allclose(samples["sd"], samples["tau"] ** -0.5, rtol=1e-5)
    for key in ("diverging", "num_steps", "accept_prob", "potential_energy", "energy",
                "step_size", "tree_depth"):
        assert stats[key].shape == (2, 500), key
    assert stats["warmup_num_steps"].shape == (2, 300)
    assert not stats["diverging"].any()
    # The sample mean of correlated draws has sd MCSE (from the ESS); an error of 4 MCSE is a
    # 4-sigma event (p ~ 6e-5 per quantity), so a failure means a biased sampler, not bad luck.
    # The same for the sample sd with its own MCSE.
    for name, (mean, sd) in exact_posterior(y).items():
        draws = samples[name].reshape(2, 500, -1)
        for j in range(draws.shape[-1]):
            x = draws[..., j].astype(np.float64)
            m_exact, s_exact = np.atleast_1d(mean)[j], np.atleast_1d(sd)[j]
            assert abs(x.mean() - m_exact) <= 4 * az.mcse(x, method="mean"), (name, j)
            assert abs(x.std() - s_exact) <= 4 * az.mcse(x, method="sd"), (name, j)


def test_same_seed_same_draws_other_seed_other_draws(toy_run):
    again = run(seed=0)
    for name, value in toy_run.samples.items():
        np.testing.assert_array_equal(again.samples[name], value)
    for name, value in toy_run.stats.items():
        np.testing.assert_array_equal(again.stats[name], value)
    other = run(seed=1)
    assert not np.array_equal(other.samples["mu"], toy_run.samples["mu"])


def test_second_run_with_a_new_model_and_data_compiles_nothing(toy_run):
    inputs, y = toy_data(seed=5)  # other values, same shapes; `run` builds a new model function
    with count_compiles() as compiles:
        result = run(seed=3, data=(inputs, y))
    assert compiles == []
    assert result.samples["mu"].shape == (2, 500, 3)


def test_program_cache_drops_the_least_recently_used(monkeypatch):
    cache = sampler_mod._Programs(maxsize=2)
    builds = []
    for key in ("a", "b", "a", "c"):  # "a" used again, so "b" is the oldest when "c" comes
        cache.get(key, lambda key=key: builds.append(key) or key)
    assert builds == ["a", "b", "c"] and len(cache) == 2
    assert "a" in cache and "c" in cache and "b" not in cache
    assert sampler_mod.SAMPLER_PROGRAMS == sampler_mod._PROGRAMS.maxsize == 64

    # through run_nuts, with a one-program cache of its own (the shared one is left alone)
    monkeypatch.setattr(sampler_mod, "_PROGRAMS", sampler_mod._Programs(maxsize=1))
    tiny = SamplerConfig(num_warmup=20, num_samples=10, num_chains=2, progress_bar=False)
    longer = SamplerConfig(num_warmup=20, num_samples=11, num_chains=2, progress_bar=False)
    first = run(sampler=tiny, cache_key=("toy", "lru"))
    run(sampler=longer, cache_key=("toy", "lru"))  # other settings: a second program
    assert len(sampler_mod._PROGRAMS) == 1
    with count_compiles() as compiles:
        again = run(sampler=tiny, cache_key=("toy", "lru"))
    assert compiles  # the first program was dropped, so it is compiled again
    np.testing.assert_array_equal(again.samples["mu"], first.samples["mu"])


def test_clear_caches_empties_the_program_cache(monkeypatch):
    # a cache of this test's own, and JAX's caches left alone, so other test modules keep
    # their compiled programs
    monkeypatch.setattr(sampler_mod, "_PROGRAMS", sampler_mod._Programs(maxsize=4))
    monkeypatch.setattr(jax, "clear_caches", lambda: None)
    run(sampler=SamplerConfig(num_warmup=20, num_samples=10, num_chains=2, progress_bar=False),
        cache_key=("toy", "clear"))
    assert len(sampler_mod._PROGRAMS) == 1
    clear_caches()
    assert len(sampler_mod._PROGRAMS) == 0
