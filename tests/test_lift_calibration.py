"""Lift-test calibration in the model: the counterfactual lift against a NumPy reference, the
likelihood term, a calibrated fit, and lift tests through save/load, the report and the TOML
configuration. (The table's rules are in test_lift_tests.py.)"""

from __future__ import annotations

import tomllib
import warnings

import numpy as np
import pandas as pd
import pytest
from numpyro.infer.util import log_density

import mmm_jax as mj
from mmm_jax import posterior as post
from mmm_jax._config_file import dumps_config, parse_config
from mmm_jax.fit import _problem
from mmm_jax.lift_tests import check_lift_tests, lift_inputs
from mmm_jax.model import make_model
from mmm_jax.report import render
from mmm_jax.simulate import _geometric_adstock, _saturate
from mmm_jax.spec import ModelSpec
from tests.prior_fits import prior_result

COLUMNS = {"date": "date", "target": "sales", "media": ["tv", "search", "social"],
           "controls": ["price"]}


@pytest.fixture(scope="module")
def lift_table():
    """The national example's simulated experiments, one per channel."""
    return pd.DataFrame(mj.load_example_truth("national")["lift_tests"])


def _reference_lift(samples, data, scales, table, d):
    """NumPy float64 lift of each test under draw ``d`` (geometric adstock + Hill)."""
    out = []
    unit = data.media / scales.media
    dates = list(pd.DatetimeIndex(data.dates))
    for _, row in table.iterrows():
        c = list(data.channels).index(row["channel"])
        first, last = dates.index(pd.Timestamp(row["start"])), dates.index(pd.Timestamp(row["end"]))
        base = unit[:, c:c + 1]
        bumped = base.copy()
        bumped[first:last + 1] += row["delta_spend"] / (last - first + 1) / scales.media[c]
        p = {k: np.asarray(v[0, d], np.float64) for k, v in samples.items()}
        curve = [_saturate(_geometric_adstock(x, p["alpha"][c:c + 1]), p["half_max"][c:c + 1],
                           p["slope"][c:c + 1])[:, 0] for x in (base, bumped)]
        out.append(p["beta"][c] * (curve[1] - curve[0])[first:].sum() * scales.target)
    return np.array(out)


def test_model_lift_matches_a_numpy_reference(national_data, lift_table):
    result = prior_result(ModelSpec(), national_data, n=3)
    table = check_lift_tests(lift_table, national_data)
    inputs = dict(result.inputs(), **lift_inputs(table, national_data, result.scales))
    flat = post.flatten_draws(result.samples)
    got = np.asarray(post.lift_draws(flat, inputs, config=result.spec, n_geos=None), np.float64)
    for d in range(3):  # float32 model vs float64 reference
        want = _reference_lift(result.samples, national_data, result.scales, table, d)
        np.testing.assert_allclose(got[d] * result.scales.target, want, rtol=2e-4)


def test_lift_tests_add_their_normal_likelihood(national_data, lift_table):
    """log density with the tests - without = sum Normal(lift | model lift, sd) on the unit
    scale, at any point."""
    spec = ModelSpec()
    table = check_lift_tests(lift_table, national_data)
    plain, calibrated = _problem(spec, national_data), _problem(spec, national_data, None, table)
    point = {k: v[0, 0] for k, v in prior_result(spec, national_data, n=1).samples.items()}
    model = make_model(spec, plain.dims)
    without = log_density(model, (plain.inputs, plain.y), {}, point)[0]
    with_tests = log_density(model, (calibrated.inputs, calibrated.y), {}, point)[0]
    inputs = calibrated.inputs
    pred = np.asarray(post.lift_draws({k: v[None] for k, v in point.items()}, inputs,
                                      config=spec, n_geos=None)[0], np.float64)
    sd, obs = np.asarray(inputs["lift_sd"], np.float64), np.asarray(inputs["lift_obs"], np.float64)
    want = np.sum(-0.5 * ((obs - pred) / sd) ** 2 - np.log(sd) - 0.5 * np.log(2 * np.pi))
    np.testing.assert_allclose(float(with_tests - without), want, rtol=1e-4)


def test_a_bad_row_fails_before_sampling(national_data, lift_table):
    bad = lift_table.assign(lift_sd=[1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="row 1.*lift_sd"):
        mj.MMM().fit(national_data, lift_tests=bad, num_warmup=10, num_samples=10)


@pytest.fixture(scope="module")
def calibrated():
    """One simulated dataset fitted without and with its lift tests (same seed)."""
    df, truth = mj.simulate(seed=4, n_periods=104, scenario="confounded")
    data = mj.MMMData.from_dataframe(df, **COLUMNS)
    settings = dict(num_warmup=300, num_samples=300, num_chains=2, seed=1, progress_bar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        plain = mj.MMM().fit(data, **settings)
        tuned = mj.MMM().fit(data, lift_tests=truth["lift_tests"], **settings)
    return plain, tuned, truth


@pytest.mark.slow
def test_lift_tests_narrow_the_roi_and_are_fitted(calibrated):
    """One go-dark experiment per channel with sd 10% of its lift pins each channel's response
    near its history: every ROI interval at least 30% narrower, and
    every test fitted within 3 sd (the calibrated model must agree with its data). Coverage is
    a property of many fits: tests/test_calibration.py and benchmarks/scenario_recovery.py."""
    plain, tuned, truth = calibrated
    a, b = plain.roi(), tuned.roi()
    width = lambda r: r["hdi_high"] - r["hdi_low"]  # noqa: E731
    assert (width(b) < 0.7 * width(a)).all(), pd.concat([width(a), width(b)], axis=1)
    fit = tuned.lift_test_fit()
    assert list(fit.columns[-4:]) == ["fitted", "fitted_hdi_low", "fitted_hdi_high", "z"]
    assert (fit["z"].abs() < 3).all(), fit
    # any table scores any fit: the uncalibrated model against the same experiments
    assert len(plain.lift_test_fit(truth["lift_tests"])) == len(fit)


@pytest.mark.slow
def test_lift_tests_survive_save_load_and_reach_the_report(calibrated, tmp_path):
    _, tuned, _ = calibrated
    tuned.save(tmp_path / "m")
    back = mj.MMM.load(tmp_path / "m")
    pd.testing.assert_frame_equal(back.result.lift_tests, tuned.result.lift_tests,
                                  check_exact=True)
    page, _ = render(tuned)
    assert 'id="lift-tests"' in page and "fitted lift" in page


def test_the_calibration_table_of_the_toml_config(tmp_path):
    raw = {"data": {"date": "date", "target": "sales", "media": ["tv"]},
           "calibration": {"lift_tests": "lift.csv"}}
    config = parse_config(raw)
    assert config.lift_tests == "lift.csv"
    assert parse_config(tomllib.loads(dumps_config(config))).lift_tests == "lift.csv"
    with pytest.raises(ValueError, match="calibration.lift_test'"):
        parse_config({**raw, "calibration": {"lift_test": "x.csv"}})
