"""Budget allocator options on a fitted posterior: free flighting, flexible budgets (profit,
target marginal ROI, target ROI), risk-aware objectives, cost per media unit; the options
value (AllocationOptions), the default bound, the outside-history flag and the JSON round
trip of a result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mmm_jax as mj
from mmm_jax.allocate import AllocationOptions

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
    value = 0.5  # unbounded, so that channels are interior and equate their marginal ROI
    profit = small_national.optimize_budget(objective="profit", value_per_kpi=value,
                                            relative_bounds=None)
    assert profit.convergence["converged"], profit.convergence
    interior = profit.channels[profit.channels["status"] == ""]
    np.testing.assert_allclose(interior["mroi"], 1 / value, rtol=1e-3)
    same = small_national.optimize_budget(target_mroi=1 / value, relative_bounds=None)
    np.testing.assert_allclose(same.spend, profit.spend, rtol=1e-6)
    assert profit.kkt["spread"] < 1e-3
    # a higher value of the KPI justifies a larger budget
    richer = small_national.optimize_budget(objective="profit", value_per_kpi=2 * value,
                                            relative_bounds=None)
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


# ---------------------------------------------------------------------- the options value
def test_default_bound_keeps_each_channel_within_30_percent_of_the_historical_mix(
        small_national, optimum):
    assert optimum.settings["relative_bounds"] == (0.7, 1.3)
    ratio = optimum.spend / optimum.reference_spend
    assert ((ratio >= 0.7 - 1e-9) & (ratio <= 1.3 + 1e-9)).all(), ratio
    np.testing.assert_allclose(optimum.channels["lower"], 0.7 * optimum.reference_spend)
    np.testing.assert_allclose(optimum.channels["upper"], 1.3 * optimum.reference_spend)
    assert optimum.notes()[0].startswith("Each channel bounded to ±30% of the historical mix")
    # on these data the bound matters: unbounded, some channel moves more than 30%
    free = small_national.optimize_budget(None, N_PERIODS, relative_bounds=None)
    moved = (free.spend / free.reference_spend - 1).abs()
    assert moved.max() > 0.3 and free.kpi["mean"] >= optimum.kpi["mean"] * (1 - 1e-9)
    assert free.notes()[0].startswith("No relative bound (relative_bounds=None)")
    # an options value and keyword overrides are the same thing
    same = small_national.optimize_budget(None, N_PERIODS,
                                          options=AllocationOptions(relative_bounds=None))
    np.testing.assert_allclose(same.spend, free.spend, rtol=1e-12)


def test_channels_outside_the_historical_spend_range_are_flagged(small_national):
    model = small_national
    per_period = model.data.spend  # (T, C): national data
    base = model.evaluate_budget(None, N_PERIODS)
    ch = base.channels
    np.testing.assert_allclose(ch["observed_high"], per_period.max(0))
    np.testing.assert_allclose(ch["observed_low"], per_period.min(0))
    assert not ch["outside_history"].any()  # the last quarter's own spend is inside
    assert not any(n.startswith("Outside") for n in base.notes())
    more = base.spend.copy()
    more["search"] = 3.0 * N_PERIODS * per_period[:, 1].max()  # far above any week's spend
    flagged = model.evaluate_budget(more, N_PERIODS)
    assert flagged.channels["outside_history"].tolist() == [False, True, False]
    assert flagged.period_spend()["search"].max() > flagged.channels.loc["search",
                                                                          "observed_high"]
    assert "Outside the spend range of the history: search (" in flagged.notes()[-1]
    assert "outside the historical spend range: search" in repr(flagged)
    assert flagged.to_frame()["outside_history"].tolist() == [False, True, False]


def test_options_are_validated_with_the_field_named(small_national):
    m = small_national
    with pytest.raises(ValueError, match="unknown allocation option 'relative_bound'; did you "
                                         "mean 'relative_bounds'"):
        m.optimize_budget(1e5, relative_bound=(0.5, 2.0))
    with pytest.raises(ValueError, match="unknown allocation option 'stpes'.*'steps'"):
        m.budget_response([1e5], N_PERIODS, stpes=10)
    with pytest.raises(ValueError, match="unknown allocation option 'tial'"):
        m.evaluate_budget(None, N_PERIODS, tial=4)
    with pytest.raises(ValueError, match=r"level=1.5 must be between 0 and 1"):
        m.optimize_budget(1e5, objective="cvar", level=1.5)
    with pytest.raises(ValueError, match=r"relative_bounds=\(1.3, 0.7\) needs 0 <= low"):
        AllocationOptions(relative_bounds=(1.3, 0.7))
    with pytest.raises(ValueError, match="n_starts=0 must be >= 1"):
        AllocationOptions(n_starts=0)
    with pytest.raises(ValueError, match="choose one flexible-budget rule"):
        AllocationOptions(target_roi=2.0, objective="profit")
    with pytest.raises(ValueError, match="budget_response: unsupported option target_roi"):
        m.budget_response([1e5], N_PERIODS, target_roi=2.0)
    with pytest.raises(ValueError, match="must be a mmm_jax.AllocationOptions"):
        m.optimize_budget(1e5, options={"steps": 10})
    # None bounds on one side and "bounds nothing" pairs are normalised
    assert AllocationOptions(relative_bounds=(0, None)).relative_bounds is None
    assert AllocationOptions(bounds={"tv": (None, 5)}).bounds == {"tv": (0.0, 5.0)}
    assert AllocationOptions(locked=["tv"]).locked == ("tv",)
    assert AllocationOptions(max_draws=np.int64(200)).max_draws == 200


def test_result_round_trips_through_json(small_national, optimum, tmp_path):
    scored = small_national.evaluate_budget(None, N_PERIODS)  # upper bounds inf, no kkt
    for k, result in enumerate([optimum, scored]):
        path = result.save(tmp_path / f"allocation{k}.json")
        json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
        again = mj.BudgetResult.load(path)
        for name in ("plan", "channels"):
            pd.testing.assert_frame_equal(getattr(again, name), getattr(result, name))
        for name in ("spend", "kpi", "reference_spend", "reference_kpi", "lift"):
            pd.testing.assert_series_equal(getattr(again, name), getattr(result, name))
        assert again.spend_by_geo is None and again.objective == result.objective
        assert again.kkt == result.kkt and again.convergence == result.convergence
        assert again.settings == result.settings
        assert isinstance(again.settings["relative_bounds"], tuple)
        np.testing.assert_array_equal(again._plan, result._plan)
    assert np.isinf(again.channels["upper"]).all() and again.kkt is None
    with pytest.raises(ValueError, match="not a saved BudgetResult"):
        mj.BudgetResult.from_dict({"format": "something else"})
