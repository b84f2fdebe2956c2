"""Shared helpers of :mod:`mmm_jax.plot`: figures without pyplot, channel colours, PNG bytes."""

from __future__ import annotations

import io
import math

import numpy as np

try:
    from matplotlib.figure import Figure
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("mmm_jax.plot needs matplotlib: pip install 'mmm_jax[plot]'") from err

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
BASELINE_COLOR = "#c7c7c7"
PRIOR_COLOR = "#9e9e9e"


def figure(nrows: int = 1, ncols: int = 1, *, width: float = 10.0, height: float = 4.0,
           **subplots_kw) -> tuple[Figure, np.ndarray]:
    """A constrained-layout :class:`~matplotlib.figure.Figure` and a 2-D array of axes.

    Figures are built without pyplot, so nothing is left open in a global registry and any
    backend (``Agg`` included) can save them.
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplots_kw)
    return fig, axes


def grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    """Rows and columns of a grid holding ``n`` panels."""
    cols = max(1, min(n, max_cols))
    return math.ceil(n / cols), cols


def hide_unused(axes: np.ndarray, used: int) -> None:
    for ax in axes.ravel()[used:]:
        ax.set_visible(False)


def channel_colors(channels) -> dict[str, str]:
    """A stable colour per channel (in the data's channel order)."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(channels)}


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The figure rendered as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def dates_of(model) -> np.ndarray:
    return np.asarray(model.data.dates)


def total_target(model) -> np.ndarray:
    """``(T,)`` observed KPI summed over geos."""
    y = np.asarray(model.data.target, dtype=np.float64)
    return y.sum(axis=0) if model.data.is_geo else y


def total_spend(model) -> np.ndarray:
    """``(C,)`` historical spend per channel, over all periods and geos."""
    return np.asarray(model.data.spend).reshape(-1, model.data.n_channels).sum(axis=0)
