"""Model comparison by PSIS-LOO (issue 11 item 2), same columns on ArviZ 0.x and 1.x."""

from __future__ import annotations

import dataclasses
import importlib
import warnings

import arviz as az
import numpy as np
import pytest

import mmm_jax as mj
from mmm_jax import _arviz
from mmm_jax.compare import COLUMNS, ParetoKWarning, compare
from mmm_jax.inference_data import loo_data
from tests.conftest import _fit

# the module, even once mmm_jax exports the function `compare` under the same name
compare_mod = importlib.import_module("mmm_jax.compare")


@pytest.fixture(scope="module")
def small_logistic(national_data):
    """The national example with a logistic saturation, same SMALL settings as small_national."""
    return _fit(national_data, saturation="logistic")


def _quiet_compare(models):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = compare(models)
    return table, [w for w in caught if issubclass(w.category, ParetoKWarning)]


def test_ranking_columns(small_national, small_logistic):
    table, pareto = _quiet_compare({"hill": small_national, "logistic": small_logistic})
    assert list(table.columns) == list(COLUMNS)
    assert set(table.index) == {"hill", "logistic"}
    assert list(table["rank"]) == [0, 1]
    assert table["elpd_loo"].is_monotonic_decreasing
    assert table["elpd_diff"].iloc[0] == 0.0 and (table["elpd_diff"] >= 0).all()
    np.testing.assert_allclose(table["elpd_diff"].iloc[1],
                               table["elpd_loo"].iloc[0] - table["elpd_loo"].iloc[1])
    assert table["weight"].sum() == pytest.approx(1.0, abs=1e-6)
    assert (table["se"] > 0).all() and (table["p_loo"] > 0).all()
    assert table["dse"].iloc[0] == 0.0 and table["dse"].iloc[1] > 0
    assert ((table["pareto_k_bad_share"] >= 0) & (table["pareto_k_bad_share"] <= 1)).all()
    for w in pareto:  # a short fit may warn; the warning names the model
        assert "'hill'" in str(w.message) or "'logistic'" in str(w.message)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        elpd = az.loo(loo_data(small_logistic.result))
    value = elpd.elpd if _arviz.ARVIZ_1 else elpd["elpd_loo"]
    assert table.loc["logistic", "elpd_loo"] == pytest.approx(float(value))


def test_pareto_problems_warn_naming_the_model(small_national, small_logistic, monkeypatch):
    monkeypatch.setattr(compare_mod, "K_BAD", -np.inf)  # every k counts as bad
    with pytest.warns(ParetoKWarning, match="model 'logistic'"):
        table = compare({"hill": small_national, "logistic": small_logistic})
    assert (table["pareto_k_bad_share"] == 1.0).all()


def test_errors(small_national, small_logistic, national_data):
    with pytest.raises(ValueError, match="at least two"):
        compare({"hill": small_national})
    with pytest.raises(ValueError, match="not fitted"):
        compare({"hill": small_national, "new": mj.MMM()})
    with pytest.raises(ValueError, match="not an mmm_jax.MMM"):
        compare({"hill": small_national, "x": object()})
    with pytest.raises(ValueError, match="ic='waic'"):
        compare({"hill": small_national, "logistic": small_logistic}, ic="waic")
    other = dataclasses.replace(national_data, target=national_data.target * 1.01)
    moved = mj.MMM(saturation="logistic")._set_result(
        dataclasses.replace(small_logistic.result, data=other))
    with pytest.raises(ValueError, match="different data \\(KPI differ\\)"):
        compare({"hill": small_national, "logistic": moved})
    short = dataclasses.replace(national_data, dates=national_data.dates + np.timedelta64(7, "D"))
    shifted = mj.MMM(saturation="logistic")._set_result(
        dataclasses.replace(small_logistic.result, data=short))
    with pytest.raises(ValueError, match="dates differ"):
        compare({"hill": small_national, "logistic": shifted})


@pytest.mark.skipif("holdout" not in {f.name for f in dataclasses.fields(mj.FitResult)},
                    reason="FitResult has no holdout")
def test_holdout_fits_are_scored_on_fitted_observations(small_national, small_logistic):
    mask = np.zeros(small_national.data.n_time, bool)
    mask[-10:] = True
    held = dataclasses.replace(small_national.result, holdout=mask)
    assert loo_data(held)["log_likelihood"]["kpi"].shape == (2, 150, 146)
    with pytest.raises(ValueError, match="holdout differ"):
        compare({"hill": mj.MMM()._set_result(held), "logistic": small_logistic})
