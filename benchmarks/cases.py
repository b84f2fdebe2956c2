"""Benchmark datasets: the embedded examples and the shared public datasets."""

from __future__ import annotations

import pathlib

import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

_CH = [f"Channel{i}" for i in range(4)]
_MERIDIAN = dict(date="time", target="conversions",
                 media=[f"{c}_impression" for c in _CH], spend=[f"{c}_spend" for c in _CH],
                 controls=["competitor_activity_score_control", "sentiment_score_control"])
_EMBEDDED = dict(date="date", target="sales", media=["tv", "search", "social"],
                 controls=["price"])

CASES = {
    "embedded_national": dict(example="national", **_EMBEDDED),
    "embedded_geo": dict(example="geo", geo="geo", **_EMBEDDED),
    "pymc_mmm_example": dict(path="pymc_marketing/mmm_example.csv", date="date_week",
                             target="y", media=["x1", "x2"], controls=["event_1", "event_2"]),
    "meridian_national": dict(path="meridian/national_media.csv", **_MERIDIAN),
    "meridian_geo_20": dict(path="meridian/geo_media.csv", geo="geo", **_MERIDIAN),
    "robyn_weekly": dict(path="robyn/dt_simulated_weekly.csv", date="DATE", target="revenue",
                         media=["tv_S", "ooh_S", "print_S", "facebook_I", "search_clicks_P"],
                         spend=["tv_S", "ooh_S", "print_S", "facebook_S", "search_S"],
                         controls=["competitor_sales_B", "newsletter"]),
}


def available(name: str) -> bool:
    """Whether the case's data can be read here (shared data sits beside the checkout)."""
    case = CASES[name]
    return "example" in case or (SHARED / case["path"]).is_file()


def load_case(name: str):
    """The case as an :class:`mmm_jax.MMMData`."""
    import mmm_jax as mj

    case = dict(CASES[name])
    if "example" in case:
        df = mj.load_example(case.pop("example"))
    else:
        df = pd.read_csv(SHARED / case.pop("path"))
    return mj.MMMData.from_dataframe(df, **case)
