"""Validated model inputs: a pandas DataFrame -> :class:`MMMData` (and :class:`FutureData`).

:meth:`MMMData.from_dataframe` reads a long-format DataFrame (one row per date, or per
(geo, date) for geo data), sorts it, checks it and stores float64 NumPy arrays in the
original units (no scaling — the model scales internally). Bad inputs raise ``ValueError``
naming the column, the first offending date (or row index) and the fix:

* ``df`` not a DataFrame; a column argument that is not a name (None, a list for ``date``,
  a number for ``media``);
* a missing column (the available columns are listed, and a name differing only in case or
  spaces is suggested) or a column name appearing twice;
* an empty media list, duplicate names in media/controls, media and spend lists of
  different lengths, a column used in two roles (``spend[i] == media[i]`` is allowed);
* an unparsable or missing date (row index named) — numbers in a text/object date column
  and relative dates (``"now"``, ``"today"``) count as unparsable — a date outside the
  years 1677-2262 (``datetime64[ns]``), a missing geo label;
* non-numeric values (booleans count as 0/1; complex numbers do not), NaN or ±inf (also an
  integer beyond float64) in target, media, spend, controls;
* negative media or spend;
* duplicate dates (per geo), spacing other than a constant 7 days (``"W"``) or 1 day
  (``"D"``), gaps, a geo missing dates (unsorted rows are not an error: they are sorted);
* an all-zero media or spend channel, a constant target (per geo);
* too few periods: ``T >= max(MIN_PERIODS[freq], 2 * (n_channels + n_controls) + 10)``
  with ``MIN_PERIODS = {"W": 26, "D": 56}`` (half a year of weeks, eight weeks of days,
  and about two periods per regression coefficient plus ten).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mmm_jax import _dates
from mmm_jax import _validate as v

__all__ = ["MIN_PERIODS", "FutureData", "MMMData"]

#: Minimum number of periods per frequency; see the module docstring for the full rule.
MIN_PERIODS: dict[str, int] = {"W": 26, "D": 56}


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclasses.dataclass(frozen=True, eq=False)
class FutureData:
    """Media, spend and controls for future periods (no target).

    Attributes:
        dates: (T_f,) datetime64[ns], regular, starting one period after the history.
        media: (T_f, C) or (G, T_f, C) float64 >= 0.
        spend: same shape as ``media``.
        controls: (T_f, K) or (G, T_f, K) float64.
    """

    dates: np.ndarray
    media: np.ndarray
    spend: np.ndarray
    controls: np.ndarray

    @property
    def n_time(self) -> int:
        """Number of future periods."""
        return int(self.dates.shape[0])


@dataclasses.dataclass(frozen=True, eq=False)
class MMMData:
    """Validated MMM inputs in original units (see the module docstring for the checks).

    Attributes:
        dates: (T,) datetime64[ns], sorted, regular.
        target: (T,) national or (G, T) geo, float64.
        media: (T, C) or (G, T, C) float64 >= 0 (spend or impressions).
        spend: same shape as ``media``, float64 >= 0 (equal to ``media`` by default).
        controls: (T, K) or (G, T, K) float64; K may be 0.
        channels: media column names; ``spend_columns`` in the same order.
        control_names, target_name, date_name: column names.
        geos: sorted geo labels (str) or None for national data; ``geo_name`` its column.
        freq: ``"W"`` (7-day spacing) or ``"D"`` (1-day spacing).

    Example:
        >>> import pandas as pd
        >>> dates = pd.date_range("2023-01-01", periods=30, freq="W-SUN")
        >>> df = pd.DataFrame({"week": dates, "sales": range(100, 130),
        ...                    "tv": [1.0, 0.0] * 15, "radio": [2.0] * 30})
        >>> data = MMMData.from_dataframe(df, date="week", target="sales",
        ...                               media=["tv", "radio"])
        >>> data.media.shape, data.freq, data.channels, data.spend_columns
        ((30, 2), 'W', ('tv', 'radio'), ('tv', 'radio'))
    """

    dates: np.ndarray
    target: np.ndarray
    media: np.ndarray
    spend: np.ndarray
    controls: np.ndarray
    channels: tuple[str, ...]
    spend_columns: tuple[str, ...]
    control_names: tuple[str, ...]
    target_name: str
    date_name: str
    geos: tuple[str, ...] | None
    geo_name: str | None
    freq: str

    def __post_init__(self) -> None:
        lead = (self.n_geos,) if self.is_geo else ()
        t, c, k = self.n_time, self.n_channels, self.n_controls
        expected = {
            "dates": (t,),
            "target": (*lead, t),
            "media": (*lead, t, c),
            "spend": (*lead, t, c),
            "controls": (*lead, t, k),
        }
        for field, shape in expected.items():
            got = np.shape(getattr(self, field))
            if got != shape:
                raise ValueError(f"MMMData.{field} has shape {got}, expected {shape}")
        if len(self.spend_columns) != c:
            raise ValueError(f"{len(self.spend_columns)} spend columns for {c} channels")
        if self.freq not in _dates.FREQ_DAYS:
            raise ValueError(f"freq must be 'W' or 'D', got {self.freq!r}")
        if (self.geos is None) != (self.geo_name is None):
            raise ValueError("geos and geo_name must both be set (geo) or both be None")

    # ------------------------------------------------------------------ properties
    @property
    def is_geo(self) -> bool:
        """True for geo-level data (a leading geo axis on target/media/controls)."""
        return self.geos is not None

    @property
    def n_time(self) -> int:
        """Number of periods T."""
        return int(self.dates.shape[0])

    @property
    def n_geos(self) -> int:
        """Number of geos (1 for national data)."""
        return 1 if self.geos is None else len(self.geos)

    @property
    def n_channels(self) -> int:
        """Number of media channels C."""
        return len(self.channels)

    @property
    def n_controls(self) -> int:
        """Number of control columns K."""
        return len(self.control_names)

    @property
    def period_days(self) -> int:
        """Days between consecutive periods (7 weekly, 1 daily)."""
        return _dates.FREQ_DAYS[self.freq]

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dataframe(
        cls,
        df: pd.DataFrame,
        *,
        date: str,
        target: str,
        media: Sequence[str],
        spend: Sequence[str] | None = None,
        controls: Sequence[str] | None = None,
        geo: str | None = None,
    ) -> MMMData:
        """Build validated data from a long-format DataFrame.

        Args:
            df: one row per date (national) or per (geo, date); extra columns are ignored,
                row order does not matter (rows are sorted by geo, then date).
            date: date column (strings or datetimes), weekly or daily, regular.
            target: KPI column (e.g. sales), numeric, not constant.
            media: media columns (spend or impressions), numeric, >= 0, none all-zero.
            spend: spend column of each media column, same order; None uses ``media``.
            controls: control columns (numeric), optional.
            geo: geo column for geo data (labels converted to str and sorted); None for
                national data. A single geo is still geo data.

        Returns:
            MMMData with float64 arrays in original units; values are copied bit for bit.

        Raises:
            ValueError: any rule listed in the module docstring, naming the column, the
                first offending date (or row) and the fix.

        Example:
            >>> import pandas as pd
            >>> dates = pd.date_range("2023-01-01", periods=30, freq="W-SUN").astype(str)
            >>> rows = [{"geo": g, "date": d, "y": 10.0 + i + j, "tv": float(i % 3),
            ...          "tv_cost": 2.0 * (i % 3)}
            ...         for j, g in enumerate(["north", "south"]) for i, d in enumerate(dates)]
            >>> df = pd.DataFrame(rows[::-1])  # unsorted rows are fine
            >>> data = MMMData.from_dataframe(df, date="date", target="y", media=["tv"],
            ...                               spend=["tv_cost"], geo="geo")
            >>> data.geos, data.target.shape, data.media.shape, float(data.spend[0, 1, 0])
            (('north', 'south'), (2, 30), (2, 30, 1), 2.0)
            >>> df.loc[3, "tv"] = -1.0
            >>> MMMData.from_dataframe(df, date="date", target="y", media=["tv"],
            ...                        geo="geo")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            ValueError: column 'tv' has 1 negative values (first at 2023-07-02 in geo ...
        """
        date, target = v.as_name(date, "date"), v.as_name(target, "target")
        geo = None if geo is None else v.as_name(geo, "geo")
        media_t = v.as_names(media, "media")
        spend_t = media_t if spend is None else v.as_names(spend, "spend")
        controls_t = v.as_names(controls, "controls")
        v.check_roles(date, target, media_t, spend_t, controls_t, geo)
        needed = [date, target, *media_t, *spend_t, *controls_t] + ([geo] if geo else [])
        v.check_columns(df, list(dict.fromkeys(needed)))

        dates, geo_labels, order = _sorted_keys(df, date, geo)
        grid, freq = _dates.time_grid(dates, geo_labels, date, geo)
        geos = None if geo_labels is None else tuple(str(g) for g in np.unique(geo_labels))
        v.check_min_periods(
            len(grid), freq, len(media_t), len(controls_t), MIN_PERIODS, grid
        )
        shape = (len(grid),) if geos is None else (len(geos), len(grid))

        def col(name: str, role: str, nonneg: bool = False) -> np.ndarray:
            s = df[name].iloc[order]
            return v.numeric(s, name, role, dates, geo_labels, nonneg).reshape(shape)

        y = col(target, "target")
        x = _stack([col(n, "media", True) for n in media_t], shape)
        cost = _stack(
            [x[..., i] if n == media_t[i] else col(n, "spend", True)
             for i, n in enumerate(spend_t)],
            shape,
        )
        z = _stack([col(n, "control") for n in controls_t], shape)
        v.check_signal(y, target, x, media_t, geos)
        v.check_signal(None, target, cost, spend_t, geos, role="spend")
        return cls(
            dates=_frozen(grid), target=_frozen(y), media=_frozen(x),
            spend=_frozen(cost), controls=_frozen(z), channels=media_t,
            spend_columns=spend_t, control_names=controls_t, target_name=target,
            date_name=date, geos=geos, geo_name=geo, freq=freq,
        )

    def future_from_dataframe(self, df: pd.DataFrame) -> FutureData:
        """Read media/spend/controls for the periods right after the history.

        Args:
            df: long-format rows with the date column, the media columns, the separate spend
                columns, the controls and (geo data) the geo column; the target is not
                needed. Dates must start one period after ``self.dates[-1]``, be regular, and
                every history geo must have every date.

        Returns:
            FutureData with arrays shaped like the history with ``T_future`` periods.

        Raises:
            ValueError: missing columns, bad dates/spacing/start, unknown or missing geos,
                non-numeric, NaN/inf or negative values (an all-zero channel is fine).

        Example:
            >>> import pandas as pd
            >>> dates = pd.date_range("2023-01-01", periods=30, freq="W-SUN")
            >>> df = pd.DataFrame({"week": dates, "sales": range(30), "tv": [1.0] * 30})
            >>> data = MMMData.from_dataframe(df, date="week", target="sales", media=["tv"])
            >>> fut = pd.DataFrame({"week": ["2023-07-30", "2023-08-06"], "tv": [0.0, 5.0]})
            >>> data.future_from_dataframe(fut).media.tolist()
            [[0.0], [5.0]]
        """
        separate = [s for s, m in zip(self.spend_columns, self.channels, strict=True) if s != m]
        geo = self.geo_name
        needed = [self.date_name, *self.channels, *separate, *self.control_names]
        v.check_columns(df, needed + ([geo] if geo else []))
        dates, geo_labels, order = _sorted_keys(df, self.date_name, geo)
        grid, _ = _dates.time_grid(dates, geo_labels, self.date_name, geo, freq=self.freq)
        start = self.dates[-1] + np.timedelta64(self.period_days, "D")
        if grid[0] != start:
            raise ValueError(
                f"future dates in column '{self.date_name}' start at {_dates.fmt_date(grid[0])} "
                f"but must start one period after the last history date "
                f"{_dates.fmt_date(self.dates[-1])}, i.e. at {_dates.fmt_date(start)}; pass the "
                "periods right after the history, with no gap"
            )
        if geo is not None:
            got = tuple(str(g) for g in np.unique(geo_labels))
            if got != self.geos:
                extra = sorted(set(got) - set(self.geos))
                missing = sorted(set(self.geos) - set(got))
                raise ValueError(
                    f"future geos in column '{geo}' differ from the history: missing "
                    f"{missing}, unknown {extra}; pass every history geo and no other"
                )
        shape = (len(grid),) if geo is None else (len(self.geos), len(grid))

        def col(name: str, role: str, nonneg: bool = False) -> np.ndarray:
            s = df[name].iloc[order]
            return v.numeric(s, name, role, dates, geo_labels, nonneg).reshape(shape)

        x = _stack([col(n, "media", True) for n in self.channels], shape)
        cost = _stack(
            [x[..., i] if n == self.channels[i] else col(n, "spend", True)
             for i, n in enumerate(self.spend_columns)],
            shape,
        )
        z = _stack([col(n, "control") for n in self.control_names], shape)
        return FutureData(
            dates=_frozen(grid), media=_frozen(x), spend=_frozen(cost), controls=_frozen(z)
        )

    # ------------------------------------------------------------------ export
    def to_dataframe(self) -> pd.DataFrame:
        """Long-format DataFrame (geo, date, target, media, separate spend, controls).

        Reading it back with ``MMMData.from_dataframe(df, **data.spec())`` gives identical
        arrays.

        Example:
            >>> import pandas as pd
            >>> dates = pd.date_range("2023-01-01", periods=30, freq="W-SUN")
            >>> df = pd.DataFrame({"week": dates, "sales": range(30), "tv": [1.0] * 30})
            >>> data = MMMData.from_dataframe(df, date="week", target="sales", media=["tv"])
            >>> list(data.to_dataframe().columns)
            ['week', 'sales', 'tv']
        """
        g, t = self.n_geos, self.n_time
        cols: dict = {}
        if self.is_geo:
            cols[self.geo_name] = np.repeat(np.asarray(self.geos, dtype=object), t)
        cols[self.date_name] = np.tile(self.dates, g)
        cols[self.target_name] = self.target.reshape(-1).copy()
        for i, name in enumerate(self.channels):
            cols[name] = self.media[..., i].reshape(-1).copy()
        for i, (s, m) in enumerate(zip(self.spend_columns, self.channels, strict=True)):
            if s != m:
                cols[s] = self.spend[..., i].reshape(-1).copy()
        for i, name in enumerate(self.control_names):
            cols[name] = self.controls[..., i].reshape(-1).copy()
        return pd.DataFrame(cols)

    def spec(self) -> dict:
        """Column roles as a JSON-able dict; ``from_dataframe(df, **data.spec())`` rebuilds.

        Example:
            >>> import pandas as pd
            >>> dates = pd.date_range("2023-01-01", periods=30, freq="W-SUN")
            >>> df = pd.DataFrame({"week": dates, "sales": range(30), "tv": [1.0] * 30})
            >>> spec = MMMData.from_dataframe(df, date="week", target="sales", media=["tv"]).spec()
            >>> spec["media"], spec["spend"], spec["controls"], spec["geo"]
            (['tv'], ['tv'], [], None)
        """
        return {
            "date": self.date_name,
            "target": self.target_name,
            "media": list(self.channels),
            "spend": list(self.spend_columns),
            "controls": list(self.control_names),
            "geo": self.geo_name,
        }


def _sorted_keys(
    df: pd.DataFrame, date: str, geo: str | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Parse dates (and geo labels) and return them sorted by (geo, date) with the order."""
    geo_labels = None if geo is None else _dates.geo_labels(df[geo], geo)
    dates = _dates.parse_dates(df[date], date)
    keys = (dates,) if geo_labels is None else (dates, geo_labels)
    order = np.lexsort(keys)
    return dates[order], None if geo_labels is None else geo_labels[order], order


def _stack(columns: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Stack (…, T) columns on a last axis; (…, T, 0) when there are none."""
    if not columns:
        return np.zeros((*shape, 0), dtype=np.float64)
    return np.stack(columns, axis=-1).astype(np.float64, copy=False)
