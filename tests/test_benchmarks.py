"""The benchmark suite runs end to end (smoke suite; the real figures live in results/)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_smoke_suite_runs_and_writes_results(tmp_path):
    out = subprocess.run([sys.executable, "-m", "benchmarks", "run", "--suite", "smoke",
                          "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads((tmp_path / "suite_smoke.json").read_text())
    (row,) = report["results"]
    assert row["case"] == "embedded_national" and row["min_ess_bulk"] > 0
    assert row["grad_per_s_bare"] > 0 and 0 < row["sampler_efficiency"]
    assert report["machine"]["cores"] >= 1
    assert "| embedded_national |" in (tmp_path / "suite_smoke.md").read_text()


def test_benchmark_entry_point_rejects_unknown_commands():
    out = subprocess.run([sys.executable, "-m", "benchmarks", "fly"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "usage" in out.stderr


def test_adstock_kernel_variants_agree_with_the_scan():
    """The associative-scan and matrix-product adstocks timed against the scan compute the same
    series (float32: relative error < 1e-4)."""
    from benchmarks.adstock_kernels import check_agreement

    errors = check_agreement(n_time=104)
    assert set(errors) == {"scan", "associative", "matmul"}
    assert errors["scan"] == 0.0 and max(errors.values()) < 1e-4


def test_peer_runner_declines_unknown_pairs_without_a_venv(monkeypatch, tmp_path):
    from benchmarks import peers

    monkeypatch.setenv("MMM_JAX_PEERS_DIR", str(tmp_path))
    assert not peers.available("meridian")
    assert peers.run_peer("meridian", "meridian_national", chains=1, warmup=1, samples=1) is None
    assert peers.run_peer("pymc_marketing", "meridian_geo_20", chains=1, warmup=1,
                          samples=1) is None
