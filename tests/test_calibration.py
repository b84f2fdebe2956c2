"""Small versions of the calibration studies (full runs: benchmarks/sbc.py, benchmarks/recovery.py).

SBC: 20 replicates drawn from the prior, each fitted with NUTS (2 chains x (200 + 200)); ranks
of every scalar parameter and of the log-likelihood among 99 thinned draws, 5 bins, chi-square.
A calibrated model gives uniform ranks, so each p-value is uniform: the family-wise false alarm
rate is held at 1% with a Bonferroni threshold of 0.01 / (number of quantities). A generator
without the (1 - alpha) adstock normalisation must fail: the log-likelihood ranks pile into one
bin (chi-square ~ 80 on 4 degrees of freedom, p ~ 1e-16), required below 1e-6.

Recovery: 5 simulated datasets (the simulator is NumPy, independent of the model code), 15 ROI
intervals at 90%: a calibrated model covers >= 10 of 15 with probability 0.998 (the lower 1%
quantile of Binomial(15, 0.9) is 10 and P(X <= 9) = 0.002; intervals of one dataset are
correlated, which widens the spread a little).
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import recovery, sbc, scenario_recovery

# statistical fits (about 5 minutes): the Python 3.13 CI pass skips them (-m "not slow")
pytestmark = pytest.mark.slow

SBC_SETTINGS = dict(replicates=20, n_periods=104, warmup=200, samples=200, chains=2, bins=5,
                    batch=20)


@pytest.fixture(scope="module")
def sbc_runs():
    return {bug: sbc.run(bug=bug, **SBC_SETTINGS) for bug in ("none", "unnormalised")}


@pytest.fixture(scope="module")
def sbc_lift_runs():
    """The default model with three lift tests per replicate, and with a planted bug in the
    lift measurements (the generator leaves out the carryover after the test window)."""
    return {bug: sbc.run(bug=bug, lift=True, **SBC_SETTINGS) for bug in ("none", "lift_window")}


def test_small_sbc_passes_with_lift_tests(sbc_lift_runs):
    out = sbc_lift_runs["none"]
    threshold = 0.01 / out["n_quantities"]  # Bonferroni: family-wise false alarms at 1%
    worst = min(out["quantities"].items(), key=lambda kv: kv[1]["p_value"])
    assert out["lift"] and out["min_p_value"] > threshold, worst


def test_small_sbc_catches_a_planted_bug_in_the_lift_likelihood(sbc_lift_runs):
    """Lifts measured without their carryover are systematically smaller than the model's
    counterfactual: the model's own lift draws then sit above the truth's likelihood."""
    out = sbc_lift_runs["lift_window"]
    assert out["min_p_value"] < 1e-6, sorted(
        (q["p_value"], name) for name, q in out["quantities"].items())[:3]


def test_small_sbc_passes_for_the_model(sbc_runs):
    out = sbc_runs["none"]
    assert out["n_quantities"] >= 20  # every scalar parameter and the log-likelihood
    for name, q in out["quantities"].items():
        assert sum(q["counts"]) == SBC_SETTINGS["replicates"], name
    threshold = 0.01 / out["n_quantities"]
    worst = min(out["quantities"].items(), key=lambda kv: kv[1]["p_value"])
    assert out["min_p_value"] > threshold, worst


def test_small_sbc_catches_the_planted_unnormalised_adstock_bug(sbc_runs):
    out = sbc_runs["unnormalised"]
    assert out["min_p_value"] < 1e-6, out["quantities"]["log_likelihood"]


@pytest.fixture(scope="module")
def hard_fits():
    """Three seeds of two hard scenarios (curved baseline; a no-effect channel trending with
    it), each fitted with default settings without and with its lift tests (2 x (300 +
    300))."""
    sampler = {"num_warmup": 300, "num_samples": 300, "num_chains": 2}
    return {(scenario, lift): [scenario_recovery.fit_one(scenario, seed, {}, lift, sampler)
                               for seed in range(3)]
            for scenario in ("curved_baseline", "no_effect") for lift in (False, True)}


def test_small_hard_scenarios_cover_and_lift_tests_narrow(hard_fits):
    """Coverage: 21 intervals of channels with an effect per setting; a calibrated model
    covers >= 14 with probability 0.999 (Binomial(21, 0.9)), misspecified baselines included.
    Lift tests (sd 10% of each lift) must narrow the median relative interval width by at
    least 15% (the full study: 20-35%)."""
    for lift in (False, True):
        fits = hard_fits[("curved_baseline", lift)] + hard_fits[("no_effect", lift)]
        s = scenario_recovery.summarize(fits)
        assert s["intervals"] == 21 and s["covered"] >= 14, s
    plain = scenario_recovery.summarize(hard_fits[("curved_baseline", False)]
                                        + hard_fits[("no_effect", False)])
    tuned = scenario_recovery.summarize(hard_fits[("curved_baseline", True)]
                                        + hard_fits[("no_effect", True)])
    assert tuned["median_rel_width"] < 0.85 * plain["median_rel_width"], (plain, tuned)


def test_small_recovery_study_covers_true_roi():
    out = recovery.run(n_datasets=5, n_periods=104, warmup=300, samples=300, chains=2)
    low, high = recovery.coverage_band(15, band=0.98)
    assert out["intervals"] == 15 and low == 10
    assert out["covered"] >= low, [f["covered"] for f in out["fits"]]
    assert np.isfinite(out["max_rhat"])
