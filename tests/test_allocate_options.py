"""Budget allocator options on a fitted posterior: free flighting, flexible budgets (profit,
target marginal ROI, target ROI), risk-aware objectives, cost per media unit."""

from __future__ import annotations

import numpy as np
import pytest

N_PERIODS = 13


@pytest.fixture(scope="module")
def optimum(small_national):
    return small_national.optimize_budget(None, N_PERIODS)


def test_free_flighting_is_at_least_as_good_and_converges(small_national, optimum):
    free = small_national.optimize_budget(optimum.budget, N_PERIODS, flighting="free")
    assert free.convergence["converged"], free.convergence
    # the historical weekly shape is one feasible free plan
    assert free.kpi["mean"] >= optimum.kpi["mean"] * (1 - 1e-9)
    assert free.plan.shape == (N_PERIODS, 3)
    np.testing.assert_allclose(free.plan.to_numpy().sum(), optimum.budget, rtol=1e-9)
    assert (free.plan.to_numpy() >= 0).all()


def test_profit_and_target_mroi_equate_marginal_roi(small_national):
    value = 0.5
    profit = small_national.optimize_budget(objective="profit", value_per_kpi=value)
    assert profit.convergence["converged"], profit.convergence
    interior = profit.channels[profit.channels["status"] == ""]
    np.testing.assert_allclose(interior["mroi"], 1 / value, rtol=1e-3)
    same = small_national.optimize_budget(target_mroi=1 / value)
    np.testing.assert_allclose(same.spend, profit.spend, rtol=1e-6)
    assert profit.kkt["spread"] < 1e-3
    # a higher value of the KPI justifies a larger budget
    richer = small_national.optimize_budget(objective="profit", value_per_kpi=2 * value)
    assert richer.budget > profit.budget


def test_target_roi_finds_the_largest_budget_that_keeps_it(small_national, optimum):
    target = 0.8 * optimum.roi
    result = small_national.optimize_budget(target_roi=target)
    assert result.roi >= target
    assert result.roi <= target * 1.01  # within the search's 0.1% budget tolerance
    assert result.budget > optimum.budget  # a lower ROI target allows more spend
    with pytest.raises(ValueError, match="target_roi=.* is not reached"):
        small_national.optimize_budget(target_roi=1e6)


@pytest.mark.parametrize("risk", ["quantile", "cvar"])
def test_risk_aware_objectives_improve_their_own_measure(small_national, optimum, risk):
    result = small_national.optimize_budget(optimum.budget, N_PERIODS, objective=risk,
                                            level=0.1)
    assert abs(result.budget - optimum.budget) <= 1e-9 * optimum.budget
    assert result.settings["objective"] == risk
    # score the mean-optimal plan under the risk objective: the risk plan does at least as well
    import jax
    import jax.numpy as jnp

    from mmm_jax.allocate import engine
    from mmm_jax.allocate.objective import objective

    with jax.enable_x64(True):
        setup = engine.budget_setup(small_national, N_PERIODS, 13, "historical", False, 1000,
                                    None)
        problem, settings = engine.make_problem(
            setup, lower=np.zeros(3), upper=np.full(3, np.inf), budget=optimum.budget,
            fixed=True, risk=risk, value=1.0, spend_weight=0.0, level=0.1, steps=1)
        at_mean = float(objective(jnp.asarray(optimum._plan), setup.response, problem,
                                  settings))
    assert result.objective >= at_mean * (1 - 1e-9)
    assert result.kpi["mean"] <= optimum.kpi["mean"] * (1 + 1e-9)


def test_cost_per_unit_converts_spend_to_media(small_national, optimum):
    """Doubling every channel's cost per media unit halves the media a budget buys: the
    optimum at twice the budget is twice the optimum at the original cost."""
    cost = {c: 2.0 for c in small_national.data.channels}  # media are the spend: default 1
    doubled = small_national.optimize_budget(2 * optimum.budget, N_PERIODS, cost_per_unit=cost)
    np.testing.assert_allclose(doubled.spend, 2 * optimum.spend, rtol=1e-4)
    np.testing.assert_allclose(doubled.kpi["mean"], optimum.kpi["mean"], rtol=1e-6)
    with pytest.raises(ValueError, match=r"cost_per_unit\['tv'\] = -1.0 must be"):
        small_national.optimize_budget(1e5, cost_per_unit={"tv": -1.0})
