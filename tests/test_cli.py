"""The ``mmm-jax`` command line: demo, fit with a TOML config, report, optimize, and the
one-line errors (exit code 2) for bad config and data files."""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
import sys
import tomllib

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import mmm_jax as mj  # noqa: E402
from mmm_jax.cli import _load_allocation, main  # noqa: E402

ROOT = pathlib.Path(__file__).parents[1]
ROBYN = ROOT.parent / "shared" / "data" / "robyn" / "dt_simulated_weekly.csv"
TINY = "[sampler]\nwarmup = 50\nsamples = 50\nchains = 2\nseed = 1\n"
NATIONAL = """
[data]
date = "date"
target = "sales"
media = ["tv", "search", "social"]
controls = ["price"]
"""
ALLOCATION = "[allocation]\nperiods = 13\nrelative_bounds = [0.5, 2.0]\nmax_draws = 50\n"


@pytest.fixture(scope="module")
def national_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "national.csv"
    mj.load_example("national").to_csv(path, index=False)
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ bad input: one line, exit 2
BAD_CONFIGS = {
    "unknown key": (NATIONAL + "[sampler]\nchians = 2\n",
                    "unknown key 'sampler.chians'; did you mean 'chains'?"),
    "wrong type": (NATIONAL + '[sampler]\nchains = "4"\n',
                   "key 'sampler.chains' must be an integer, got '4'"),
    "out of range": (NATIONAL + "[sampler]\ntarget_accept = 1.5\n",
                     "key 'sampler.target_accept' must be between 0 and 1"),
    "missing key": ('[data]\ndate = "date"\nmedia = ["tv"]\n', "key 'data.target' is missing"),
    "unknown table": (NATIONAL + "[modle]\n", "unknown table [modle]; did you mean 'model'?"),
    "unknown kernel": (NATIONAL + '[model]\nadstock = "geometrc"\n',
                       "key 'model.adstock' must be one of"),
    "unknown distribution": (NATIONAL + '[priors]\nbeta = { dist = "HalfNormall", scale = 1 }\n',
                             "key 'priors.beta.dist' names no numpyro distribution"),
    "bad prior parameter": (NATIONAL + '[priors]\nbeta = { dist = "HalfNormal", sd = 1 }\n',
                            "key 'priors.beta': HalfNormal(sd) is invalid"),
    "invalid prior value": (NATIONAL + '[priors]\nbeta = { dist = "HalfNormal", scale = -1 }\n',
                            "key 'priors.beta': HalfNormal(scale) is invalid"),
    "unknown site": (NATIONAL + '[priors]\nsigmaa = { dist = "HalfNormal", scale = 1 }\n',
                     "key 'priors.sigmaa': this model has no site 'sigmaa'; did you mean "
                     "'sigma'?"),
    "prior of another media prior": (
        NATIONAL + '[priors]\nbeta = { dist = "HalfNormal", scale = 1 }\n',
        "a prior for 'beta' needs media_prior='coefficient'"),
    "toml syntax": (NATIONAL + "[sampler]\nchains = \n", "not valid TOML"),
    "missing column": (NATIONAL.replace('"social"]', '"socail"]'),
                       "national.csv: column 'socail'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_gives_one_line_naming_the_key_and_exit_2(case, national_csv, tmp_path,
                                                             capsys):
    text, expected = BAD_CONFIGS[case]
    config = tmp_path / "bad.toml"
    config.write_text(text)
    code, out, err = _run(capsys, "fit", national_csv, "--config", config, "--out",
                          tmp_path / "out")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert expected in err
    assert not (tmp_path / "out").exists()


def test_missing_files_give_one_line_and_exit_2(national_csv, tmp_path, capsys):
    config = tmp_path / "ok.toml"
    config.write_text(NATIONAL)
    code, _, err = _run(capsys, "fit", national_csv, "--config", tmp_path / "nope.toml",
                        "--out", tmp_path)
    assert code == 2 and "config file" in err and "not found" in err
    code, _, err = _run(capsys, "fit", tmp_path / "nope.csv", "--config", config, "--out",
                        tmp_path)
    assert code == 2 and "data file" in err and "nope.csv" in err
    code, _, err = _run(capsys, "report", tmp_path / "no_model")
    assert code == 2 and "config.json is missing" in err


def test_bad_config_from_the_shell_has_no_traceback(national_csv, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(NATIONAL + "[sampler]\nchains = 0\n")
    proc = subprocess.run([sys.executable, "-m", "mmm_jax", "fit", str(national_csv),
                           "--config", str(config), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: bad.toml: key 'sampler.chains' must be >= 1, got 0")


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["optimize", "some_dir", "--budget", "-5", "--periods", "13"])
    assert exc.value.code == 2
    assert "must be > 0" in capsys.readouterr().err


# ------------------------------------------------------------------ the commands
def test_demo_prints_the_roi_table_and_allocation(small_national, capsys):
    # the conftest sampler settings: the compiled program of `small_national` is reused;
    # writing the report (--out) is the code path `fit` runs, tested below
    code, out, _ = _run(capsys, "demo", "--warmup", 150, "--samples", 150, "--chains", 2,
                        "--quiet")
    assert code == 0
    assert "Channel summary (posterior mean and 90% HDI" in out
    for word in ("roi_hdi_low", "true_roi", "mroi", "In-sample fit: R^2", "Diagnostics:",
                 "Fit wall time"):
        assert word in out
    assert "Budget allocation:" in out
    # the default bound and the outside-history column are shown
    assert ("note: Each channel bounded to ±30% of the historical mix at this budget "
            "(relative_bounds=(0.7, 1.3)); relative_bounds=None for unbounded.") in out
    assert "outside_history" in out


@pytest.fixture(scope="module")
def fitted_dir(national_csv, tmp_path_factory):
    """``mmm-jax fit`` on Robyn's simulated weekly data (the national example when the shared
    data are absent) with tiny sampler settings and an ``[allocation]`` table from the
    config."""
    tmp = tmp_path_factory.mktemp("fit")
    if ROBYN.is_file():
        data = ROBYN
        text = (ROOT / "examples" / "robyn.toml").read_text().split("[sampler]")[0] + TINY
    else:
        data, text = national_csv, NATIONAL + TINY
    text += ALLOCATION
    config = tmp / "config.toml"
    config.write_text(text)
    out_dir = tmp / "model"
    code = main(["fit", str(data), "--config", str(config), "--out", str(out_dir), "--quiet"])
    assert code == 0
    return out_dir


def test_fit_with_a_config_saves_the_model_and_the_report(fitted_dir):
    model = mj.MMM.load(fitted_dir)
    assert model.sampler.num_warmup == 50 and model.sampler.num_chains == 2
    if ROBYN.is_file():
        assert model.data.channels == ("tv_S", "ooh_S", "print_S", "facebook_S", "search_S")
        assert model.data.control_names == ("competitor_sales_B", "newsletter")
        saved = json.loads((fitted_dir / "config.json").read_text())
        assert saved["model"]["priors"]["contribution_share"] == {
            "dist": "HalfNormal", "params": {"scale": 0.2}}
    page = (fitted_dir / "report.html").read_text()
    assert 'id="convergence"' in page and 'id="roi"' in page
    # the [allocation] options reached optimize_budget; the report shows the allocation
    allocation = mj.BudgetResult.load(fitted_dir / "allocation.json")
    assert allocation.n_periods == 13 and allocation.settings["max_draws"] == 50
    assert allocation.settings["relative_bounds"] == (0.5, 2.0)
    ratio = allocation.spend / allocation.reference_spend
    assert ((ratio >= 0.5 - 1e-9) & (ratio <= 2.0 + 1e-9)).all()
    assert 'id="allocation"' in page and "50% to 200% of the historical" in page


def test_optimize_command_and_report_pick_up_the_allocation(fitted_dir, tmp_path, capsys):
    model_dir = tmp_path / "model"
    shutil.copytree(fitted_dir, model_dir)
    model = mj.MMM.load(model_dir)
    budget = float(model.data.spend[-13:].sum())
    code, out, err = _run(capsys, "optimize", model_dir, "--budget", budget, "--periods", 13,
                          "--quiet")
    assert code == 0, err
    assert "Budget allocation:" in out
    saved = mj.BudgetResult.load(model_dir / "allocation.json")
    assert saved.n_periods == 13
    assert saved.spend.sum() == pytest.approx(budget, rel=1e-6)
    table = pd.read_csv(model_dir / "allocation.csv", index_col="channel")
    np.testing.assert_allclose(table["optimal_spend"], saved.spend, rtol=1e-12)
    assert 'id="allocation"' in (model_dir / "report.html").read_text()
    # `report MODEL_DIR` reads the allocation back: the same BudgetResult
    again = _load_allocation(model_dir)
    assert again.n_periods == 13 and again.budget == pytest.approx(budget)
    assert list(again.channels.index) == list(model.data.channels)
    pd.testing.assert_frame_equal(again.channels, saved.channels)


def test_report_command_rewrites_the_report(fitted_dir, tmp_path, capsys, monkeypatch):
    seen = {}

    def fake_write_report(model, out, allocation=None, title=None):
        seen.update(model=model, out=out, allocation=allocation, title=title)
        path = pathlib.Path(out) / "report.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<html></html>")
        return path

    monkeypatch.setattr("mmm_jax.report.write_report", fake_write_report)
    code, out, _ = _run(capsys, "report", fitted_dir, "--out", tmp_path, "--title", "Robyn")
    assert code == 0 and "report.html" in out
    assert seen["title"] == "Robyn" and seen["model"].data.n_channels >= 3
    assert pathlib.Path(seen["out"]) == tmp_path
    assert isinstance(seen["allocation"], mj.BudgetResult)  # fit saved allocation.json


def test_the_example_config_parses():
    from mmm_jax._config_file import load_config

    config = load_config(ROOT / "examples" / "robyn.toml")
    assert config.columns["media"] == ["tv_S", "ooh_S", "print_S", "facebook_S", "search_S"]
    assert config.fit["num_chains"] == 4 and config.fit["target_accept"] == 0.95
    assert set(config.model["priors"]) == {"alpha", "contribution_share"}


def test_the_allocation_table_takes_the_allocation_options():
    from mmm_jax._config_file import dumps_config, parse_config
    from mmm_jax.allocate import AllocationOptions

    base = {"data": {"date": "d", "target": "y", "media": ["tv", "search"]}}
    table = {"periods": 13, "budget": 5e4, "relative_bounds": [0, float("inf")],
             "objective": "cvar", "locked": ["tv"], "bounds": {"search": [0, 4e4]}}
    config = parse_config({**base, "allocation": table})
    a = config.allocation
    assert (a.budget, a.periods) == (5e4, 13)
    assert a.options == AllocationOptions(relative_bounds=None, objective="cvar",
                                          locked=["tv"], bounds={"search": (0, 4e4)})
    assert parse_config(tomllib.loads(dumps_config(config))).allocation == a  # round trip
    assert parse_config({**base, "allocation": {"periods": 8}}).allocation.options == \
        AllocationOptions()
    assert parse_config({**base, "allocation": {}}).allocation is None
    for bad, message in [
            ({"periods": 13, "relative_bound": [0.5, 2]},
             "unknown key 'allocation.relative_bound'; did you mean 'relative_bounds'?"),
            ({"periods": 13, "level": 2.0}, "key 'allocation.level' must be between 0 and 1"),
            ({"periods": 13, "relative_bounds": [1.3, 0.7]},
             "key 'allocation.relative_bounds' needs 0 <= low <= high"),
            ({"periods": 13, "budget": 1e5, "target_roi": 2.0},
             "give either budget or target_roi"),
            ({"objective": "cvar"}, "key 'allocation.periods' is missing")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_config({**base, "allocation": bad})
