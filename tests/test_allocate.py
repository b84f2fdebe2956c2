"""Budget allocator on a fitted posterior: optimality against random plans and a dense grid,
exact constraints, no recompilation, the setup cache, what-if scoring, bad inputs.

The optimality checks compare against every plan with the budget, so they optimise without
the default relative bound (``relative_bounds=None``)."""

from __future__ import annotations

import dataclasses
import gc
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import mmm_jax as mj
from mmm_jax.allocate import engine
from mmm_jax.allocate.objective import objective
from tests.conftest import count_compiles

N_PERIODS = 13


@pytest.fixture(scope="module")
def optimum(small_national):
    return small_national.optimize_budget(None, N_PERIODS, relative_bounds=None)


def _mean_kpi(model, totals, budget):
    """Posterior-mean incremental KPI of many ``(M, C)`` channel totals (historical shape),
    on the same jitted objective the allocator maximises."""
    with jax.enable_x64(True):
        setup = engine.budget_setup(model, N_PERIODS, 13, "historical", False, 1000, None)
        c = len(setup.channels)
        problem, settings = engine.make_problem(
            setup, lower=np.zeros(c), upper=np.full(c, np.inf), budget=budget, fixed=True,
            risk="mean", value=1.0, spend_weight=0.0, level=0.1, steps=1)
        f = jax.jit(lambda t: jax.lax.map(
            lambda x: objective(x[None, None, :], setup.response, problem, settings),
            t, batch_size=128))
        return np.asarray(f(jnp.asarray(totals, jnp.float64)))


def test_optimum_beats_random_feasible_allocations(small_national, optimum):
    """RELIABILITY #13: none of 1,000 random plans with the same budget beats it by > 0.1%."""
    rng = np.random.default_rng(0)
    budget = optimum.budget
    totals = rng.dirichlet(np.ones(3), size=1000) * budget
    values = _mean_kpi(small_national, totals, budget)
    best = optimum.kpi["mean"]
    assert values.max() <= best * (1 + 1e-3), (values.max(), best)
    assert values.max() <= best * (1 + 1e-9)  # in fact none beats it at all
    reference = _mean_kpi(small_national, optimum.reference_spend.to_numpy()[None], budget)[0]
    np.testing.assert_allclose(reference, optimum.reference_kpi["mean"], rtol=1e-9)


def test_optimum_beats_a_dense_grid_on_three_and_two_channels(small_national, optimum):
    """RELIABILITY #13: the simplex on a 1% grid (3 channels), and a 0.1% grid with one
    channel locked (2 free channels)."""
    budget = optimum.budget
    steps = 100
    i, j = np.meshgrid(np.arange(steps + 1), np.arange(steps + 1), indexing="ij")
    keep = i + j <= steps
    grid = np.stack([i[keep], j[keep], steps - i[keep] - j[keep]], 1) * budget / steps
    values = _mean_kpi(small_national, grid, budget)
    assert values.max() <= optimum.kpi["mean"] * (1 + 1e-3)
    assert values.max() <= optimum.kpi["mean"] * (1 + 1e-9)

    locked = small_national.optimize_budget(budget, N_PERIODS, locked={"tv": 0.3 * budget},
                                            relative_bounds=None)
    share = np.linspace(0, 1, 1001)[:, None]
    pairs = np.hstack([np.full_like(share, 0.3), 0.7 * share, 0.7 * (1 - share)]) * budget
    values = _mean_kpi(small_national, pairs, budget)
    assert values.max() <= locked.kpi["mean"] * (1 + 1e-9)


def test_budget_bounds_and_locks_hold_exactly(small_national):
    model = small_national
    budget = 123_456.789
    result = model.optimize_budget(
        budget, N_PERIODS, bounds={"search": (20_000, 30_000)}, relative_bounds=(0.5, 1.6),
        locked={"social": 40_000.0})
    spend = result.spend
    assert abs(spend.sum() - budget) <= 1e-9 * budget
    ch = result.channels
    assert (spend >= ch["lower"]).all() and (spend <= ch["upper"]).all()
    assert spend["social"] == 40_000.0 and ch.loc["social", "status"] == "locked"
    assert ch.loc["search", "upper"] == 30_000 and ch.loc["search", "lower"] == 20_000
    # relative bounds refer to the historical mix at this budget
    ref = result.reference_spend
    np.testing.assert_allclose(ref.sum(), budget, rtol=1e-12)
    assert ch.loc["tv", "lower"] == pytest.approx(0.5 * ref["tv"])
    np.testing.assert_allclose(result.plan.sum(axis=0).to_numpy(), spend.to_numpy(), rtol=1e-12)
    assert result.plan.shape == (N_PERIODS, 3)


def test_result_reports_kkt_convergence_and_intervals(optimum):
    conv, kkt = optimum.convergence, optimum.kkt
    assert conv["converged"], conv
    assert kkt["violations"] == [] and kkt["spread"] < 1e-4, kkt
    interior = optimum.channels[optimum.channels["status"] == ""]
    assert len(interior) >= 2
    np.testing.assert_allclose(interior["mroi"], kkt["multiplier"], rtol=1e-4)
    k = optimum.kpi
    assert k["hdi_low"] < k["mean"] < k["hdi_high"]
    assert optimum.lift["mean"] >= 0  # the reference plan is feasible, so never better
    assert list(optimum.summary().index) == ["spend", "kpi", "kpi_hdi_low", "kpi_hdi_high",
                                             "roi"]
    frame = optimum.to_frame()
    assert {"current_spend", "optimal_spend", "optimal_kpi"} <= set(frame.columns)
    assert frame.attrs["periods"] == N_PERIODS
    assert "BudgetResult(" in repr(optimum)


def test_second_optimisation_with_other_budget_and_bounds_does_not_recompile(small_national,
                                                                             optimum):
    with count_compiles() as compiles:
        other = small_national.optimize_budget(optimum.budget * 0.6, N_PERIODS,
                                               relative_bounds=(0.2, 3.0), seed=5)
    assert compiles == []
    assert other.convergence["converged"]


def test_evaluate_budget_scores_what_if_scenarios(small_national, optimum):
    model = small_national
    base = model.evaluate_budget(None, N_PERIODS)
    assert base.lift["mean"] == 0 and base.kkt is None and base.convergence is None
    again = model.evaluate_budget(optimum.spend, N_PERIODS)
    np.testing.assert_allclose(again.kpi["mean"], optimum.kpi["mean"], rtol=1e-9)
    cut = model.evaluate_budget(base.spend * 0.7, N_PERIODS)
    assert cut.kpi["mean"] < base.kpi["mean"] and cut.lift["mean"] < 0
    moved = base.spend.copy()
    moved["search"] += 0.2 * moved["tv"]
    moved["tv"] *= 0.8
    shifted = model.evaluate_budget(moved.to_dict(), N_PERIODS)
    assert shifted.budget == pytest.approx(base.budget)
    per_period = model.evaluate_budget(base.plan, N_PERIODS)  # the same plan, period by period
    np.testing.assert_allclose(per_period.kpi["mean"], base.kpi["mean"], rtol=1e-9)
    assert base.channels["roi"].notna().all()


def test_budget_response_rises_with_budget_and_reuses_the_compiled_solver(small_national,
                                                                         optimum):
    budgets = optimum.budget * np.array([0.5, 1.0, 2.0])
    curve = small_national.budget_response(budgets, N_PERIODS, relative_bounds=None)
    assert list(curve.index) == list(budgets)
    assert np.all(np.diff(curve["kpi"]) > 0)
    assert np.all(np.diff(curve["mroi"]) < 0)  # diminishing returns
    np.testing.assert_allclose(curve.loc[budgets[1], "kpi"], optimum.kpi["mean"], rtol=1e-6)
    np.testing.assert_allclose(curve[list(small_national.data.channels)].sum(axis=1), budgets)


def test_bad_inputs_name_the_problem(small_national):
    m = small_national
    with pytest.raises(ValueError, match="budget=-5.0 must be a finite number > 0"):
        m.optimize_budget(-5.0)
    with pytest.raises(ValueError, match="unknown channel 'radio'.*tv"):
        m.optimize_budget(1e5, bounds={"radio": (0, 1)})
    with pytest.raises(ValueError, match="locked: unknown channel 'print'"):
        m.optimize_budget(1e5, locked=["print"])
    with pytest.raises(ValueError, match="cost_per_unit: unknown channel 'tv2'"):
        m.optimize_budget(1e5, cost_per_unit={"tv2": 1.0})
    with pytest.raises(ValueError, match="exceeds the sum of the upper bounds.*raise the upper"):
        m.optimize_budget(1e5, bounds=(0, 1e4), relative_bounds=None)
    with pytest.raises(ValueError, match="below the sum of the lower bounds"):
        m.optimize_budget(1e5, bounds=(5e4, None), relative_bounds=None)
    with pytest.raises(ValueError, match="lower bound .* exceeds upper"):
        m.optimize_budget(1e5, bounds={"tv": (0, 10)}, relative_bounds={"tv": (0.5, 1)})
    with pytest.raises(ValueError, match="by_geo=True needs a geo model"):
        m.optimize_budget(1e5, by_geo=True)
    with pytest.raises(ValueError, match="either budget or target_roi"):
        m.optimize_budget(1e5, target_roi=2.0)
    with pytest.raises(ValueError, match="objective='best'"):
        m.optimize_budget(1e5, objective="best")
    with pytest.raises(ValueError, match="flighting"):
        m.optimize_budget(1e5, flighting="pulsed")
    with pytest.raises(ValueError, match="channel 'social' is missing"):
        m.evaluate_budget({"tv": 1.0, "search": 2.0})
    with pytest.raises(ValueError, match="finite and >= 0"):
        m.evaluate_budget({"tv": -1.0, "search": 2.0, "social": 1.0})
    with pytest.raises(ValueError, match="not fitted"):
        mj.MMM().optimize_budget(1e5)
    assert isinstance(m.evaluate_budget(pd.Series({"tv": 1.0, "search": 2.0, "social": 3.0})),
                      mj.BudgetResult)


def test_setups_are_cached_per_fit_result_and_cleared_by_clear_caches(small_national,
                                                                      monkeypatch):
    """One cache, keyed weakly by the FitResult: a second call reuses the setup, a new result
    (a refit) gets its own and frees it with the result, and mj.clear_caches() empties it."""
    from mmm_jax import caches

    model = small_national
    args = (N_PERIODS, 13, "historical", False, 1000, None)
    with jax.enable_x64(True):
        first = engine.budget_setup(model, *args)
        assert engine.budget_setup(model, *args) is first
        assert "_budget_cache" not in vars(model)
        refit = mj.MMM(spec=model.spec)._set_result(dataclasses.replace(model.result))
        other = engine.budget_setup(refit, *args)
    assert other is not first
    assert model.result in engine._SETUPS and refit.result in engine._SETUPS
    gone = weakref.ref(refit.result)
    del refit, other
    gc.collect()
    assert gone() is None and len(engine._SETUPS) >= 1  # the refit's entry went with it
    # the public clear_caches() reaches the allocator's cache (JAX's and the sampler's caches
    # are kept here so later tests do not recompile)
    assert "allocator setups" in caches._CLEARERS
    monkeypatch.setattr(caches, "_CLEARERS",
                        {"allocator setups": caches._CLEARERS["allocator setups"]})
    monkeypatch.setattr(jax, "clear_caches", lambda: None)
    mj.clear_caches()
    assert len(engine._SETUPS) == 0
    with jax.enable_x64(True):
        assert engine.budget_setup(model, *args) is not first
