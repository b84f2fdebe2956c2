"""Private date helpers for :mod:`mmm_jax.data`: parsing date columns, the (geo, date) grid,
and the message formatting every validation rule shares.

Every helper raises ``ValueError`` whose message names the rule, the column, the first
offending date (or row index when no date can be read) and the fix.

>>> fmt_date(np.datetime64("2023-04-02", "ns"))
'2023-04-02'
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd

DAY_NS = 86_400 * 10**9
#: Supported spacings: frequency code -> days between consecutive periods.
FREQ_DAYS = {"W": 7, "D": 1}
FREQ_WORD = {"W": "weekly", "D": "daily"}


def fmt_date(d: np.datetime64) -> str:
    """ISO date (``YYYY-MM-DD``), with the time only when it is not midnight."""
    d = np.datetime64(d, "ns")
    if d == d.astype("datetime64[D]"):
        return str(np.datetime_as_string(d, unit="D"))
    return str(np.datetime_as_string(d, unit="s"))


def where(mask: np.ndarray, dates: np.ndarray, geos: np.ndarray | None) -> str:
    """'2023-04-02' (or "2023-04-02 in geo 'B'") of the earliest True row of ``mask``."""
    idx = np.flatnonzero(mask)
    i = idx[np.argmin(dates[idx])]
    out = fmt_date(dates[i])
    return out if geos is None else f"{out} in geo '{geos[i]}'"


def plain(x):
    """A NumPy number as the Python number it holds, for messages (5, not np.int64(5))."""
    return x.item() if isinstance(x, np.number | np.bool_) else x


def reject_rows(
    bad: np.ndarray, s: pd.Series, column: str, problem: str, fix: str, show_value: bool = False
) -> None:
    """Raise ``"<column> has <n> <problem> (first at row index <i>[: <value>]); <fix>"``
    when any row of ``s`` is ``bad`` (rows in the caller's order, before any sorting)."""
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = f": {s.iloc[i]!r}" if show_value else ""
        label = plain(s.index[i])
        raise ValueError(
            f"{column} has {int(bad.sum())} {problem} (first at row index {label!r}"
            f"{value}); {fix}"
        )


# --------------------------------------------------------------------------------------
# dates and geos
# --------------------------------------------------------------------------------------
def parse_dates(s: pd.Series, name: str) -> np.ndarray:
    """Parse a date column (strings or datetimes) to ``datetime64[ns]``, tz dropped."""
    if (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)) and not (
        pd.api.types.is_datetime64_any_dtype(s)
    ):
        raise ValueError(
            f"date column '{name}' has numeric dtype {s.dtype}; pass dates as strings "
            "('2023-01-01') or datetimes — e.g. pd.to_datetime(df[col].astype(str))"
        )
    if isinstance(s.dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(
        s.cat.categories
    ):
        raise ValueError(
            f"date column '{name}' is categorical with numeric categories; pass dates as "
            "strings ('2023-01-01') or datetimes"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format" (pandas 2)
        try:
            parsed = pd.to_datetime(s, errors="coerce")
        except (TypeError, ValueError, OverflowError) as err:
            raise ValueError(
                f"date column '{name}' could not be parsed ({err}); pass ISO strings or "
                "datetimes"
            ) from None
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    bad = parsed.isna().to_numpy()
    if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
        # numbers would be read as nanoseconds since 1970, "now"/"today" as the clock time
        bad = bad | np.fromiter((_not_a_date(x) for x in s.tolist()), bool, len(s))
    reject_rows(
        bad, s, f"date column '{name}'", "missing or unparsable values",
        "fix or drop those rows — dates must be strings like '2023-01-01' or datetimes",
        show_value=True,
    )
    values = parsed.to_numpy()
    if values.dtype != np.dtype("datetime64[ns]"):  # pandas >= 2 keeps s/ms/us units
        lo, hi = (np.datetime64(d).astype(values.dtype) for d in _NS_RANGE)
        reject_rows(
            (values < lo) | (values > hi), s, f"date column '{name}'",
            f"dates outside {_NS_RANGE[0]} .. {_NS_RANGE[1]}",
            "fix those dates (typo in the year?) or drop the rows", show_value=True,
        )
    return values.astype("datetime64[ns]")


#: The dates a ``datetime64[ns]`` can hold (whole days inside its range).
_NS_RANGE = ("1677-09-22", "2262-04-11")
_RELATIVE_DATES = frozenset({"now", "today", "yesterday", "tomorrow"})


def _not_a_date(x) -> bool:
    """An entry of an object/string date column that pandas would turn into a wrong date."""
    if isinstance(x, str):
        return x.strip().casefold() in _RELATIVE_DATES
    return isinstance(x, numbers.Number | np.number) and not isinstance(x, np.datetime64)


def geo_labels(s: pd.Series, name: str) -> np.ndarray:
    """Geo column as a NumPy unicode array; NaN geos are an error."""
    reject_rows(s.isna().to_numpy(), s, f"geo column '{name}'", "missing values",
                 "fill or drop those rows")
    return np.asarray([str(v) for v in s.tolist()], dtype=str)


def time_grid(
    dates: np.ndarray,
    geos: np.ndarray | None,
    date_name: str,
    geo_name: str | None,
    freq: str | None = None,
) -> tuple[np.ndarray, str]:
    """Check the (geo, date) grid of rows already sorted by (geo, date).

    Args:
        dates: (N,) datetime64[ns], sorted by date within each geo.
        geos: (N,) geo labels (sorted) or None for national data.
        date_name / geo_name: column names for messages.
        freq: expected frequency ("W"/"D"), or None to infer it from the spacing.

    Returns:
        (grid, freq): the (T,) sorted unique dates and the frequency code.

    Raises:
        ValueError: duplicate dates (per geo), irregular spacing or gaps, a geo missing dates.
    """
    same_geo = np.ones(len(dates) - 1, bool) if geos is None else geos[1:] == geos[:-1]
    dup = same_geo & (dates[1:] == dates[:-1])
    if dup.any():
        i = int(np.flatnonzero(dup)[0]) + 1
        where = "" if geos is None else f" in geo '{geos[i]}'"
        raise ValueError(
            f"date column '{date_name}' has {int(dup.sum())} duplicate dates{where} "
            f"(first {fmt_date(dates[i])}{where}); keep one row per "
            f"{'date' if geos is None else '(geo, date)'} — aggregate or drop the duplicates"
        )
    grid = np.unique(dates)
    diffs = np.diff(grid).astype(np.int64)
    if freq is None:
        if len(grid) < 2:
            raise ValueError(
                f"date column '{date_name}' has a single date {fmt_date(grid[0])}; "
                "need a regular weekly or daily series of many periods"
            )
        vals, counts = np.unique(diffs, return_counts=True)
        mode = int(vals[np.argmax(counts)])
        freq = {7 * DAY_NS: "W", DAY_NS: "D"}.get(mode)
        if freq is None:
            raise ValueError(
                f"date column '{date_name}' has spacing of {mode / DAY_NS:g} days (e.g. "
                f"{fmt_date(grid[0])} -> {fmt_date(grid[1])}); only weekly (7 days) or "
                "daily (1 day) data are supported — resample to weekly or daily periods"
            )
    step = FREQ_DAYS[freq] * DAY_NS
    brk = np.flatnonzero(diffs != step)
    if brk.size:
        i = int(brk[0])
        raise ValueError(
            f"date column '{date_name}' is not regularly spaced: gap of "
            f"{diffs[i] / DAY_NS:g} days between {fmt_date(grid[i])} and "
            f"{fmt_date(grid[i + 1])} (expected {FREQ_DAYS[freq]} days, {FREQ_WORD[freq]}); "
            "fill the missing periods (e.g. zero media) or resample to a regular grid"
        )
    if geos is not None:
        names, starts, counts = np.unique(geos, return_index=True, return_counts=True)
        for g, s0, n in zip(names, starts, counts, strict=True):
            if n != len(grid):
                missing = np.setdiff1d(grid, dates[s0 : s0 + n])
                raise ValueError(
                    f"geo '{g}' (column '{geo_name}') is missing {len(missing)} of "
                    f"{len(grid)} dates (first missing {fmt_date(missing[0])}); every geo "
                    "needs every date — add the rows (e.g. zero media) or drop the geo"
                )
    return grid, freq
