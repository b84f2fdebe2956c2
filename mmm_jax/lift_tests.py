"""Lift tests (geo experiments) for calibrating a model: checking and model inputs.

``model.fit(data, lift_tests=table)`` calibrates the media effects with experiments. Each
row of the table is one experiment on one channel (and, for geo data, one geo):

* ``channel``: a media column of the data (one of ``data.channels``);
* ``geo``: the geo of the experiment — required for geo data, an error for national data;
* ``start``, ``end``: the first and last period of the test window, dates of the data's
  period grid (``data.dates``), inclusive;
* ``delta_spend``: spend (currency) added to the channel over the window, spread evenly over
  its ``n = end - start + 1`` periods (``delta_spend / n`` per period). Negative values are
  go-dark (hold-out) tests that remove spend;
* ``lift``: the incremental KPI the change caused over the window *plus* the carryover after
  it, up to the last date of the data, measured with standard deviation ``lift_sd``.

Extra columns (e.g. ``true_lift``) are ignored. The table may be a DataFrame or a list of
dicts (records). :func:`check_lift_tests` raises ``ValueError`` naming the row (its 0-based
position in the table given, e.g. ``lift_tests row 2 (channel 'tv')``), the rule and the fix:

* not a DataFrame or records; an empty table; a missing required column (the columns there
  are listed and a name differing only in case, spaces or underscores is suggested); a
  column given twice; a ``geo`` column for national data, none for geo data;
* a missing or unknown channel (the model's channels are listed), a missing or unknown geo
  (a few geos are listed);
* a missing (NaN), non-numeric or infinite ``delta_spend``, ``lift`` or ``lift_sd``;
  a missing or unparsable ``start``/``end`` (numbers and relative dates such as ``"today"``
  are not dates);
* ``start`` after ``end``; a window outside the data (before its first or after its last
  date; the data's range is named); ``start`` or ``end`` not a date of the period grid
  (the nearest period dates are named);
* ``delta_spend == 0``; ``lift_sd <= 0``;
* a go-dark test removing more spend than there is: ``delta_spend / n`` plus the channel's
  spend (in that geo) is negative in some window period; the first such date and the
  smallest allowed ``delta_spend`` (``-n`` times the smallest spend in the window) are named.

:func:`lift_inputs` turns a table into NumPy arrays on the model's unit scale,
:func:`to_plain` / :func:`from_plain` into JSON-friendly records and back (exactly).

Example:
    >>> import mmm_jax as mj
    >>> df, _ = mj.simulate(seed=0, n_periods=52)
    >>> data = mj.MMMData.from_dataframe(df, date="date", target="sales",
    ...                                  media=["tv", "search", "social"], controls=["price"])
    >>> tests = [{"channel": "tv", "start": "2022-03-07", "end": "2022-03-28",
    ...           "delta_spend": 40000.0, "lift": 9000.0, "lift_sd": 1500.0}]
    >>> table = check_lift_tests(tests, data)
    >>> list(table.columns)
    ['channel', 'start', 'end', 'delta_spend', 'lift', 'lift_sd']
    >>> from mmm_jax.features import compute_scales
    >>> inputs = lift_inputs(table, data, compute_scales(data))
    >>> inputs["lift_delta"].shape, int((inputs["lift_delta"][0] != 0).sum())
    ((1, 52), 4)
    >>> check_lift_tests([dict(tests[0], channel="radio")], data)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: lift_tests row 0 (channel 'radio'): unknown channel 'radio'; ...
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from mmm_jax._dates import FREQ_WORD, fmt_date

__all__ = ["COLUMNS", "check_lift_tests", "from_plain", "lift_inputs", "to_plain"]

#: Columns of a normalised lift-test table (``geo`` only for geo data).
COLUMNS: tuple[str, ...] = ("channel", "geo", "start", "end", "delta_spend", "lift", "lift_sd")
_NUMBERS = ("delta_spend", "lift", "lift_sd")
_DATES = ("start", "end")
_RELATIVE_DATES = frozenset({"now", "today", "yesterday", "tomorrow"})
_FIX = {
    "delta_spend": "pass the spend added (currency, negative for a go-dark test)",
    "lift": "pass the measured incremental KPI",
    "lift_sd": "pass the standard deviation of the measured lift (KPI units, > 0)",
}


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------
def check_lift_tests(table, data) -> pd.DataFrame:
    """Validate a lift-test table against the data and return a normalised copy.

    Args:
        table: a DataFrame, or a list of dicts (records), with columns ``channel, start,
            end, delta_spend, lift, lift_sd`` and, for geo data, ``geo`` (extra columns are
            ignored).
        data: the :class:`~mmm_jax.data.MMMData` the model is fitted on.

    Returns:
        A new DataFrame with exactly the columns ``channel, [geo,] start, end, delta_spend,
        lift, lift_sd`` (L rows, a fresh RangeIndex): channel/geo as str, start/end as
        ``datetime64[ns]``, the numbers as float64.

    Raises:
        ValueError: any rule of the module docstring, naming the row, the rule and the fix.
    """
    frame = _as_frame(table)
    needed = ["channel", *(["geo"] if data.is_geo else []), *_DATES, *_NUMBERS]
    _check_columns(frame, needed, data.is_geo)
    cols = {name: frame[name].tolist() for name in needed}
    first, last = data.dates[0], data.dates[-1]
    out: dict[str, list] = {name: [] for name in needed}
    for i in range(len(frame)):
        channel, c = _channel(cols["channel"][i], data, i)
        label = f"lift_tests row {i} (channel '{channel}'"
        g, geo = 0, None
        if data.is_geo:
            geo, g = _geo(cols["geo"][i], data, f"{label})")
            label += f", geo '{geo}'"
        label += ")"
        nums = {name: _number(cols[name][i], name, label) for name in _NUMBERS}
        start, end = (_date(cols[name][i], name, label, data) for name in _DATES)
        if start > end:
            raise ValueError(
                f"{label}: start {fmt_date(start)} is after end {fmt_date(end)}; the window "
                "runs from start to end inclusive — swap them"
            )
        if start < first or end > last:
            raise ValueError(
                f"{label}: window {fmt_date(start)} .. {fmt_date(end)} is outside the data, "
                f"which covers {fmt_date(first)} .. {fmt_date(last)}; use a window within the "
                "data's dates (or drop the test)"
            )
        s = _on_grid(start, "start", label, data)
        e = _on_grid(end, "end", label, data)
        if nums["delta_spend"] == 0:
            raise ValueError(
                f"{label}: delta_spend is 0; a lift test changes spend — pass the spend "
                "added (negative for a go-dark test) or drop the test"
            )
        if nums["lift_sd"] <= 0:
            raise ValueError(
                f"{label}: lift_sd is {nums['lift_sd']!r} but must be > 0; pass the "
                "standard deviation of the measured lift (KPI units)"
            )
        if nums["delta_spend"] < 0:
            spend = data.spend[g, s : e + 1, c] if data.is_geo else data.spend[s : e + 1, c]
            _check_go_dark(nums["delta_spend"], spend, data.dates[s : e + 1], label)
        out["channel"].append(channel)
        if data.is_geo:
            out["geo"].append(geo)
        out["start"].append(start)
        out["end"].append(end)
        for name in _NUMBERS:
            out[name].append(nums[name])
    return _build(out)


def lift_inputs(table, data, scales, dtype=np.float32) -> dict[str, np.ndarray]:
    """Model inputs of a lift-test table, on the model's unit scale.

    Args:
        table: a lift-test table (checked again with :func:`check_lift_tests`, which is
            idempotent), L rows.
        data: the :class:`~mmm_jax.data.MMMData` the model is fitted on (T periods).
        scales: its :class:`~mmm_jax.features.Scales` (``target`` () or (G,), ``media`` (C,)
            or (G, C)).
        dtype: float dtype of the float arrays (computed in float64, then cast).

    Returns:
        A dict of NumPy arrays:

        * ``lift_channel`` (L,) int32 channel index, ``lift_geo`` (L,) int32 geo index
          (0 for national data);
        * ``lift_delta`` (L, T): the per-period media delta on the unit scale, nonzero only
          in the window: ``delta_spend / n * media_per_spend / scales.media[(g,) c]``, where
          ``media_per_spend`` is the channel's (geo's) total media over its total spend
          (1.0 when media is spend; the channel's overall ratio for a geo without spend);
        * ``lift_after`` (L, T): 1.0 from the window's first period to the end of the data
          (the lift counts the carryover), else 0.0;
        * ``lift_obs`` (L,) and ``lift_sd`` (L,): ``lift`` and ``lift_sd`` divided by the
          KPI scale (``scales.target``, or ``scales.target[g]`` for geo data).
    """
    checked = check_lift_tests(table, data)
    n_tests, n_time = len(checked), data.n_time
    t_scale = np.asarray(scales.target, dtype=np.float64)
    m_scale = np.asarray(scales.media, dtype=np.float64)
    lead = (data.n_geos,) if data.is_geo else ()
    if t_scale.shape != lead or m_scale.shape != (*lead, data.n_channels):
        raise ValueError(
            f"scales do not match the data: target {t_scale.shape}, media {m_scale.shape}, "
            f"expected {lead} and {(*lead, data.n_channels)}; compute them from this data "
            "(mmm_jax.features.compute_scales(data))"
        )
    media = data.media.reshape(data.n_geos, n_time, data.n_channels)
    spend = data.spend.reshape(data.n_geos, n_time, data.n_channels)
    overall = media.sum(axis=(0, 1)) / spend.sum(axis=(0, 1))  # (C,), spend never all-zero
    geo_media, geo_spend = media.sum(axis=1), spend.sum(axis=1)  # (G, C)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(geo_spend > 0, geo_media / geo_spend, overall[None, :])

    chan = np.array([data.channels.index(c) for c in checked["channel"]], dtype=np.int32)
    if data.is_geo:
        geo = np.array([data.geos.index(g) for g in checked["geo"]], dtype=np.int32)
    else:
        geo = np.zeros(n_tests, dtype=np.int32)
    s = np.searchsorted(data.dates, checked["start"].to_numpy())
    e = np.searchsorted(data.dates, checked["end"].to_numpy())
    t = np.arange(n_time)
    in_window = (t[None, :] >= s[:, None]) & (t[None, :] <= e[:, None])
    per_period = checked["delta_spend"].to_numpy(np.float64) / (e - s + 1)
    media_scale = m_scale[geo, chan] if data.is_geo else m_scale[chan]
    target_scale = t_scale[geo] if data.is_geo else np.full(n_tests, float(t_scale))
    unit = per_period * ratio[geo, chan] / media_scale
    delta = np.where(in_window, unit[:, None], 0.0)
    after = (t[None, :] >= s[:, None]).astype(np.float64)
    fdt = np.dtype(dtype)
    return {
        "lift_channel": chan,
        "lift_geo": geo,
        "lift_delta": delta.astype(fdt),
        "lift_after": after.astype(fdt),
        "lift_obs": (checked["lift"].to_numpy(np.float64) / target_scale).astype(fdt),
        "lift_sd": (checked["lift_sd"].to_numpy(np.float64) / target_scale).astype(fdt),
    }


def to_plain(table: pd.DataFrame) -> list[dict]:
    """JSON-friendly records of a normalised table (from :func:`check_lift_tests`).

    Dates become ISO strings (``"YYYY-MM-DD"``, with the time only when it is not
    midnight), numbers Python floats (``repr`` round-trips exactly), channel/geo str.
    ``from_plain(to_plain(table))`` equals ``table`` exactly.

    Example:
        >>> t = from_plain([{"channel": "tv", "start": "2022-03-07", "end": "2022-03-28",
        ...                  "delta_spend": 4e4, "lift": 9e3, "lift_sd": 1.5e3}])
        >>> to_plain(t)[0]["start"], to_plain(t)[0]["delta_spend"]
        ('2022-03-07', 40000.0)
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError(
            f"to_plain expects the DataFrame returned by check_lift_tests, got "
            f"{type(table).__name__}"
        )
    names = [c for c in COLUMNS if c in table.columns]
    out = []
    for row in table[names].itertuples(index=False):
        rec = dict(zip(names, row, strict=True))
        for name in names:
            if name in _DATES:
                rec[name] = _iso(rec[name])
            elif name in _NUMBERS:
                rec[name] = float(rec[name])
            else:
                rec[name] = str(rec[name])
        out.append(rec)
    return out


def from_plain(records: Sequence[Mapping]) -> pd.DataFrame:
    """Rebuild a normalised table from :func:`to_plain` records (the inverse of it).

    Args:
        records: a list of dicts with ``channel, [geo,] start, end, delta_spend, lift,
            lift_sd`` (``geo`` in every record or in none). An empty list gives an empty
            national table.

    Returns:
        The DataFrame :func:`check_lift_tests` would return (no check against data is made).
    """
    if isinstance(records, Mapping | str | bytes) or not isinstance(records, Sequence):
        raise ValueError(
            f"from_plain expects a list of dicts (from to_plain), got {type(records).__name__}"
        )
    has_geo = bool(records) and isinstance(records[0], Mapping) and "geo" in records[0]
    names = [c for c in COLUMNS if c != "geo" or has_geo]
    out: dict[str, list] = {name: [] for name in names}
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise ValueError(f"lift-test record {i} is a {type(rec).__name__}, not a dict")
        missing = [n for n in names if n not in rec]
        if missing or ("geo" in rec) != has_geo:
            raise ValueError(
                f"lift-test record {i} has keys {sorted(map(str, rec))}; expected {names} "
                "(the same keys in every record)"
            )
        try:
            for name in names:
                if name in _DATES:
                    value = pd.Timestamp(rec[name]).as_unit("ns").to_datetime64()
                elif name in _NUMBERS:
                    value = float(rec[name])
                else:
                    value = str(rec[name])
                out[name].append(value)
        except (TypeError, ValueError, OverflowError) as err:
            raise ValueError(f"lift-test record {i} has a bad value: {err}") from None
    return _build(out)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _build(cols: dict[str, list]) -> pd.DataFrame:
    """The normalised frame from column lists (shared by check_lift_tests / from_plain)."""
    frame = {}
    for name, values in cols.items():
        if name in _DATES:
            frame[name] = np.array(values, dtype="datetime64[ns]").reshape(-1)
        elif name in _NUMBERS:
            frame[name] = np.array(values, dtype=np.float64).reshape(-1)
        else:
            frame[name] = pd.Series([str(v) for v in values], dtype=str)
    return pd.DataFrame(frame, index=pd.RangeIndex(len(next(iter(cols.values())))))


def _as_frame(table) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        frame = table
    elif isinstance(table, list | tuple):
        for i, rec in enumerate(table):
            if not isinstance(rec, Mapping):
                raise ValueError(
                    f"lift_tests row {i} is a {type(rec).__name__}, not a dict; pass a "
                    "DataFrame or a list of dicts (one per test) with keys channel, start, "
                    "end, delta_spend, lift, lift_sd"
                )
        frame = pd.DataFrame([dict(rec) for rec in table], dtype=object)  # no upcasting
    else:
        raise ValueError(
            f"lift_tests must be a pandas DataFrame or a list of dicts, got "
            f"{type(table).__name__}; pass e.g. pd.DataFrame with columns channel, start, "
            "end, delta_spend, lift, lift_sd (one row per test)"
        )
    if len(frame) == 0:
        raise ValueError(
            "lift_tests is empty; pass at least one test (one row per test), or "
            "lift_tests=None to fit without calibration"
        )
    return frame


def _norm(name) -> str:
    return "".join(ch for ch in str(name).casefold() if ch not in " _-")


def _check_columns(frame: pd.DataFrame, needed: list[str], is_geo: bool) -> None:
    cols = list(frame.columns)
    shown = [str(c) for c in cols]
    if not is_geo and "geo" in cols:
        raise ValueError(
            "lift_tests has a 'geo' column but this model is national; drop the geo column "
            "(national lift tests apply to the whole market)"
        )
    for name in needed:
        n = sum(1 for c in cols if c == name)
        if n == 0:
            near = [str(c) for c in cols if _norm(c) == _norm(name)]
            hint = ""
            if near:
                hint = f" (did you mean {near[0]!r}? names are case and space sensitive)"
            what = (
                "this model has geos: add a geo column naming each test's geo"
                if name == "geo" else "fix the name or add the column"
            )
            raise ValueError(
                f"lift_tests column '{name}' is missing{hint}; columns there: {shown}; "
                f"required: {needed} — {what}"
            )
        if n > 1:
            raise ValueError(
                f"lift_tests column '{name}' appears {n} times; column names must be unique "
                "— rename or drop the duplicates"
            )


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.api.types.is_scalar(x) and pd.isna(x))
    except (TypeError, ValueError):
        return False


def _channel(x, data, i: int) -> tuple[str, int]:
    if _missing(x) or (isinstance(x, str) and not x.strip()):
        raise ValueError(
            f"lift_tests row {i}: channel is missing; name one of the model's channels "
            f"{list(data.channels)}"
        )
    name = str(x)
    if name not in data.channels:
        near = [c for c in data.channels if _norm(c) == _norm(name)]
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(
            f"lift_tests row {i} (channel '{name}'): unknown channel '{name}'{hint}; the "
            f"model's channels are {list(data.channels)} — use one of them"
        )
    return name, data.channels.index(name)


def _geo(x, data, label: str) -> tuple[str, int]:
    geos = list(data.geos)
    few = geos[:5] + ([f"... ({len(geos)} in all)"] if len(geos) > 5 else [])
    if _missing(x) or (isinstance(x, str) and not x.strip()):
        raise ValueError(f"{label}: geo is missing; name the test's geo, e.g. one of {few}")
    candidates = [str(x)]
    if isinstance(x, float | np.floating) and float(x).is_integer():
        candidates.append(str(int(x)))  # integer geo labels read back as floats
    for name in candidates:
        if name in data.geos:
            return name, geos.index(name)
    raise ValueError(
        f"{label}: unknown geo '{x}'; the data's geos are {few} — use one of them"
    )


def _number(x, name: str, label: str) -> float:
    value = math.nan
    ok = not isinstance(x, bool | np.bool_ | complex | np.complexfloating)
    if ok and not _missing(x):
        try:
            value = float(x.strip()) if isinstance(x, str) else float(x)
        except OverflowError:  # an integer beyond float64
            value = math.inf
        except (TypeError, ValueError):
            ok = False
    if not ok:
        raise ValueError(f"{label}: {name} is not a number ({x!r}); {_FIX[name]}")
    if math.isnan(value):
        raise ValueError(f"{label}: {name} is missing (NaN); {_FIX[name]}")
    if math.isinf(value):
        raise ValueError(f"{label}: {name} is infinite ({x!r}); {_FIX[name]}")
    return value


def _date(x, name: str, label: str, data) -> np.datetime64:
    fix = f"pass {name} as a date of the data's periods, e.g. '{fmt_date(data.dates[0])}'"
    if _missing(x) or (isinstance(x, str) and not x.strip()):
        raise ValueError(f"{label}: {name} is missing; {fix}")
    if isinstance(x, bool | np.bool_ | numbers.Number) or (
        isinstance(x, str) and x.strip().casefold() in _RELATIVE_DATES
    ):
        raise ValueError(f"{label}: {name} {x!r} is not a date; {fix}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ts = pd.Timestamp(x.strip() if isinstance(x, str) else x)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{label}: {name} {x!r} could not be parsed as a date; {fix}") from None
    if pd.isna(ts):
        raise ValueError(f"{label}: {name} is missing; {fix}")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    try:
        return ts.as_unit("ns").to_datetime64()
    except (ValueError, OverflowError):  # beyond datetime64[ns]: certainly outside the data
        raise ValueError(
            f"{label}: {name} {x!r} is outside the data, which covers "
            f"{fmt_date(data.dates[0])} .. {fmt_date(data.dates[-1])}; use a date within it"
        ) from None


def _on_grid(d: np.datetime64, name: str, label: str, data) -> int:
    i = int(np.searchsorted(data.dates, d))
    if i < data.n_time and data.dates[i] == d:
        return i
    near = " and ".join(fmt_date(data.dates[j]) for j in (i - 1, i) if 0 <= j < data.n_time)
    raise ValueError(
        f"{label}: {name} {fmt_date(d)} is not a period date of the data "
        f"({FREQ_WORD[data.freq]} periods; nearest {near}); use a date of the data's "
        "period grid"
    )


def _check_go_dark(delta: float, spend: np.ndarray, dates: np.ndarray, label: str) -> None:
    n = len(spend)
    per = delta / n
    tol = 1e-9 * np.maximum(spend, abs(per))  # -(n * s) / n may miss -s by an ulp
    bad = spend + per < -tol
    if not bad.any():
        return
    j = int(np.flatnonzero(bad)[0])
    low = float(spend.min())
    at = fmt_date(dates[int(np.argmin(spend))])
    if low > 0:
        allowed = (
            f"the smallest allowed delta_spend is {-n * low:.12g} ({n} periods x the lowest "
            f"window spend {low:.12g} on {at})"
        )
    else:
        allowed = f"no go-dark test fits this window (spend is 0 on {at})"
    raise ValueError(
        f"{label}: delta_spend {delta:.12g} takes spend below zero: {per:.12g} per period "
        f"over {n} periods, but the channel's spend on {fmt_date(dates[j])} is only "
        f"{float(spend[j]):.12g}; {allowed} — shrink the go-dark delta or move the window"
    )


def _iso(d) -> str:
    d = pd.Timestamp(d).as_unit("ns").to_datetime64()
    for unit in ("D", "s", "ns"):
        if d == d.astype(f"datetime64[{unit}]"):
            return str(np.datetime_as_string(d, unit=unit))
    return str(np.datetime_as_string(d, unit="ns"))  # pragma: no cover
