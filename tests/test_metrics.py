"""Posterior summaries: HDI, summary frames, fit statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmm_jax.metrics import fit_statistics, hdi, summarize


def test_hdi_matches_a_brute_force_search():
    rng = np.random.default_rng(0)
    x = rng.gamma(2.0, size=(501, 3))
    low, high = hdi(x, 0.9)
    for j in range(3):
        s = np.sort(x[:, j])
        k = int(np.floor(0.9 * len(s)))
        widths = [s[i + k] - s[i] for i in range(len(s) - k)]
        i = int(np.argmin(widths))
        assert (low[j], high[j]) == (s[i], s[i + k])
    with pytest.raises(ValueError, match="prob"):
        hdi(x, 1.5)


def test_summarize_builds_an_indexed_frame():
    out = summarize(np.arange(20.0).reshape(10, 2), pd.Index(["a", "b"]))
    assert out.loc["a", "mean"] == 9.0


def test_fit_statistics_known_values():
    assert fit_statistics(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == {"r2": 1.0, "mape": 0.0}
    out = fit_statistics(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 5.0]))
    assert out["r2"] == pytest.approx(0.8) and out["mape"] == pytest.approx(6.25)
    # zero observations are left out of MAPE (no division by zero), not out of R-squared
    out = fit_statistics(np.array([[0.0, 2.0]]), np.array([[1.0, 2.0]]))
    assert out == {"r2": pytest.approx(0.5), "mape": 0.0}


def test_hdi_keeps_trailing_axes_and_covers_everything_when_prob_is_near_one():
    x = np.arange(24.0).reshape(6, 2, 2)
    low, high = hdi(x, 0.5)
    assert low.shape == high.shape == (2, 2) and np.all(high - low == 12.0)  # 3 steps of 4
    low, high = hdi(np.array([3.0, 1.0, 2.0]), 0.99)
    assert (low, high) == (1.0, 3.0)


def test_summarize_names_the_columns_and_brackets_the_mean():
    draws = np.random.default_rng(1).normal(size=(400, 3))
    out = summarize(draws, pd.Index(["a", "b", "c"]), prob=0.8, name="roi")
    assert out.columns.name == "roi" and list(out.columns) == ["mean", "hdi_low", "hdi_high"]
    assert ((out["hdi_low"] < out["mean"]) & (out["mean"] < out["hdi_high"])).all()
    np.testing.assert_allclose(out["mean"], draws.mean(axis=0))
