"""Tests for mmm_jax.lift_tests: checking lift-test tables, model inputs, plain round trip."""

from __future__ import annotations

import json
import types

import numpy as np
import pandas as pd
import pytest

import mmm_jax as mj
from mmm_jax.features import compute_scales
from mmm_jax.lift_tests import check_lift_tests, from_plain, lift_inputs, to_plain

CHANNELS = ["tv", "search", "social"]


@pytest.fixture(scope="module")
def nat_df():
    df, _ = mj.simulate(seed=0, n_periods=52)
    return df


@pytest.fixture(scope="module")
def nat(nat_df):
    return mj.MMMData.from_dataframe(
        nat_df, date="date", target="sales", media=CHANNELS, controls=["price"]
    )


@pytest.fixture(scope="module")
def geo_df():
    df, _ = mj.simulate(seed=0, n_periods=52, n_geos=3)
    return df


@pytest.fixture(scope="module")
def geo(geo_df):
    return mj.MMMData.from_dataframe(
        geo_df, date="date", target="sales", media=CHANNELS, controls=["price"], geo="geo"
    )


def nat_table(**overrides):
    rows = [
        {"channel": "tv", "start": "2022-03-07", "end": "2022-03-28",
         "delta_spend": 40000.0, "lift": 9000.0, "lift_sd": 1500.0},
        {"channel": "search", "start": "2022-06-06", "end": "2022-06-06",
         "delta_spend": 2000.0, "lift": 800.0, "lift_sd": 300.0, "true_lift": 750.0},
        {"channel": "social", "start": "2022-09-05", "end": "2022-10-03",
         "delta_spend": 10000.0, "lift": 3000.0, "lift_sd": 900.0},
    ]
    for key, value in overrides.items():
        rows[2][key] = value
    return pd.DataFrame(rows)


def geo_table(**overrides):
    df = nat_table(**overrides)
    df.insert(1, "geo", ["geo_00", "geo_01", "geo_02"])
    return df


def raises(table, data, *words):
    with pytest.raises(ValueError) as info:
        check_lift_tests(table, data)
    msg = str(info.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    return msg


# --------------------------------------------------------------------------------------
# valid tables
# --------------------------------------------------------------------------------------
def test_national_normalised(nat):
    table = nat_table()
    table.index = [10, 20, 30]
    out = check_lift_tests(table, nat)
    assert list(out.columns) == ["channel", "start", "end", "delta_spend", "lift", "lift_sd"]
    assert isinstance(out.index, pd.RangeIndex) and list(out.index) == [0, 1, 2]
    assert out["start"].dtype == np.dtype("datetime64[ns]")
    assert out["end"].dtype == np.dtype("datetime64[ns]")
    for col in ["delta_spend", "lift", "lift_sd"]:
        assert out[col].dtype == np.float64
    assert all(isinstance(c, str) for c in out["channel"])
    assert out["start"].iloc[0] == pd.Timestamp("2022-03-07")
    assert out["lift"].tolist() == [9000.0, 800.0, 3000.0]
    assert "true_lift" not in table.columns or "true_lift" not in out.columns
    assert table.index.tolist() == [10, 20, 30]  # input untouched
    pd.testing.assert_frame_equal(check_lift_tests(out, nat), out, check_exact=True)


def test_records_and_value_types(nat):
    records = nat_table().to_dict("records")
    records[0]["start"] = pd.Timestamp("2022-03-07")
    records[0]["end"] = np.datetime64("2022-03-28")
    records[1]["delta_spend"] = "2000"
    records[2]["lift_sd"] = 900  # int
    out = check_lift_tests(records, nat)
    pd.testing.assert_frame_equal(out, check_lift_tests(nat_table(), nat), check_exact=True)
    assert out["lift_sd"].dtype == np.float64


def test_tz_aware_dates_keep_wall_time(nat):
    table = nat_table()
    table["start"] = pd.to_datetime(table["start"]).dt.tz_localize("Europe/Paris")
    out = check_lift_tests(table, nat)
    assert out["start"].iloc[0] == pd.Timestamp("2022-03-07")


def test_geo_normalised(geo):
    out = check_lift_tests(geo_table(), geo)
    assert list(out.columns) == [
        "channel", "geo", "start", "end", "delta_spend", "lift", "lift_sd"
    ]
    assert out["geo"].tolist() == ["geo_00", "geo_01", "geo_02"]


# --------------------------------------------------------------------------------------
# table-level rules
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [{"channel": ["tv"]}, "tests.csv", 3, None])
def test_not_a_table(nat, bad):
    raises(bad, nat, "DataFrame", "list of dicts")


def test_records_not_dicts(nat):
    raises([nat_table().iloc[0].to_dict(), ["tv"]], nat, "lift_tests row 1", "not a dict")


@pytest.mark.parametrize("empty", [[], pd.DataFrame(), nat_table().iloc[:0]])
def test_empty(nat, empty):
    raises(empty, nat, "empty")


def test_missing_column_near_match(nat):
    table = nat_table().rename(columns={"lift_sd": "Lift SD"})
    msg = raises(table, nat, "'lift_sd' is missing", "did you mean 'Lift SD'", "'true_lift'")
    assert "columns there" in msg


def test_missing_column_no_match(nat):
    raises(nat_table().drop(columns="end"), nat, "'end' is missing", "'start'")


def test_duplicate_column(nat):
    table = nat_table()
    table = pd.concat([table, table[["lift"]]], axis=1)
    raises(table, nat, "'lift' appears 2 times")


def test_geo_column_on_national(nat):
    raises(geo_table(), nat, "national", "drop the geo column")


def test_geo_column_required(geo):
    raises(nat_table(), geo, "'geo' is missing", "has geos")


# --------------------------------------------------------------------------------------
# row rules
# --------------------------------------------------------------------------------------
def test_unknown_channel(nat):
    msg = raises(nat_table(channel="Radio"), nat, "lift_tests row 2 (channel 'Radio')",
                 "unknown channel")
    assert str(CHANNELS) in msg


def test_unknown_channel_near_match(nat):
    raises(nat_table(channel="Social"), nat, "row 2", "unknown channel", "did you mean 'social'")


def test_missing_channel(nat):
    raises(nat_table(channel=np.nan), nat, "lift_tests row 2", "channel is missing")


def test_row_is_position_not_index_label(nat):
    table = nat_table(channel="radio")
    table.index = ["a", "b", "c"]
    raises(table, nat, "lift_tests row 2 ")


def test_unknown_geo(geo):
    raises(geo_table().assign(geo=["geo_00", "geo_01", "mars"]), geo,
           "lift_tests row 2 (channel 'social')", "unknown geo 'mars'", "geo_00")


def test_missing_geo(geo):
    raises(geo_table().assign(geo=["geo_00", None, "geo_02"]), geo, "row 1", "geo is missing")


@pytest.mark.parametrize("col", ["delta_spend", "lift", "lift_sd"])
@pytest.mark.parametrize(
    "value, word",
    [(np.nan, "missing (NaN)"), (None, "missing"), ("abc", "not a number"),
     (np.inf, "infinite"), (-np.inf, "infinite"), (True, "not a number"),
     (1j, "not a number"), ("inf", "infinite")],
)
def test_bad_numbers(nat, col, value, word):
    records = nat_table().to_dict("records")
    records[2][col] = value  # records: no column-wide upcasting (1j would make it complex)
    raises(records, nat, "lift_tests row 2 (channel 'social')", col, word)
    if value is not None and not isinstance(value, complex):
        raises(nat_table(**{col: value}), nat, "lift_tests row 2 (channel 'social')", col, word)


def test_complex_column(nat):
    raises(nat_table(lift=1j), nat, "lift_tests row 0", "lift is not a number")


@pytest.mark.parametrize("col", ["start", "end"])
@pytest.mark.parametrize(
    "value, word",
    [(np.nan, "is missing"), (None, "is missing"), ("", "is missing"),
     (pd.NaT, "is missing"), ("not a date", "could not be parsed"),
     (20220905, "is not a date"), ("today", "is not a date")],
)
def test_bad_dates(nat, col, value, word):
    raises(nat_table(**{col: value}), nat, "lift_tests row 2", col, word)


def test_off_grid(nat):
    raises(nat_table(start="2022-09-07"), nat, "row 2", "start 2022-09-07",
           "not a period date", "nearest 2022-09-05 and 2022-09-12")
    raises(nat_table(end="2022-10-01"), nat, "row 2", "end 2022-10-01", "not a period date")


def test_start_after_end(nat):
    raises(nat_table(start="2022-10-03", end="2022-09-05"), nat, "row 2", "after end")


@pytest.mark.parametrize(
    "start, end",
    [("2021-12-27", "2022-01-10"), ("2022-12-19", "2023-01-02"), ("1500-01-01", "2022-01-10")],
)
def test_outside_data(nat, start, end):
    raises(nat_table(start=start, end=end), nat, "row 2", "outside",
           "2022-01-03 .. 2022-12-26")


def test_zero_delta(nat):
    raises(nat_table(delta_spend=0.0), nat, "row 2", "delta_spend is 0")


@pytest.mark.parametrize("sd", [0.0, -5.0])
def test_nonpositive_lift_sd(nat, sd):
    raises(nat_table(lift_sd=sd), nat, "row 2", "lift_sd", "> 0")


# --------------------------------------------------------------------------------------
# go-dark tests
# --------------------------------------------------------------------------------------
def test_go_dark_bounds(nat):
    c = nat.channels.index("search")
    window = nat.spend[0:4, c]  # 2022-01-03 .. 2022-01-24
    lowest = float(window.min())
    limit = -4 * lowest
    for delta in (-0.5 * 4 * lowest, limit):  # within bounds, and exactly at the bound
        out = check_lift_tests(
            nat_table(channel="search", start="2022-01-03", end="2022-01-24",
                      delta_spend=delta, lift=-100.0), nat)
        assert out["delta_spend"].iloc[2] == delta
    first = nat.dates[int(np.flatnonzero(window + 1.01 * limit / 4 < 0)[0])]
    raises(
        nat_table(channel="search", start="2022-01-03", end="2022-01-24",
                  delta_spend=1.01 * limit),
        nat, "row 2", "below zero", f"{limit:.12g}", str(first)[:10],
    )


def test_go_dark_zero_spend_period(nat):
    c = nat.channels.index("tv")
    assert nat.spend[4, c] == 0.0  # 2022-01-31: tv is off
    raises(nat_table(channel="tv", start="2022-01-24", end="2022-02-07", delta_spend=-1.0),
           nat, "row 2", "below zero", "2022-01-31", "no go-dark test fits")


def test_go_dark_uses_geo_spend(geo):
    c = geo.channels.index("social")
    spend = geo.spend[:, 0:2, c]  # (G, 2) over 2022-01-03 .. 2022-01-10
    low, high = int(np.argmin(spend.min(axis=1))), int(np.argmax(spend.min(axis=1)))
    delta = -2 * float(spend[low].min() + spend[high].min()) / 2
    base = dict(channel="social", start="2022-01-03", end="2022-01-10", delta_spend=delta)
    table = geo_table(**base)
    table.loc[2, "geo"] = geo.geos[high]
    check_lift_tests(table, geo)
    table.loc[2, "geo"] = geo.geos[low]
    raises(table, geo, f"row 2 (channel 'social', geo '{geo.geos[low]}')", "below zero")


# --------------------------------------------------------------------------------------
# model inputs
# --------------------------------------------------------------------------------------
def unit_scales(data, target=1.0):
    lead = (data.n_geos,) if data.is_geo else ()
    return types.SimpleNamespace(target=np.full(lead, target),
                                 media=np.ones((*lead, data.n_channels)))


def test_lift_inputs_national(nat):
    scales = compute_scales(nat)
    out = lift_inputs(nat_table(), nat, scales)
    assert set(out) == {"lift_channel", "lift_geo", "lift_delta", "lift_after", "lift_obs",
                        "lift_sd"}
    assert out["lift_channel"].tolist() == [0, 1, 2]
    assert out["lift_geo"].tolist() == [0, 0, 0]
    assert out["lift_channel"].dtype == np.int32 and out["lift_geo"].dtype == np.int32
    for key in ["lift_delta", "lift_after", "lift_obs", "lift_sd"]:
        assert out[key].dtype == np.float32
    assert out["lift_delta"].shape == out["lift_after"].shape == (3, 52)
    # test 0: tv, 2022-03-07 (t=9) .. 2022-03-28 (t=12), 40000 over 4 periods
    expected = np.zeros(52)
    expected[9:13] = 40000.0 / 4 / scales.media[0]
    np.testing.assert_allclose(out["lift_delta"][0], expected, rtol=1e-6)
    assert (out["lift_delta"][0] != 0).sum() == 4
    np.testing.assert_array_equal(out["lift_after"][0], (np.arange(52) >= 9).astype(float))
    # test 1: a single period, t=22
    assert np.flatnonzero(out["lift_delta"][1]).tolist() == [22]
    np.testing.assert_allclose(out["lift_delta"][1, 22], 2000.0 / scales.media[1], rtol=1e-6)
    np.testing.assert_allclose(out["lift_obs"], np.array([9000, 800, 3000]) / scales.target,
                               rtol=1e-6)
    np.testing.assert_allclose(out["lift_sd"], np.array([1500, 300, 900]) / scales.target,
                               rtol=1e-6)


def test_lift_inputs_float64_exact(nat):
    out = lift_inputs(nat_table(), nat, unit_scales(nat, target=2.0), dtype=np.float64)
    assert out["lift_delta"].dtype == np.float64
    assert out["lift_delta"][0, 9:13].tolist() == [10000.0] * 4  # media == spend: ratio 1.0
    assert out["lift_obs"].tolist() == [4500.0, 400.0, 1500.0]
    assert out["lift_sd"].tolist() == [750.0, 150.0, 450.0]


def test_lift_inputs_media_twice_spend(nat_df):
    df = nat_df.assign(tv_imp=2.0 * nat_df["tv"])
    data = mj.MMMData.from_dataframe(df, date="date", target="sales",
                                     media=["tv_imp", "search", "social"],
                                     spend=["tv", "search", "social"], controls=["price"])
    table = nat_table().assign(channel=["tv_imp", "search", "social"])
    out = lift_inputs(table, data, unit_scales(data), dtype=np.float64)
    assert out["lift_delta"][0, 9:13].tolist() == [20000.0] * 4  # twice the spend delta
    scales = compute_scales(data)
    real = lift_inputs(table, data, scales, dtype=np.float64)
    np.testing.assert_allclose(real["lift_delta"][0, 9:13], 20000.0 / scales.media[0])


def test_lift_inputs_geo(geo_df):
    # media = k_g x spend for tv, with a different k per geo; geo_02 has no tv spend at all
    k = {"geo_00": 2.0, "geo_01": 3.0, "geo_02": 5.0}
    df = geo_df.assign(tv_imp=geo_df["tv"] * geo_df["geo"].map(k))
    df["tv_cost"] = df["tv"].where(df["geo"] != "geo_02", 0.0)
    data = mj.MMMData.from_dataframe(df, date="date", target="sales",
                                     media=["tv_imp", "search", "social"],
                                     spend=["tv_cost", "search", "social"],
                                     controls=["price"], geo="geo")
    table = pd.DataFrame({
        "channel": ["tv_imp", "tv_imp", "tv_imp", "search"],
        "geo": ["geo_00", "geo_01", "geo_02", "geo_02"],
        "start": "2022-03-07", "end": "2022-03-28",
        "delta_spend": [400.0, 400.0, 400.0, 400.0], "lift": 50.0, "lift_sd": 10.0,
    })
    scales = types.SimpleNamespace(target=np.array([1.0, 2.0, 4.0]), media=np.ones((3, 3)))
    out = lift_inputs(table, data, scales, dtype=np.float64)
    assert out["lift_geo"].tolist() == [0, 1, 2, 2]
    assert out["lift_channel"].tolist() == [0, 0, 0, 1]
    np.testing.assert_allclose(out["lift_delta"][0, 9:13], 200.0)
    np.testing.assert_allclose(out["lift_delta"][1, 9:13], 300.0)
    media = data.media[..., 0].sum()
    spend = data.spend[..., 0].sum()
    np.testing.assert_allclose(out["lift_delta"][2, 9:13], 100.0 * media / spend)  # fallback
    np.testing.assert_allclose(out["lift_delta"][3, 9:13], 100.0)
    assert (out["lift_delta"][:, :9] == 0).all() and (out["lift_delta"][:, 13:] == 0).all()
    assert out["lift_obs"].tolist() == [50.0, 25.0, 12.5, 12.5]
    assert out["lift_sd"].tolist() == [10.0, 5.0, 2.5, 2.5]
    real = lift_inputs(table, data, compute_scales(data))
    assert real["lift_delta"].dtype == np.float32


def test_lift_inputs_checks(nat, geo):
    with pytest.raises(ValueError, match="unknown channel"):
        lift_inputs(nat_table(channel="radio"), nat, compute_scales(nat))
    with pytest.raises(ValueError, match="scales do not match"):
        lift_inputs(nat_table(), nat, compute_scales(geo))


# --------------------------------------------------------------------------------------
# plain round trip
# --------------------------------------------------------------------------------------
def test_plain_round_trip_national(nat):
    table = check_lift_tests(nat_table(delta_spend=0.1 + 0.2, lift=1 / 3), nat)
    plain = to_plain(table)
    assert plain[0] == {"channel": "tv", "start": "2022-03-07", "end": "2022-03-28",
                        "delta_spend": 40000.0, "lift": 9000.0, "lift_sd": 1500.0}
    assert type(plain[2]["lift"]) is float and type(plain[0]["channel"]) is str
    back = from_plain(json.loads(json.dumps(plain)))
    pd.testing.assert_frame_equal(back, table, check_exact=True)


def test_plain_round_trip_geo(geo):
    table = check_lift_tests(geo_table(), geo)
    plain = to_plain(table)
    assert plain[1]["geo"] == "geo_01"
    pd.testing.assert_frame_equal(from_plain(json.loads(json.dumps(plain))), table,
                                  check_exact=True)


def test_plain_time_of_day():
    recs = [{"channel": "tv", "start": "2022-03-07T06:30:00", "end": "2022-03-08",
             "delta_spend": 1.0, "lift": 2.0, "lift_sd": 3.0},
            {"channel": "tv", "start": "2022-03-07T06:30:00.000000001", "end": "2022-03-08",
             "delta_spend": 1.0, "lift": 2.0, "lift_sd": 3.0}]
    table = from_plain(recs)
    assert to_plain(table) == recs
    pd.testing.assert_frame_equal(from_plain(to_plain(table)), table, check_exact=True)


def test_from_plain_bad():
    with pytest.raises(ValueError, match="list of dicts"):
        from_plain({"channel": "tv"})
    with pytest.raises(ValueError, match="record 0"):
        from_plain([{"channel": "tv"}])
    with pytest.raises(ValueError, match="record 0"):
        from_plain([{"channel": "tv", "start": "x", "end": "2022-01-03", "delta_spend": 1.0,
                     "lift": 1.0, "lift_sd": 1.0}])
    assert list(from_plain([]).columns) == [
        "channel", "start", "end", "delta_spend", "lift", "lift_sd"
    ]
