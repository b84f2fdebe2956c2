"""Holdout fits and out-of-sample validation (train/test metrics, rolling-origin CV)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mmm_jax as mj
from mmm_jax import validation
from mmm_jax.holdout import holdout_mask
from tests.conftest import NATIONAL_COLUMNS, SMALL, count_compiles

HOLDOUT = 13


def _fit(data, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        return mj.MMM().fit(data, check=False, **SMALL, **kwargs)


@pytest.fixture(scope="module")
def holdout_model(national_data):
    return _fit(national_data, holdout=HOLDOUT)


@pytest.mark.parametrize("holdout,match", [
    (-1, "between 0 and"), (200, "between 0 and"), (2.5, "between 0 and"),
    (True, "number of final periods"), ("13", "number of final periods"),
    (np.ones(10, bool), "shape"), (np.zeros(156), "dtype"),
    (np.arange(156) > 5, "leaves 6 training periods"),
])
def test_bad_holdouts_name_the_rule(national_data, holdout, match):
    with pytest.raises(ValueError, match=match):
        holdout_mask(national_data, holdout)


def test_geo_masks_name_the_geo(geo_data):
    mask = np.zeros(geo_data.target.shape, bool)
    mask[2, 5:] = True
    with pytest.raises(ValueError, match="geo 'geo_02'"):
        holdout_mask(geo_data, mask)
    assert holdout_mask(geo_data, 4).shape == geo_data.target.shape


def test_held_out_kpi_does_not_enter_the_likelihood(holdout_model, national_data):
    """Shuffling the held-out KPI values (same mean, so the same unit scale) must leave the
    draws bit-identical: only the likelihood could see them."""
    df = mj.load_example("national")
    tail = df["sales"].to_numpy()[-HOLDOUT:]
    df.loc[df.index[-HOLDOUT:], "sales"] = np.random.default_rng(1).permutation(tail)
    shuffled = mj.MMMData.from_dataframe(df, **NATIONAL_COLUMNS)
    assert not np.array_equal(shuffled.target, national_data.target)
    with count_compiles() as compiles:
        other = _fit(shuffled, holdout=HOLDOUT)
    assert not compiles  # the mask is a traced input: same program
    for name, value in holdout_model.samples.items():
        np.testing.assert_array_equal(other.samples[name], value)
    full = _fit(national_data)
    assert not np.array_equal(full.samples["beta"], holdout_model.samples["beta"])


def test_fit_metrics_report_train_and_test(holdout_model, small_national):
    table = holdout_model.fit_metrics()
    pd.testing.assert_frame_equal(table, validation.split_metrics(holdout_model))
    assert set(small_national.fit_metrics()) == {"r2", "mape"}  # no holdout: the dict
    assert list(small_national.fit_metrics(by_split=True).index) == ["train"]
    assert list(table.index) == ["train", "test"]
    assert table.loc["test", "n"] == HOLDOUT and table.loc["train", "n"] == 156 - HOLDOUT
    assert set(validation.METRICS) <= set(table.columns)
    assert (table["crps"] > 0).all() and table["coverage"].between(0, 1).all()
    # the model fits its training data better than data it has not seen
    assert table.loc["train", "wmape"] < table.loc["test", "wmape"] + 5.0


def test_test_intervals_cover_in_the_binomial_band():
    """3 simulated datasets x 13 held-out weeks = 39 test observations. A calibrated model's
    90% predictive interval covers each with probability 0.9; the 99.9% two-sided band of
    Binomial(39, 0.9) is [29, 39] (weeks of one series are correlated, which widens the
    spread a little; a model that ignored the noise or mis-extrapolated would fall far
    below)."""
    covered = n = 0
    for seed in range(3):
        df, _ = mj.simulate(seed=seed)
        data = mj.MMMData.from_dataframe(df, **NATIONAL_COLUMNS)
        table = validation.split_metrics(_fit(data, holdout=HOLDOUT, seed=seed))
        covered += round(table.loc["test", "coverage"] * HOLDOUT)
        n += HOLDOUT
    low = stats.binom.ppf(0.0005, n, 0.9)
    assert low <= covered <= n, f"{covered} of {n} covered; band [{low:.0f}, {n}]"


def test_cross_validation_rolls_the_origin_and_compiles_once(national_data):
    with count_compiles() as compiles:
        cv = mj.cross_validate(mj.MMM(), national_data, n_folds=2, horizon=8, check=False,
                               **SMALL)
    assert list(cv.index) == [0, 1]
    assert cv.loc[0, "n_train"] == 156 - 16 and cv.loc[1, "n_train"] == 156 - 8
    assert cv.loc[0, "test_start"] == national_data.dates[140]
    assert cv.loc[1, "test_end"] == national_data.dates[-1]
    assert {"wmape", "crps", "coverage", "roi_tv", "roi_search", "roi_social"} <= set(cv.columns)
    assert np.isfinite(cv[["wmape", "crps", "roi_tv"]].to_numpy()).all()
    del compiles  # the holdout program may already be compiled by the fixture above
    with count_compiles() as again:  # every fold, and a second CV, reuse one program
        mj.cross_validate(mj.MMM(), national_data, n_folds=2, horizon=8, check=False, **SMALL)
    assert not again
    from mmm_jax.plot.validation import cross_validation

    fig = cross_validation(cv)
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="holdout"):
        mj.cross_validate(mj.MMM(), national_data, holdout=3)
    with pytest.raises(ValueError, match="n_folds"):
        mj.cross_validate(mj.MMM(), national_data, n_folds=0)


def test_the_holdout_mask_survives_save_and_load(holdout_model, tmp_path):
    holdout_model.save(tmp_path / "m")
    loaded = mj.MMM.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.result.holdout, holdout_model.result.holdout)
    pd.testing.assert_frame_equal(loaded.fit_metrics(), holdout_model.fit_metrics(),
                                  check_exact=True)
