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

from benchmarks import recovery, sbc

# statistical fits (about 2 minutes): the Python 3.13 CI pass skips them (-m "not slow")
pytestmark = pytest.mark.slow

SBC_SETTINGS = dict(replicates=20, n_periods=104, warmup=200, samples=200, chains=2, bins=5,
                    batch=20)


@pytest.fixture(scope="module")
def sbc_runs():
    return {bug: sbc.run(bug=bug, **SBC_SETTINGS) for bug in ("none", "unnormalised")}


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


def test_small_recovery_study_covers_true_roi():
    out = recovery.run(n_datasets=5, n_periods=104, warmup=300, samples=300, chains=2)
    low, high = recovery.coverage_band(15, band=0.98)
    assert out["intervals"] == 15 and low == 10
    assert out["covered"] >= low, [f["covered"] for f in out["fits"]]
    assert np.isfinite(out["max_rhat"])
