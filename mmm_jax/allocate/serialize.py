"""Lossless JSON of a :class:`~mmm_jax.allocate.result.BudgetResult`.

Strict JSON (no ``NaN``/``Infinity`` literals): pandas objects keep their index (names,
levels, dtypes), column dtypes and values; floats are written with ``repr`` precision and
non-finite ones, tuples and NumPy arrays as small tagged objects (``{"$float": "inf"}``,
``{"$tuple": [...]}``, ``{"$array": [...], "dtype": "float64"}``).

>>> import pandas as pd
>>> s = pd.Series([1.5, float("inf")], index=pd.Index(["tv", "search"], name="channel"))
>>> pd.testing.assert_series_equal(decode_series(encode_series(s)), s)
>>> decode(encode({"bounds": (0.0, float("inf")), "n": 3}))
{'bounds': (0.0, inf), 'n': 3}
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["FORMAT", "decode", "decode_frame", "decode_series", "encode", "encode_frame",
           "encode_series"]

FORMAT = "mmm_jax.BudgetResult/1"
_TAGS = ("$float", "$tuple", "$array", "$items", "$timestamp")


def encode(x):
    """A Python / NumPy value as JSON-able data (inverse: :func:`decode`)."""
    if isinstance(x, np.generic):
        x = x.item()
    if x is None or isinstance(x, bool | int | str):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else {"$float": repr(x)}
    if isinstance(x, pd.Timestamp):
        return {"$timestamp": x.isoformat()}
    if isinstance(x, tuple):
        return {"$tuple": [encode(v) for v in x]}
    if isinstance(x, list):
        return [encode(v) for v in x]
    if isinstance(x, np.ndarray):
        return {"$array": encode(x.tolist()), "dtype": str(x.dtype), "shape": list(x.shape)}
    if isinstance(x, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in x):
            return {k: encode(v) for k, v in x.items()}
        return {"$items": [[encode(k), encode(v)] for k, v in x.items()]}
    raise ValueError(f"cannot write {type(x).__name__} {x!r} to JSON")


def decode(x):
    """Inverse of :func:`encode`."""
    if isinstance(x, list):
        return [decode(v) for v in x]
    if not isinstance(x, dict):
        return x
    tag = next((t for t in _TAGS if t in x), None)
    if tag == "$float":
        return float(x["$float"])
    if tag == "$timestamp":
        return pd.Timestamp(x["$timestamp"])
    if tag == "$tuple":
        return tuple(decode(v) for v in x["$tuple"])
    if tag == "$array":
        return np.array(decode(x["$array"]), dtype=x["dtype"]).reshape(x["shape"])
    if tag == "$items":
        return {decode(k): decode(v) for k, v in x["$items"]}
    return {k: decode(v) for k, v in x.items()}


def _encode_values(values) -> dict:
    values = pd.Index(values) if not isinstance(values, pd.Index | pd.Series) else values
    dtype = str(values.dtype)
    if dtype.startswith("datetime64"):
        items = [t.isoformat() for t in values]
    else:
        items = [encode(v) for v in values.tolist()]
    return {"dtype": dtype, "values": items}


def _decode_values(data: dict, **kwargs) -> pd.Index:
    values = [decode(v) for v in data["values"]]
    if data["dtype"].startswith("datetime64"):
        return pd.DatetimeIndex(values, **kwargs).astype(data["dtype"])
    return pd.Index(values, dtype=data["dtype"], **kwargs)


def encode_index(index: pd.Index) -> dict:
    return {"names": [encode(n) for n in index.names],
            "levels": [_encode_values(index.get_level_values(i)) for i in range(index.nlevels)]}


def decode_index(data: dict) -> pd.Index:
    names = [decode(n) for n in data["names"]]
    levels = [_decode_values(level) for level in data["levels"]]
    if len(levels) == 1:
        return levels[0].rename(names[0])
    return pd.MultiIndex.from_arrays(levels, names=names)


def encode_series(series: pd.Series) -> dict:
    return {"name": encode(series.name), "index": encode_index(series.index),
            **_encode_values(series)}


def decode_series(data: dict) -> pd.Series:
    values = _decode_values(data)
    return pd.Series(values.to_numpy(), index=decode_index(data["index"]),
                     name=decode(data["name"]), dtype=values.dtype)


def encode_frame(frame: pd.DataFrame | None) -> dict | None:
    if frame is None:
        return None
    return {"index": encode_index(frame.index), "columns": encode_index(frame.columns),
            "data": [_encode_values(frame.iloc[:, j]) for j in range(frame.shape[1])]}


def decode_frame(data: dict | None) -> pd.DataFrame | None:
    if data is None:
        return None
    index, columns = decode_index(data["index"]), decode_index(data["columns"])
    cols = [_decode_values(col) for col in data["data"]]
    out = pd.DataFrame({j: pd.Series(col.to_numpy(), index=index, dtype=col.dtype)
                        for j, col in enumerate(cols)}, index=index)
    out.columns = columns
    return out
