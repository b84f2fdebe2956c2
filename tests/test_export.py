"""``model.export(path)``: CSV tables (and model.xlsx with openpyxl), written atomically; the
``mmm-jax export`` command."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import mmm_jax as mj
from mmm_jax import export as export_mod
from mmm_jax.cli import main

CSVS = ["channel_summary.csv", "contributions.csv", "fit_metrics.csv", "diagnostics.csv"]


def _read_csv(*args, **kwargs):
    """``pd.read_csv`` with the parser that reads every written float back exactly."""
    return pd.read_csv(*args, float_precision="round_trip", **kwargs)


def _future(weeks=4):
    df = mj.load_example("national")
    dates = pd.date_range(df["date"].max() + pd.Timedelta(weeks=1), periods=weeks, freq="7D")
    return df.iloc[-weeks:].assign(date=dates).drop(columns="sales")


@pytest.fixture(scope="module")
def exported(small_national, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "tables"
    return out, small_national.export(out, _future())


def test_files_written(exported):
    out, written = exported
    assert [p.name for p in written] == [*CSVS, "forecast.csv", "model.xlsx"]
    assert all(p.parent == out and p.is_file() for p in written)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)  # no temps


def test_csv_round_trips_to_the_same_numbers(small_national, exported):
    out, _ = exported
    summary = _read_csv(out / "channel_summary.csv", index_col="channel")
    pd.testing.assert_frame_equal(summary, small_national.channel_summary(), check_exact=True)
    contrib = _read_csv(out / "contributions.csv", index_col="date", parse_dates=["date"])
    pd.testing.assert_frame_equal(contrib, small_national.contributions(), check_exact=True,
                                  check_freq=False, check_index_type=False)
    forecast = _read_csv(out / "forecast.csv", index_col="date", parse_dates=["date"])
    pd.testing.assert_frame_equal(forecast, small_national.forecast(_future()),
                                  check_exact=True, check_freq=False, check_index_type=False)
    fit = _read_csv(out / "fit_metrics.csv", index_col="split")
    pd.testing.assert_frame_equal(fit, small_national.fit_metrics(by_split=True),
                                  check_exact=True)
    diag = _read_csv(out / "diagnostics.csv", index_col="metric")["value"]
    for key, value in small_national.diagnostics().items():
        if isinstance(value, str):
            assert diag[key] == value
        elif isinstance(value, bool | np.bool_):
            assert diag[key] == str(bool(value))
        else:
            assert float(diag[key]) == float(value), key


def test_workbook_has_one_sheet_per_table(small_national, exported):
    openpyxl = pytest.importorskip("openpyxl")
    out, _ = exported
    book = openpyxl.load_workbook(out / "model.xlsx", read_only=True)
    assert book.sheetnames == ["channel_summary", "contributions", "fit_metrics",
                               "diagnostics", "forecast"]
    book.close()
    sheet = pd.read_excel(out / "model.xlsx", sheet_name="channel_summary", index_col=0)
    np.testing.assert_allclose(sheet["roi"].to_numpy(),
                               small_national.channel_summary()["roi"].to_numpy(), rtol=1e-12)


def test_without_openpyxl_no_workbook_and_no_error(small_national, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # ``import openpyxl`` -> ImportError
    written = small_national.export(tmp_path / "plain")
    assert [p.name for p in written] == CSVS
    assert not (tmp_path / "plain" / "model.xlsx").exists()


def test_geo_contributions_by_geo_and_date(small_geo, tmp_path):
    small_geo.export(tmp_path / "geo")
    contrib = _read_csv(tmp_path / "geo" / "contributions.csv", index_col=["geo", "date"],
                          parse_dates=["date"])
    assert len(contrib) == small_geo.data.n_geos * small_geo.data.n_time
    np.testing.assert_array_equal(contrib.to_numpy(),
                                  small_geo.contributions(by_geo=True).to_numpy())


def test_failures_leave_no_file_under_a_final_name(small_national, tmp_path, monkeypatch):
    bad = _future().drop(columns="tv")
    with pytest.raises(ValueError, match="tv"):
        small_national.export(tmp_path / "bad", bad)
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())

    def broken(self, path, *args, **kwargs):
        with open(path, "w") as f:
            f.write("half,")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        small_national.export(tmp_path / "full")
    assert list((tmp_path / "full").iterdir()) == []


def test_unfitted_model_raises(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        mj.MMM().export(tmp_path / "x")
    assert export_mod.WORKBOOK == "model.xlsx"


# ------------------------------------------------------------------ command line
@pytest.fixture(scope="module")
def saved(small_national, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model"
    small_national.save(path)
    return path


def test_cli_export(saved, tmp_path, capsys):
    future = tmp_path / "future.csv"
    _future().to_csv(future, index=False)
    assert main(["export", str(saved), "--future", str(future)]) == 0
    out = saved / "export"
    assert {p.name for p in out.iterdir()} == {*CSVS, "forecast.csv", "model.xlsx"}
    assert "forecast.csv" in capsys.readouterr().out
    assert main(["export", str(saved), "--out", str(tmp_path / "elsewhere")]) == 0
    assert {p.name for p in (tmp_path / "elsewhere").iterdir()} == {*CSVS, "model.xlsx"}
    loaded = mj.MMM.load(saved)
    table = _read_csv(out / "channel_summary.csv", index_col="channel")
    pd.testing.assert_frame_equal(table, loaded.channel_summary(), check_exact=True)


def test_cli_export_bad_input_is_one_line_and_exit_2(saved, tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "config.json" in err
    future = tmp_path / "future.csv"
    _future().drop(columns="tv").to_csv(future, index=False)
    assert main(["export", str(saved), "--future", str(future),
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "future.csv" in err and "'tv'" in err
    assert not (tmp_path / "x").exists()
    assert main(["export", str(saved), "--future", str(tmp_path / "nope.csv")]) == 2
    assert "not found" in capsys.readouterr().err
