"""fit_many: K same-shaped models in one compiled program."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mmm_jax as mj
from tests.conftest import NATIONAL_COLUMNS, SMALL, assert_same_posterior


def _datasets(k, n_periods=104):
    return [mj.MMMData.from_dataframe(mj.simulate(seed=s, n_periods=n_periods)[0],
                                      **NATIONAL_COLUMNS) for s in range(k)]


def test_fit_many_returns_one_fitted_model_per_dataset(national_data, small_national):
    data = _datasets(2, n_periods=156)
    settings = {k: v for k, v in SMALL.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        models = mj.fit_many(data, seed=0, check=False, **settings)
    assert len(models) == 2
    for k, model in enumerate(models):
        assert model.data is data[k] and model.seed == k
        assert model.samples["beta"].shape == (2, 150, 3)
        assert np.isfinite(model.diagnostics()["max_rhat"])
        assert list(model.roi().index) == ["tv", "search", "social"]
    assert not np.array_equal(models[0].samples["beta"], models[1].samples["beta"])
    # dataset 0 is the national example fitted alone with the same seed in `small_national`:
    # the batched program gives the same posterior up to Monte Carlo error (4 MC s.e.).
    assert_same_posterior(models[0], small_national)


def test_fit_many_vectorized_and_sequential_give_the_same_posterior(small_national):
    """The vmapped program (for accelerators) samples the same posterior as the looped one
    (CPU default): means agree within 4 Monte Carlo standard errors."""
    data = _datasets(2, n_periods=156)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        vec = mj.fit_many(data, seed=0, check=False, chain_method="vectorized", **SMALL)
    assert_same_posterior(vec[0], small_national)
    assert vec[1].samples["beta"].shape == (2, 150, 3)


def test_fit_many_rejects_mixed_shapes_and_bad_entries():
    data = _datasets(1, 104) + _datasets(1, 110)
    with pytest.raises(ValueError, match=r"datasets\[1\] has n_time=110"):
        mj.fit_many(data)
    with pytest.raises(ValueError, match="at least one"):
        mj.fit_many([])
    with pytest.raises(ValueError, match=r"datasets\[0\] is DataFrame"):
        mj.fit_many([mj.load_example("national")])
