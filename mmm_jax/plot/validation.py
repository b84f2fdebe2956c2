"""Cross-validation: test error and coverage per fold, and each channel's ROI across folds."""

from __future__ import annotations

import pandas as pd

from mmm_jax.plot._common import Figure, channel_colors, figure


def cross_validation(cv: pd.DataFrame) -> Figure:
    """Two panels over the folds of :func:`mmm_jax.cross_validate`: test wMAPE (bars) with the
    90% interval's coverage (line, target 0.9), and each channel's training-window ROI (how
    stable the attribution is as the origin rolls forward).

    Args:
        cv: the DataFrame returned by ``mj.cross_validate(...)``.

    Returns:
        A Figure with two axes.

    Raises:
        ValueError: ``cv`` lacks the ``wmape``/``coverage`` or ``roi_<channel>`` columns.
    """
    channels = [c[len("roi_"):] for c in cv.columns if c.startswith("roi_")]
    missing = [c for c in ("wmape", "coverage") if c not in cv.columns]
    if missing or not channels:
        raise ValueError(f"cross_validation() needs the frame of mj.cross_validate; it has no "
                         f"{missing or 'roi_<channel>'} column(s)")
    fig, axes = figure(1, 2, width=12.0, height=4.0)
    err, roi = axes[0]
    folds = list(cv.index)
    labels = [f"{k}\n{pd.Timestamp(d):%Y-%m-%d}" for k, d in zip(folds, cv["test_start"],
                                                                    strict=True)]
    err.bar(range(len(folds)), cv["wmape"], color="#9ecae1", label="test wMAPE (%)")
    err.set_xticks(range(len(folds)), labels, fontsize=8)
    err.set_ylabel("test wMAPE (%)")
    cov = err.twinx()
    cov.plot(range(len(folds)), cv["coverage"], "o-", color="#d62728", label="90% coverage")
    cov.axhline(0.9, color="#d62728", linestyle="--", linewidth=0.8)
    cov.set_ylim(0.0, 1.05)
    cov.set_ylabel("coverage of the 90% interval")
    err.set_title("Out-of-sample error by fold (test start)")
    colors = channel_colors(channels)
    for channel in channels:
        roi.plot(range(len(folds)), cv[f"roi_{channel}"], "o-", color=colors[channel],
                 label=channel)
    roi.set_xticks(range(len(folds)), [str(k) for k in folds])
    roi.set_xlabel("fold")
    roi.set_ylabel("ROI over the training window")
    roi.legend(fontsize=8, frameon=False)
    roi.set_title("ROI stability across folds")
    return fig
