"""Convergence diagnostics on hand-made draws (no fits): thresholds, names, the warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mmm_jax.diagnostics import ESS_MIN, ConvergenceWarning, check, compute, problems


def _stats(n_chains=4, n_draws=500, divergences=0, depth=3):
    diverging = np.zeros((n_chains, n_draws), bool)
    diverging.flat[:divergences] = True
    return {"diverging": diverging, "tree_depth": np.full((n_chains, n_draws), depth),
            "num_steps": np.full((n_chains, n_draws), 2 ** depth - 1)}


def _good(rng, n_chains=4, n_draws=500):
    return {"a": rng.normal(size=(n_chains, n_draws)),
            "b": rng.normal(size=(n_chains, n_draws, 2))}


def test_well_mixed_chains_pass_without_a_warning():
    d = compute(_good(np.random.default_rng(0)), _stats(), max_tree_depth=10)
    assert d["max_rhat"] < 1.01 and d["min_ess_bulk"] > ESS_MIN and d["min_ess_tail"] > ESS_MIN
    assert set(d["rhat"]) == {"a", "b[0]", "b[1]"}
    assert (d["num_chains"], d["num_draws"], d["divergences"]) == (4, 500, 0)
    assert d["mean_steps"] == 7.0 and d["tree_depth_saturation"] == 0.0
    assert problems(d) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check(d) is True


def test_stuck_chains_are_named_and_warned_about():
    rng = np.random.default_rng(1)
    samples = _good(rng)
    samples["b"][..., 1] += np.arange(4)[:, None] * 3.0  # b[1]: each chain somewhere else
    d = compute(samples, _stats(), max_tree_depth=10)
    assert d["worst_rhat"] == "b[1]" and d["max_rhat"] > 1.5
    assert d["worst_ess_bulk"] == "b[1]" and d["min_ess_bulk"] < ESS_MIN
    issues = problems(d)
    assert issues[0].startswith("R-hat ") and issues[0].endswith("for b[1]")
    assert any(i.startswith("bulk ESS") and i.endswith("for b[1]") for i in issues)
    with pytest.warns(ConvergenceWarning, match=r"convergence check failed: R-hat .* b\[1\]"):
        assert check(d) is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check(d, warn=False) is False


def test_one_chain_divergences_and_tree_depth_are_reported():
    rng = np.random.default_rng(2)
    d = compute(_good(rng, n_chains=1, n_draws=2000), _stats(1, 2000, divergences=3, depth=10),
                max_tree_depth=10)
    assert np.isnan(d["max_rhat"]) and d["rhat"] == {} and d["worst_rhat"] is None
    issues = problems(d)
    assert "R-hat needs >= 2 chains; run num_chains=4" in issues
    assert any(i.startswith("3 divergent transitions") for i in issues)
    assert "100% of draws hit the maximum tree depth" in issues


def test_many_bad_parameters_are_listed_up_to_six():
    rng = np.random.default_rng(3)
    stuck = rng.normal(size=(4, 300, 9)) + np.arange(4)[:, None, None] * 5.0
    d = compute({"w": stuck}, _stats(n_draws=300), max_tree_depth=10)
    rhat_issue = problems(d)[0]
    assert rhat_issue.endswith("w[0], w[1], w[2], w[3], w[4], w[5] and 3 more")
