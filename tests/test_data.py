"""Tests for mmm_jax.data: DataFrame -> MMMData / FutureData and input validation."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from mmm_jax.data import MIN_PERIODS, FutureData, MMMData

CHANNELS = ["tv", "radio", "search"]


def national_df(n=60, freq="W-SUN", start="2022-01-02", channels=CHANNELS, seed=0):
    """Small synthetic national frame: date, sales, media, spend (*_cost), price."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"date": pd.date_range(start, periods=n, freq=freq)})
    for c in channels:
        df[c] = rng.gamma(2.0, 50.0, n)
        df[f"{c}_cost"] = df[c] * rng.uniform(0.5, 2.0)
    df["price"] = rng.normal(size=n)
    df["sales"] = 1000.0 + rng.normal(0.0, 10.0, n)
    return df


def geo_df(n=60, geos=("north", "south", "east"), seed=1):
    """Long geo frame, one row per (geo, date), geo-major order."""
    parts = []
    for j, g in enumerate(geos):
        d = national_df(n=n, seed=seed + j)
        d.insert(0, "region", g)
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def build(df, **kw):
    args = dict(date="date", target="sales", media=CHANNELS)
    args.update(kw)
    return MMMData.from_dataframe(df, **args)


def raises(*parts):
    """pytest.raises(ValueError) whose message contains every part (literally)."""
    pattern = "".join(f"(?=[\\s\\S]*{re.escape(p)})" for p in parts)
    return pytest.raises(ValueError, match=pattern)


# ---------------------------------------------------------------------------- happy paths
def test_national_weekly():
    df = national_df()
    data = build(df, controls=["price"])
    assert data.freq == "W" and data.period_days == 7
    assert not data.is_geo and data.n_geos == 1 and data.geos is None and data.geo_name is None
    assert (data.n_time, data.n_channels, data.n_controls) == (60, 3, 1)
    assert data.dates.dtype == np.dtype("datetime64[ns]")
    assert data.target.shape == (60,) and data.media.shape == (60, 3)
    assert data.controls.shape == (60, 1)
    for a in (data.target, data.media, data.spend, data.controls):
        assert a.dtype == np.float64
    np.testing.assert_array_equal(data.media, df[CHANNELS].to_numpy())
    np.testing.assert_array_equal(data.target, df["sales"].to_numpy())
    np.testing.assert_array_equal(data.dates, df["date"].to_numpy().astype("datetime64[ns]"))


def test_national_daily():
    df = national_df(n=80, freq="D", channels=["tv", "radio"])
    data = build(df, media=["tv", "radio"])
    assert data.freq == "D" and data.period_days == 1 and data.n_time == 80


def test_spend_defaults_to_media_and_controls_optional():
    data = build(national_df())
    assert data.spend_columns == data.channels == tuple(CHANNELS)
    np.testing.assert_array_equal(data.spend, data.media)
    assert data.controls.shape == (60, 0) and data.control_names == ()


def test_separate_spend_and_single_string_media():
    df = national_df()
    data = build(df, media="tv", spend="tv_cost")
    assert data.channels == ("tv",) and data.spend_columns == ("tv_cost",)
    np.testing.assert_array_equal(data.spend[:, 0], df["tv_cost"].to_numpy())
    # spend equal to its own media column for some channels is the default, and allowed
    data = build(df, spend=["tv", "radio_cost", "search"])
    np.testing.assert_array_equal(data.spend[:, 1], df["radio_cost"].to_numpy())
    np.testing.assert_array_equal(data.spend[:, 0], data.media[:, 0])


def test_unsorted_national_rows_are_sorted_and_string_dates_parsed():
    df = national_df()
    shuffled = df.sample(frac=1.0, random_state=3)
    shuffled["date"] = shuffled["date"].dt.strftime("%Y-%m-%d")
    a, b = build(df), build(shuffled)
    for f in ("dates", "target", "media", "spend", "controls"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_geo_long_format_unsorted_rows_get_sorted():
    df = geo_df()
    data = build(df.sample(frac=1.0, random_state=0), geo="region", controls=["price"])
    assert data.is_geo and data.geos == ("east", "north", "south") and data.geo_name == "region"
    assert data.target.shape == (3, 60) and data.media.shape == (3, 60, 3)
    assert data.controls.shape == (3, 60, 1)
    for g, geo in enumerate(data.geos):
        part = df[df["region"] == geo]
        np.testing.assert_array_equal(data.media[g], part[CHANNELS].to_numpy())
        np.testing.assert_array_equal(data.target[g], part["sales"].to_numpy())


def test_geo_labels_become_sorted_strings_and_single_geo_is_geo():
    df = geo_df(geos=(10, 2))
    assert build(df, geo="region").geos == ("10", "2")
    one = build(geo_df(geos=("only",)), geo="region")
    assert one.is_geo and one.n_geos == 1 and one.target.shape == (1, 60)


def test_booleans_count_as_numeric_and_extra_columns_ignored():
    df = national_df()
    df["promo"] = np.arange(60) % 2 == 0
    df["notes"] = "free text"
    data = build(df, controls=["promo"])
    np.testing.assert_array_equal(data.controls[:, 0], (np.arange(60) % 2 == 0).astype(float))


def test_values_preserved_bitwise_and_arrays_read_only():
    df = national_df()
    df.loc[0:4, "tv"] = [5e-324, 1e-300, 0.1 + 0.2, 1e300, 0.0]
    df.loc[5, "sales"] = -0.0
    data = build(df)
    assert data.media[:, 0].tobytes() == df["tv"].to_numpy(np.float64).tobytes()
    assert data.target.tobytes() == df["sales"].to_numpy(np.float64).tobytes()
    with pytest.raises(ValueError):
        data.media[0, 0] = 1.0


@pytest.mark.parametrize("geo", [None, "region"])
def test_round_trip_is_identical(geo):
    df = national_df() if geo is None else geo_df()
    a = build(df, spend=["tv_cost", "radio", "search_cost"], controls=["price"], geo=geo)
    out = a.to_dataframe()
    json.dumps(a.spec())
    b = MMMData.from_dataframe(out, **a.spec())
    for f in ("dates", "target", "media", "spend", "controls"):
        assert getattr(a, f).tobytes() == getattr(b, f).tobytes(), f
        assert getattr(a, f).dtype == getattr(b, f).dtype
    assert (a.channels, a.spend_columns, a.control_names) == (
        b.channels, b.spend_columns, b.control_names)
    assert (a.geos, a.freq, a.target_name, a.date_name) == (b.geos, b.freq, b.target_name,
                                                            b.date_name)
    assert len(out) == a.n_geos * a.n_time


def test_post_init_checks_shapes():
    data = build(national_df())
    with raises("MMMData.media has shape"):
        MMMData(**{**{f.name: getattr(data, f.name) for f in data.__dataclass_fields__.values()},
                   "media": data.media[:10]})


# ---------------------------------------------------------------------------- validation
def test_missing_column_is_named_with_available_columns():
    with raises("'tvv'", "available columns", "'radio'"):
        build(national_df(), media=["tvv", "radio"])
    with raises("'week'", "missing"):
        build(national_df(), date="week")
    with raises("'date'", "reset_index"):
        build(national_df().set_index("date"))


def test_duplicated_dataframe_column():
    df = national_df()
    df = pd.concat([df, df[["tv"]]], axis=1)
    with raises("'tv'", "appears 2 times"):
        build(df)


@pytest.mark.parametrize("column, role", [("tv", "media"), ("sales", "target"),
                                          ("price", "control"), ("radio_cost", "spend")])
def test_non_numeric_values(column, role):
    df = national_df()
    df[column] = df[column].astype(object)
    df.loc[7, column] = "n/a"
    df.loc[9, column] = "x"
    with raises(f"'{column}'", "non-numeric", "2022-02-20", "'n/a'"):
        build(df, spend=["tv", "radio_cost", "search"], controls=["price"])


def test_non_numeric_in_geo_data_names_geo():
    df = geo_df()
    df["tv"] = df["tv"].astype(object)
    df.loc[65, "tv"] = "n/a"  # second geo ('south' is sorted last), 6th week
    with raises("'tv'", "non-numeric", "2022-02-06", "geo 'south'"):
        build(df, geo="region")


def test_datetime_in_numeric_column_is_non_numeric():
    df = national_df()
    df["price"] = df["date"]
    with raises("'price'", "non-numeric", "2022-01-02"):
        build(df, controls=["price"])


@pytest.mark.parametrize("column, value, word", [
    ("sales", np.nan, "NaN"), ("tv", np.nan, "NaN"), ("radio_cost", np.nan, "NaN"),
    ("price", np.nan, "NaN"), ("sales", np.inf, "infinite"), ("tv", np.inf, "infinite"),
    ("radio_cost", np.inf, "infinite"), ("price", -np.inf, "infinite"),
])
def test_nan_and_inf(column, value, word):
    df = national_df()
    df.loc[[12, 30], column] = value
    with raises(f"'{column}'", word, "2 ", "2022-03-27"):
        build(df, spend=["tv", "radio_cost", "search"], controls=["price"])


def test_nullable_na_is_nan():
    df = national_df()
    df["price"] = pd.array(np.round(df["price"] * 10), dtype="Int64")
    df.loc[4, "price"] = pd.NA
    with raises("'price'", "NaN", "2022-01-30"):
        build(df, controls=["price"])


@pytest.mark.parametrize("column", ["tv", "search_cost"])
def test_negative_media_or_spend(column):
    df = national_df()
    df.loc[[20, 40, 41], column] = -1.0
    with raises(f"column '{column}' has 3 negative values", "first at 2022-05-22", ">= 0"):
        build(df, spend=["tv", "radio", "search_cost"])


def test_duplicate_dates_national_and_geo():
    df = national_df()
    with raises("'date'", "duplicate", "2022-01-16"):
        build(pd.concat([df, df.iloc[[2]]], ignore_index=True))
    g = geo_df()
    with raises("'date'", "duplicate", "2022-01-09", "geo 'south'"):
        build(pd.concat([g, g.iloc[[61]]], ignore_index=True), geo="region")


def test_gap_and_irregular_spacing():
    df = national_df(n=61).drop(index=20)
    with raises("'date'", "gap of 14 days", "2022-05-15", "2022-05-29"):
        build(df)
    df = national_df()
    df.loc[30:, "date"] = df.loc[30:, "date"] + pd.Timedelta(days=1)
    with raises("'date'", "gap of 8 days", "2022-07-24", "2022-08-01"):
        build(df)


def test_unsupported_frequency():
    df = national_df(freq="MS", start="2018-01-01")
    with raises("'date'", "weekly (7 days) or daily (1 day)", "2018-01-01"):
        build(df)


def test_geo_missing_dates():
    df = geo_df()
    df = df.drop(index=[60 + 10, 60 + 11])  # 'south' loses two weeks; the grid is intact
    with raises("geo 'south'", "'region'", "missing 2 of 60", "2022-03-13"):
        build(df, geo="region")
    df = geo_df().drop(index=[120])  # 'east' misses the first week
    with raises("geo 'east'", "2022-01-02"):
        build(df, geo="region")


def test_nan_geo_and_bad_dates_name_the_row():
    df = geo_df()
    df.loc[5, "region"] = None
    with raises("'region'", "row index 5"):
        build(df, geo="region")
    df = national_df()
    df["date"] = df["date"].dt.strftime("%Y-%m-%d")
    df.loc[8, "date"] = "not a date"
    with raises("'date'", "row index 8", "not a date"):
        build(df)
    df.loc[8, "date"] = None
    with raises("'date'", "row index 8"):
        build(df)
    df["date"] = np.arange(60)
    with raises("'date'", "numeric dtype"):
        build(df)


@pytest.mark.parametrize("column", ["tv", "search_cost"])
def test_all_zero_channel(column):
    df = national_df()
    df[column] = 0.0
    with raises(f"'{column}'", "zero in every period", "drop the channel"):
        build(df, spend=["tv", "radio", "search_cost"])


def test_constant_target():
    df = national_df()
    df["sales"] = 5.0
    with raises("'sales'", "constant"):
        build(df)
    g = geo_df()
    g.loc[g["region"] == "north", "sales"] = 0.0
    with raises("'sales'", "constant", "geo 'north'"):
        build(g, geo="region")


def test_min_periods():
    assert MIN_PERIODS == {"W": 26, "D": 56}
    build(national_df(n=26))
    with raises("only 25 weekly periods", "at least 26"):
        build(national_df(n=25))
    build(national_df(n=56, freq="D"))
    with raises("only 55 daily periods", "at least 56"):
        build(national_df(n=55, freq="D"))
    many = [f"m{i}" for i in range(10)]
    df = national_df(n=31, channels=many)
    with raises("only 31 weekly", "at least 32", "10 channels and 1 controls"):
        build(df, media=many, controls=["price"])  # 2 * (10 + 1) + 10 = 32


def test_media_spend_length_mismatch():
    with raises("media has 3 columns", "spend has 2"):
        build(national_df(), spend=["tv_cost", "radio_cost"])


@pytest.mark.parametrize("kwargs, column", [
    (dict(controls=["tv"]), "tv"),
    (dict(media=["tv", "sales"]), "sales"),
    (dict(controls=["date"]), "date"),
    (dict(spend=["radio", "radio_cost", "search"]), "radio"),
    (dict(spend=["tv", "radio", "price"], controls=["price"]), "price"),
    (dict(geo="tv"), "tv"),
    (dict(target="date"), "date"),
])
def test_column_in_two_roles(kwargs, column):
    with raises(f"column '{column}' is used as both"):
        build(national_df(), **kwargs)


def test_empty_and_duplicate_name_lists():
    with raises("media is empty"):
        build(national_df(), media=[])
    with raises("media column 'tv' is listed twice"):
        build(national_df(), media=["tv", "radio", "tv"])
    with raises("controls column 'price' is listed twice"):
        build(national_df(), controls=["price", "price"])


def test_empty_dataframe():
    with raises("no rows"):
        build(national_df().iloc[:0])


# ---------------------------------------------------------------------------- future data
def future_frame(n=8, start="2023-02-26", freq="W-SUN"):
    """Future rows right after national_df() (last history date 2023-02-19), no target."""
    return national_df(n=n, start=start, freq=freq, seed=9).drop(columns=["sales"])


def test_future_happy_path_national():
    hist = national_df()  # last date 2023-02-19
    data = build(hist, spend=["tv_cost", "radio", "search"], controls=["price"])
    fut = future_frame().sample(frac=1.0, random_state=1)
    fut["search"] = 0.0  # an all-zero channel is fine in the future
    out = data.future_from_dataframe(fut)
    assert isinstance(out, FutureData) and out.n_time == 8
    assert out.media.shape == out.spend.shape == (8, 3) and out.controls.shape == (8, 1)
    assert out.dates[0] == np.datetime64("2023-02-26", "ns")
    srt = fut.sort_values("date")
    np.testing.assert_array_equal(out.spend[:, 0], srt["tv_cost"].to_numpy())
    np.testing.assert_array_equal(out.media, srt[CHANNELS].to_numpy())
    np.testing.assert_array_equal(out.spend[:, 1:], out.media[:, 1:])


def test_future_happy_path_geo():
    data = build(geo_df(), geo="region")
    fut = pd.concat([future_frame().assign(region=g) for g in ("south", "north", "east")])
    out = data.future_from_dataframe(fut.sample(frac=1.0, random_state=2))
    assert out.media.shape == (3, 8, 3) and out.controls.shape == (3, 8, 0)
    with raises("'region'", "missing ['south']"):
        data.future_from_dataframe(fut[fut["region"] != "south"])
    with raises("'region'", "unknown ['west']"):
        data.future_from_dataframe(pd.concat([fut, future_frame().assign(region="west")]))
    bad = fut[~((fut["region"] == "north") & (fut["date"] == "2023-03-12"))]
    with raises("geo 'north'", "2023-03-12"):
        data.future_from_dataframe(bad)


def test_future_gap_and_wrong_start():
    data = build(national_df())
    with raises("'date'", "gap of 14 days", "2023-03-05", "2023-03-19"):
        data.future_from_dataframe(future_frame().drop(index=2))
    with raises("'date'", "must start", "2023-02-26", "2023-03-05"):
        data.future_from_dataframe(future_frame(start="2023-03-05"))
    with raises("'date'", "gap of 1 days", "expected 7"):
        data.future_from_dataframe(future_frame(freq="D"))


def test_future_missing_column_and_bad_values():
    data = build(national_df(), spend=["tv_cost", "radio", "search"], controls=["price"])
    with raises("'tv_cost'", "missing", "available columns"):
        data.future_from_dataframe(future_frame().drop(columns=["tv_cost"]))
    with raises("'price'", "missing"):
        data.future_from_dataframe(future_frame().drop(columns=["price"]))
    fut = future_frame()
    fut.loc[3, "radio"] = -2.0
    with raises("'radio'", "negative", "2023-03-19"):
        data.future_from_dataframe(fut)
    fut = future_frame()
    fut.loc[1, "price"] = np.nan
    with raises("'price'", "NaN", "2023-03-05"):
        data.future_from_dataframe(fut)
    fut = future_frame()
    fut["tv"] = fut["tv"].astype(object)
    fut.loc[0, "tv"] = "n/a"
    with raises("'tv'", "non-numeric", "2023-02-26"):
        data.future_from_dataframe(fut)
