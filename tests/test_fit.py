"""Fitting: recovery of known truth, convergence gate, reproducibility, no recompilation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mmm_jax as mj
from tests.conftest import NATIONAL_COLUMNS, SMALL, assert_same_posterior, count_compiles


@pytest.fixture(scope="module")
def recovery():
    """Reference-length fit (4 chains x (1000 + 1000)) of ``simulate(seed=0)``: 156 weeks,
    3 channels, 1 control. The seed is the simulator's default, fixed before any fit."""
    df, truth = mj.simulate(seed=0, n_periods=156)
    data = mj.MMMData.from_dataframe(df, **NATIONAL_COLUMNS)
    model = mj.MMM().fit(data, num_warmup=1000, num_samples=1000, num_chains=4, seed=0,
                         progress_bar=False)
    return model, truth


@pytest.mark.slow
def test_recovers_true_roi_with_converged_chains(recovery):
    """Every channel's true ROI lies inside its 90% HDI, R-hat <= 1.01 and no divergences.

    Tolerance: for a calibrated posterior each channel is covered with probability 0.9, so
    this fixed dataset passing is evidence, not proof; coverage over many datasets is the job
    of the simulation-based calibration study in benchmarks/.
    """
    model, truth = recovery
    d = model.diagnostics()
    assert d["max_rhat"] <= 1.01, d
    assert d["divergences"] == 0, d
    assert d["min_ess_bulk"] >= 400, d
    roi = model.roi()
    for channel, true_roi in truth["roi"].items():
        low, high = roi.loc[channel, ["hdi_low", "hdi_high"]]
        assert low <= true_roi <= high, (channel, true_roi, low, high)


@pytest.mark.slow
def test_contribution_shares_and_fit_are_sensible(recovery):
    model, truth = recovery
    share = model.contribution_share()
    for channel, true_share in truth["contribution_share"].items():
        low, high = share.loc[channel, ["hdi_low", "hdi_high"]]
        assert low - 0.05 <= true_share <= high + 0.05, (channel, true_share, low, high)
    fit = model.fit_metrics()
    assert fit["r2"] > 0.5 and fit["mape"] < 10.0, fit


@pytest.mark.slow
def test_posterior_predictive_interval_covers_most_weeks(recovery):
    """RELIABILITY #9: the 90% predictive interval covers 80-98% of observed weeks."""
    model, _ = recovery
    draws = model.predict(seed=1)
    low, high = np.quantile(draws, [0.05, 0.95], axis=0)
    y = model.data.target
    coverage = np.mean((y >= low) & (y <= high))
    assert 0.80 <= coverage <= 0.98, coverage


def test_convergence_gate_trips_on_a_bad_run(national_data):
    """RELIABILITY #8: one chain and 20 warmup steps must fail the check, with a warning."""
    model = mj.MMM()
    with pytest.warns(mj.ConvergenceWarning, match="R-hat needs >= 2 chains|ESS"):
        model.fit(national_data, num_warmup=20, num_samples=50, num_chains=1, seed=0,
                  progress_bar=False)
    assert model.diagnostics()["passed"] is False


def test_warning_names_the_parameter(national_data):
    model = mj.MMM()
    with pytest.warns(mj.ConvergenceWarning) as record:
        model.fit(national_data, num_warmup=20, num_samples=30, num_chains=2, seed=0,
                  progress_bar=False)
    message = str(record[0].message)
    assert any(name in message for name in ("alpha", "beta", "intercept", "sigma", "half_max"))


def test_same_seed_same_draws_other_seed_other_draws(national_data, small_national):
    again = mj.MMM()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        again.fit(national_data, seed=0, check=False, **SMALL)
        other = mj.MMM().fit(national_data, seed=1, check=False, **SMALL)
    for name, value in small_national.samples.items():
        np.testing.assert_array_equal(value, again.samples[name])  # bitwise
    assert not np.array_equal(small_national.samples["beta"], other.samples["beta"])


def test_float64_option_samples_in_64_bit_and_agrees_with_float32(national_data,
                                                                  small_national):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        m64 = mj.MMM().fit(national_data, seed=0, check=False, precision="float64", **SMALL)
    assert m64.samples["beta"].dtype == np.float64
    assert small_national.samples["beta"].dtype == np.float32  # float32 stays the default
    assert_same_posterior(m64, small_national)
    assert np.isfinite(m64.roi()["mean"]).all()
    with pytest.raises(ValueError, match="precision='float16'"):
        mj.MMM().fit(national_data, precision="float16")


def test_second_fit_on_same_shaped_data_does_not_recompile(national_data, small_national):
    """RELIABILITY #5: a second fit (other data values, other seed) compiles nothing new."""
    df = mj.load_example("national")
    df["sales"] = df["sales"] * 1.1 + 5.0
    df["tv"] = df["tv"][::-1].to_numpy()
    other = mj.MMMData.from_dataframe(df, **NATIONAL_COLUMNS)
    with count_compiles() as compiles, warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        mj.MMM().fit(other, seed=7, check=False, **SMALL)
    assert compiles == []


def test_fit_rejects_a_dataframe_and_bad_sampler_settings(national_data):
    with pytest.raises(ValueError, match="MMMData"):
        mj.MMM().fit(mj.load_example("national"))
    with pytest.raises(ValueError, match="num_chains"):
        mj.MMM().fit(national_data, num_chains=0)
    with pytest.raises(ValueError, match="target_accept"):
        mj.MMM().fit(national_data, target_accept=1.5)
    with pytest.raises(ValueError, match="not fitted"):
        mj.MMM().roi()


def test_geo_fit_outputs_have_geo_shapes(small_geo, geo_data):
    assert small_geo.samples["beta_geo_raw"].shape[2:] == (5, 3)
    assert small_geo.samples["intercept"].shape[2:] == (5,)
    by_geo = small_geo.contributions(by_geo=True)
    assert by_geo.shape == (5 * geo_data.n_time, 4)
    total = small_geo.contributions()
    np.testing.assert_allclose(total.to_numpy(), by_geo.groupby(level=1).sum().to_numpy(),
                               rtol=1e-6)
    assert small_geo.predict(max_draws=10).shape == (10, geo_data.n_time, 5)


def test_parallel_chains_across_devices_in_a_subprocess(tmp_path):
    """Chains run with pmap when there are several devices (forced host devices here)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import os, warnings
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        import jax, mmm_jax as mj
        assert jax.local_device_count() == 2
        data = mj.MMMData.from_dataframe(mj.load_example("national"), date="date",
            target="sales", media=["tv", "search", "social"], controls=["price"])
        warnings.simplefilter("ignore")
        m = mj.MMM(seasonality_degree=1).fit(data, num_warmup=30, num_samples=20,
            num_chains=4, seed=0, progress_bar=False, check=False)
        from mmm_jax.chains import resolved_chain_method
        from mmm_jax.sampler_config import SamplerConfig
        assert resolved_chain_method(SamplerConfig(num_chains=4)) == "parallel"
        print("SHAPE", m.samples["beta"].shape)
        many = mj.fit_many([data, data], seasonality_degree=1, num_warmup=30,
            num_samples=20, num_chains=2, seed=0, progress_bar=False, check=False)
        print("MANY", [x.samples["beta"].shape for x in many], many[1].seed)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "SHAPE (4, 20, 3)" in out.stdout
    assert "MANY [(2, 20, 3), (2, 20, 3)] 1" in out.stdout  # datasets spread over the devices


def test_progress_bar_counts_every_chain_run_one_after_another(national_data, capsys):
    """On a CPU national chains are looped; the bar's total covers all of them and reaches it."""
    settings = dict(SMALL, progress_bar=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        mj.MMM().fit(national_data, seed=0, check=False, chain_method="sequential", **settings)
    total = SMALL["num_chains"] * (SMALL["num_warmup"] + SMALL["num_samples"])
    err = capsys.readouterr().err
    assert f"{total}/{total}" in err, err[-500:]
