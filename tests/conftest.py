"""Shared fixtures: small fitted models reused across test modules (fits are the slow part)."""

from __future__ import annotations

import contextlib
import warnings

import jax
import numpy as np
import pytest

import mmm_jax as mj

# One sampler setting for all small fits, so each model structure compiles once per session.
SMALL = dict(num_warmup=150, num_samples=150, num_chains=2, progress_bar=False)
NATIONAL_COLUMNS = dict(date="date", target="sales", media=["tv", "search", "social"],
                        controls=["price"])


def _fit(data, seed=0, check=False, **kwargs):
    model = mj.MMM(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        model.fit(data, seed=seed, check=check, **SMALL)
    return model


@pytest.fixture(scope="session")
def national_data():
    return mj.MMMData.from_dataframe(mj.load_example("national"), **NATIONAL_COLUMNS)


@pytest.fixture(scope="session")
def geo_data():
    return mj.MMMData.from_dataframe(mj.load_example("geo"), geo="geo", **NATIONAL_COLUMNS)


@pytest.fixture(scope="session")
def small_national(national_data):
    """A short 2-chain fit of the national example (not converged to reference standards)."""
    return _fit(national_data)


@pytest.fixture(scope="session")
def small_geo(geo_data):
    return _fit(geo_data)


# public in newer jax; jax 0.8.0 (the floor in pyproject.toml) has only the private one
_unregister_duration_listener = getattr(jax.monitoring, "unregister_event_duration_listener",
                                        None)
if _unregister_duration_listener is None:
    from jax._src.monitoring import (
        _unregister_event_duration_listener_by_callback as _unregister_duration_listener,
    )


@contextlib.contextmanager
def count_compiles():
    """Collect the durations of XLA backend compilations inside the ``with`` block."""
    compiles: list[float] = []

    def listener(name, duration, **kwargs):
        if name == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield compiles
    finally:
        _unregister_duration_listener(listener)


def assert_same_posterior(model, reference):
    """Posterior means of beta agree within 4 Monte Carlo standard errors (from the
    reference's bulk ESS, applied to both sides)."""
    a = model.samples["beta"].reshape(-1, 3)
    b = reference.samples["beta"].reshape(-1, 3)
    ess = np.array([reference.diagnostics(detail=True)["ess_bulk"][f"beta[{j}]"]
                    for j in range(3)])
    mcse = np.sqrt(a.var(0) / ess + b.var(0) / ess)
    assert np.all(np.abs(a.mean(0) - b.mean(0)) < 4 * mcse + 1e-6)


@pytest.fixture(scope="module", autouse=True)
def _release_compiled_programs():
    """Drop every compiled program after each test module: one pytest process compiles many
    model variants, and keeping them all grows memory for the whole run (a module's own
    no-recompile checks are unaffected)."""
    yield
    mj.clear_caches()
    jax.clear_caches()
