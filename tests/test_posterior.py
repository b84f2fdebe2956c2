"""Posterior helpers that need no model: flattening chains and thinning draws."""

from __future__ import annotations

import numpy as np

from mmm_jax.posterior import flatten_draws, thin


def test_flatten_draws_puts_chains_one_after_another():
    samples = {"a": np.arange(6.0).reshape(2, 3), "b": np.arange(12.0).reshape(2, 3, 2)}
    flat = flatten_draws(samples)
    assert flat["a"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert flat["b"].shape == (6, 2) and flat["b"][3].tolist() == samples["b"][1, 0].tolist()


def test_thin_keeps_evenly_spaced_draws_including_both_ends():
    draws = {"a": np.arange(10.0), "b": np.arange(20.0).reshape(10, 2)}
    out = thin(draws, 4)
    assert out["a"].tolist() == [0.0, 3.0, 6.0, 9.0]
    np.testing.assert_array_equal(out["b"], draws["b"][[0, 3, 6, 9]])
    assert thin(draws, None) is draws and thin(draws, 10) is draws and thin(draws, 50) is draws
