"""Private validation helpers for :mod:`mmm_jax.data`: column roles and values (the date
rules are in :mod:`mmm_jax._dates`).

Every helper raises ``ValueError`` whose message names the rule, the column, the first
offending date (or row index when no date can be read) and the fix. The helpers are pure
functions of NumPy arrays / pandas objects and never modify their inputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from mmm_jax._dates import FREQ_WORD
from mmm_jax._dates import fmt_date as _fmt_date
from mmm_jax._dates import plain as _plain
from mmm_jax._dates import where as _where


# --------------------------------------------------------------------------------------
# column roles
# --------------------------------------------------------------------------------------
def _is_label(value) -> bool:
    """A possible column label: hashable and not None."""
    try:
        hash(value)
    except TypeError:
        return False
    return value is not None


def as_name(value, role: str) -> str:
    """A single column-name argument (``date``, ``target``, ``geo``): a string (or another
    hashable label), not None or a list."""
    if not _is_label(value):
        raise ValueError(
            f"{role}={value!r} is not a column name; pass the name of one column (a string)"
        )
    return value


def as_names(value: str | Sequence[str] | None, role: str) -> tuple[str, ...]:
    """Normalise a column list argument (a single string counts as one column)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Mapping | bytes) or not isinstance(value, Iterable):
        raise ValueError(
            f"{role}={value!r} is not a list of column names; pass a list of names, e.g. "
            f"{role}=['tv', 'radio']"
        )
    names = tuple(value)
    seen: set = set()
    for name in names:
        if not _is_label(name):
            raise ValueError(
                f"{role} entry {name!r} is not a column name; {role} must be a list of "
                "column names (strings)"
            )
        if name in seen:
            raise ValueError(
                f"{role} column '{name}' is listed twice; each column may appear once in "
                f"{role} — remove the duplicate"
            )
        seen.add(name)
    return names


def check_roles(
    date: str, target: str, media: tuple, spend: tuple, controls: tuple, geo: str | None
) -> None:
    """Check the role lists: non-empty media, equal lengths, no column in two roles.

    ``spend[i] == media[i]`` (spend of a channel is its own media column) is allowed.
    """
    if not media:
        raise ValueError("media is empty; pass at least one media column, e.g. media=['tv']")
    if len(spend) != len(media):
        raise ValueError(
            f"media has {len(media)} columns {list(media)} but spend has {len(spend)} "
            f"{list(spend)}; pass one spend column per media column, in the same order "
            "(or spend=None to use the media columns as spend)"
        )
    roles: dict = {}

    def claim(name: str, role: str) -> None:
        if name in roles and roles[name] != role:
            raise ValueError(
                f"column '{name}' is used as both {roles[name]} and {role}; each column can "
                "have one role — copy it under a new name if you really need it twice"
            )
        roles[name] = role

    claim(date, "date")
    claim(target, "target")
    if geo is not None:
        claim(geo, "geo")
    for name in media:
        claim(name, "media")
    for name in controls:
        claim(name, "control")
    for i, name in enumerate(spend):
        if name == media[i]:
            continue
        claim(name, "spend")


def check_columns(df: pd.DataFrame, names: Sequence[str]) -> None:
    """Every name must be exactly one column of ``df``."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(
            f"expected a pandas DataFrame, got {type(df).__name__}; pass a long-format "
            "DataFrame (e.g. pd.read_csv(...)) with one row per date (or per geo and date)"
        )
    cols = list(df.columns)
    for name in names:
        n = sum(1 for c in cols if c == name)
        if n == 0:
            hint = ""
            near = [c for c in cols if str(c).strip().casefold() == str(name).strip().casefold()]
            if name in [i for i in (df.index.names or []) if i is not None]:
                hint = " (it is an index level — call df.reset_index() first)"
            elif near:
                hint = f" (did you mean {str(near[0])!r}? names are case and space sensitive)"
            raise ValueError(
                f"column '{name}' is missing from the DataFrame{hint}; available columns: "
                f"{[str(c) for c in cols]} — fix the name or add the column"
            )
        if n > 1:
            raise ValueError(
                f"column '{name}' appears {n} times in the DataFrame; column names must be "
                "unique — rename or drop the duplicates"
            )
    if len(df) == 0:
        raise ValueError("the DataFrame has no rows; pass at least one row per period")


# --------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------
def numeric(
    s: pd.Series,
    name: str,
    role: str,
    dates: np.ndarray,
    geos: np.ndarray | None,
    nonneg: bool = False,
) -> np.ndarray:
    """Convert a column (rows already sorted) to float64, rejecting bad values.

    Booleans count as 0/1; numeric strings are parsed. Rejects non-numeric entries,
    NaN/±inf and, when ``nonneg``, negative values.
    """
    if pd.api.types.is_bool_dtype(s) or (
        pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_complex_dtype(s)
    ):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.zeros(len(s), bool)
    elif pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
        try:
            num = pd.to_numeric(s, errors="coerce")
            if pd.api.types.is_complex_dtype(num):
                raise TypeError("complex")  # to_numpy(float64) would drop the imaginary part
            values = num.to_numpy(dtype=np.float64, na_value=np.nan)
        except (OverflowError, TypeError, ValueError):  # e.g. an int beyond float64, 1j
            values = np.array([_as_float(x) for x in s.tolist()], dtype=np.float64)
        bad = np.isnan(values) & ~s.isna().to_numpy()
    else:
        values = np.full(len(s), np.nan)
        bad = np.ones(len(s), bool)
    if bad.any():
        i = np.flatnonzero(bad)
        first = i[np.argmin(dates[i])]
        raise ValueError(
            f"{role} column '{name}' (dtype {s.dtype}) has {bad.sum()} non-numeric values "
            f"(first {_plain(s.iloc[first])!r} at {_where(bad, dates, geos)}); convert it to "
            "numbers (e.g. pd.to_numeric) and fix or drop the bad entries"
        )
    nan = np.isnan(values)
    if nan.any():
        raise ValueError(
            f"{role} column '{name}' has {nan.sum()} missing (NaN) values (first at "
            f"{_where(nan, dates, geos)}); fill them (e.g. 0 for media with no activity) "
            "or drop the periods"
        )
    inf = np.isinf(values)
    if inf.any():
        raise ValueError(
            f"{role} column '{name}' has {inf.sum()} infinite values (first at "
            f"{_where(inf, dates, geos)}); replace them with finite numbers"
        )
    neg = values < 0
    if nonneg and neg.any():
        raise ValueError(
            f"column '{name}' has {neg.sum()} negative values (first at "
            f"{_where(neg, dates, geos)}); media and spend must be >= 0 — fix or clip "
            "them before fitting"
        )
    return values


def _as_float(x) -> float:
    """One entry as a float: NaN when it is not a real number, ±inf beyond float64."""
    if isinstance(x, complex | np.complexfloating):
        return math.nan
    negative = x.strip().startswith("-") if isinstance(x, str) else None
    try:
        if isinstance(x, str):
            x = pd.to_numeric(x, errors="coerce")
        return float(x)
    except OverflowError:
        if negative is None:
            negative = bool(x < 0)
        return -math.inf if negative else math.inf
    except (TypeError, ValueError):
        return math.nan


def check_signal(
    target: np.ndarray,
    target_name: str,
    media: np.ndarray,
    names: Sequence[str],
    geos: Sequence[str] | None,
    role: str = "media",
) -> None:
    """Reject an all-zero media/spend channel and a constant target (per geo).

    Args:
        target: (T,) or (G, T); ``None`` skips the target check.
        media: (T, C) or (G, T, C).
    """
    zero = ~np.any(media.reshape(-1, media.shape[-1]) != 0, axis=0)
    if zero.any():
        c = int(np.flatnonzero(zero)[0])
        raise ValueError(
            f"{role} column '{names[c]}' is zero in every period; a channel without "
            "activity has no identifiable effect — drop the channel"
        )
    if target is None:
        return
    rows = target.reshape(-1, target.shape[-1])
    for g, row in enumerate(rows):
        if np.all(row == row[0]):
            where = "" if geos is None else f" in geo '{geos[g]}'"
            raise ValueError(
                f"target column '{target_name}' is constant (= {row[0]:g}){where}; a "
                "constant KPI carries no signal — check the column (or drop the geo)"
            )


def check_min_periods(
    n_time: int, freq: str, n_channels: int, n_controls: int, min_periods: dict, grid: np.ndarray
) -> None:
    """Require ``T >= max(min_periods[freq], 2 * (C + K) + 10)``."""
    need = max(min_periods[freq], 2 * (n_channels + n_controls) + 10)
    if n_time < need:
        raise ValueError(
            f"only {n_time} {FREQ_WORD[freq]} periods ({_fmt_date(grid[0])} to "
            f"{_fmt_date(grid[-1])}); need at least {need} for {n_channels} channels and "
            f"{n_controls} controls (rule: T >= max({min_periods[freq]}, 2 * (channels + "
            "controls) + 10)) — add history or drop channels/controls"
        )
