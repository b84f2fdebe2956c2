"""Write a fitted model's tables to a directory: CSV files and, with openpyxl, one workbook.

Files (see :meth:`mmm_jax.MMM.export`): ``channel_summary.csv``, ``contributions.csv``,
``fit_metrics.csv``, ``diagnostics.csv``, ``forecast.csv`` (when future periods are given) and
``model.xlsx`` with one sheet per table when ``openpyxl`` is installed
(``pip install mmm_jax[export]``). Every table is computed before anything is written, and each
file is written under a temporary name in the same directory and then renamed, so a failure
never leaves a half-written file under a final name.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile

import numpy as np
import pandas as pd

from mmm_jax.metrics import HDI_PROB

__all__ = ["WORKBOOK", "export", "tables"]

WORKBOOK = "model.xlsx"


def _scalar_frame(values: dict) -> pd.DataFrame:
    """A ``metric -> value`` table of the scalar entries of ``values``."""
    rows = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in values.items()
            if np.ndim(v) == 0 and not isinstance(v, dict)}
    return pd.DataFrame({"value": pd.Series(rows, dtype=object)}).rename_axis("metric")


def tables(model, future: pd.DataFrame | None = None, *, hdi_prob: float = HDI_PROB,
           max_draws: int | None = None) -> dict[str, pd.DataFrame]:
    """The exported tables by name, in file order (``forecast`` only with ``future``).

    Raises:
        ValueError: an unfitted model or bad future data (named column and date).
    """
    model._require_fit()
    out = {
        "channel_summary": model.channel_summary(hdi_prob),
        "contributions": model.contributions(by_geo=model.data.is_geo),
        # the train/test table of the posterior predictive (train only without a holdout)
        "fit_metrics": model.fit_metrics(by_split=True),
        "diagnostics": _scalar_frame(model.diagnostics()),
    }
    if future is not None:
        out["forecast"] = model.forecast(future, hdi_prob=hdi_prob, max_draws=max_draws)
    return out


@contextlib.contextmanager
def _atomic(final: pathlib.Path):
    """Yield a temporary path beside ``final``; rename it to ``final`` on success only."""
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.stem}.",
                               suffix=f".tmp{final.suffix}")
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _has_openpyxl() -> bool:
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        return False
    return True


def export(model, path, future: pd.DataFrame | None = None, *, hdi_prob: float = HDI_PROB,
           max_draws: int | None = None) -> list[pathlib.Path]:
    """Write the tables of :func:`tables` as CSV files (and ``model.xlsx``) into ``path``.

    Returns:
        The written paths, CSV files first, the workbook last (absent without openpyxl).
    """
    frames = tables(model, future, hdi_prob=hdi_prob, max_draws=max_draws)
    path = pathlib.Path(path)
    path.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames.items():
        final = path / f"{name}.csv"
        with _atomic(final) as tmp:
            frame.to_csv(tmp)
        written.append(final)
    if _has_openpyxl():
        final = path / WORKBOOK
        with _atomic(final) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in frames.items():
                frame.to_excel(writer, sheet_name=name)
        written.append(final)
    return written
