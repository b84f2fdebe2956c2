"""Budget allocator on a geo model: national plans split by historical geo shares, and
per-geo plans."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

import mmm_jax as mj

N_PERIODS = 8


def test_national_plan_is_split_by_historical_geo_shares(small_geo):
    model = small_geo
    result = model.optimize_budget(None, N_PERIODS)
    assert result.convergence["converged"], result.convergence
    by_geo = result.spend_by_geo
    assert by_geo.shape == (5, 3)
    recent = model.data.spend[:, -N_PERIODS:, :].sum(1)
    shares = recent / recent.sum(0)
    funded = result.spend.to_numpy() > 0
    assert funded.sum() >= 2
    split = by_geo.to_numpy()[:, funded]
    np.testing.assert_allclose(split / split.sum(0), shares[:, funded], rtol=1e-9)
    assert result.plan.index.names == ["geo", "date"] and result.plan.shape == (5 * N_PERIODS, 3)
    np.testing.assert_allclose(result.plan.to_numpy().sum(), result.budget, rtol=1e-12)
    assert result.lift["mean"] >= 0


def test_per_geo_plan_does_at_least_as_well_and_meets_the_budget(small_geo):
    model = small_geo
    national = model.optimize_budget(None, N_PERIODS, relative_bounds=(0.0, 3.0))
    per_geo = model.optimize_budget(national.budget, N_PERIODS, by_geo=True,
                                    relative_bounds=(0.0, 3.0))
    assert abs(per_geo.budget - national.budget) <= 1e-9 * national.budget
    assert per_geo.kpi["mean"] >= national.kpi["mean"] * (1 - 1e-6)
    assert (per_geo.spend <= per_geo.channels["upper"]).all()
    assert per_geo.convergence["converged"], per_geo.convergence
    scored = model.evaluate_budget(per_geo.spend_by_geo, N_PERIODS, by_geo=True)
    np.testing.assert_allclose(scored.kpi["mean"], per_geo.kpi["mean"], rtol=1e-9)
    # a geo result (plan indexed by (geo, date), spend by geo) round-trips through JSON
    again = mj.BudgetResult.from_dict(json.loads(json.dumps(per_geo.to_dict())))
    pd.testing.assert_frame_equal(again.plan, per_geo.plan)
    pd.testing.assert_frame_equal(again.spend_by_geo, per_geo.spend_by_geo)
    pd.testing.assert_frame_equal(again.channels, per_geo.channels)
    assert again.settings == per_geo.settings
    # the outside-history flag compares national spend per period with the history's
    np.testing.assert_allclose(per_geo.channels["observed_high"],
                               model.data.spend.sum(0).max(0))
    assert per_geo.period_spend().shape == (N_PERIODS, 3)
