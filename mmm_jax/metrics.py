"""Posterior summaries as pandas DataFrames: mean and highest-density interval (HDI)."""

from __future__ import annotations

import numpy as np
import pandas as pd

HDI_PROB = 0.9


def hdi(x, prob: float = HDI_PROB) -> tuple[np.ndarray, np.ndarray]:
    """Narrowest interval holding ``prob`` of the draws, along axis 0.

    Args:
        x: ``(D, ...)`` draws. prob: interval probability in (0, 1).

    Returns:
        ``(low, high)``, each shaped ``x.shape[1:]``.

    >>> low, high = hdi(np.arange(100.0), 0.9)
    >>> float(high - low)  # the 91 draws 0..90 (floor(0.9 * 100) + 1, as ArviZ)
    90.0
    """
    if not 0.0 < prob < 1.0:
        raise ValueError(f"hdi prob={prob!r} must be in (0, 1), e.g. 0.9")
    x = np.sort(np.asarray(x, dtype=np.float64), axis=0)
    n = x.shape[0]
    k = max(int(np.floor(prob * n)), 1)
    if k >= n:
        return x[0], x[-1]
    widths = x[k:] - x[: n - k]
    start = np.argmin(widths, axis=0)
    low = np.take_along_axis(x, start[None], axis=0)[0]
    high = np.take_along_axis(x, (start + k)[None], axis=0)[0]
    return low, high


def summarize(draws, index, prob: float = HDI_PROB, name: str | None = None) -> pd.DataFrame:
    """Mean and HDI of ``(D, n)`` draws as a DataFrame indexed by ``index`` (length n).

    >>> summarize(np.ones((10, 2)), pd.Index(["tv", "search"], name="channel"))["mean"].tolist()
    [1.0, 1.0]
    """
    draws = np.asarray(draws, dtype=np.float64)
    low, high = hdi(draws, prob)
    out = pd.DataFrame({"mean": draws.mean(axis=0), "hdi_low": low, "hdi_high": high},
                       index=index)
    if name is not None:
        out.columns.name = name
    return out


def fit_statistics(observed, predicted) -> dict:
    """R-squared and MAPE (in %) of predicted vs observed KPI (any matching shapes).

    >>> fit_statistics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    {'r2': 1.0, 'mape': 0.0}
    """
    y = np.asarray(observed, dtype=np.float64).ravel()
    f = np.asarray(predicted, dtype=np.float64).ravel()
    ss_res = np.sum((y - f) ** 2)
    ss_tot = np.sum((y - y.mean()) ** 2)
    nonzero = y != 0
    mape = float(np.mean(np.abs((y[nonzero] - f[nonzero]) / y[nonzero])) * 100.0)
    return {"r2": float(1.0 - ss_res / ss_tot), "mape": mape}


def crps(draws, observed) -> float:
    """Mean continuous ranked probability score of predictive ``draws`` against ``observed``.

    Uses the energy form ``E|X - y| - E|X - X'| / 2`` per observation (the sample estimator
    on sorted draws, exact for the empirical distribution), averaged over observations; in
    the KPI's units, lower is better.

    Args:
        draws: ``(D, n...)`` predictive draws. observed: ``(n...)`` observations.

    >>> round(crps(np.array([[0.0], [1.0]]), np.array([0.0])), 6)  # 0.5 - 0.25
    0.25
    """
    x = np.sort(np.asarray(draws, dtype=np.float64).reshape(np.shape(draws)[0], -1), axis=0)
    y = np.asarray(observed, dtype=np.float64).ravel()
    d = x.shape[0]
    term1 = np.mean(np.abs(x - y[None]), axis=0)
    # E|X - X'| for the empirical distribution: 2 / D^2 * sum_i (2 i - D - 1) x_(i)
    weights = (2.0 * np.arange(1, d + 1) - d - 1.0)[:, None]
    term2 = 2.0 * np.sum(weights * x, axis=0) / d**2
    return float(np.mean(term1 - 0.5 * term2))


def predictive_scores(draws, observed, prob: float = HDI_PROB) -> dict:
    """Fit of a predictive distribution: ``r2``, ``mape`` (%), ``wmape`` (%) of its mean,
    ``crps`` and ``coverage`` (share of observations inside the central ``prob`` interval).

    Args:
        draws: ``(D, n...)`` predictive draws (with observation noise). observed: ``(n...)``.

    >>> rng = np.random.default_rng(0)  # observations from the predictive distribution
    >>> scores = predictive_scores(rng.normal(10, 1, (4000, 400)), rng.normal(10, 1, 400))
    >>> 0.85 < scores["coverage"] < 0.95, 0.5 < scores["crps"] < 0.65  # N(0,1): 0.56
    (True, True)
    """
    draws = np.asarray(draws, dtype=np.float64).reshape(np.shape(draws)[0], -1)
    y = np.asarray(observed, dtype=np.float64).ravel()
    mean = draws.mean(axis=0)
    out = fit_statistics(y, mean) if y.size > 1 and np.ptp(y) > 0 else {
        "r2": float("nan"), "mape": float("nan")}
    total = np.sum(np.abs(y))
    out["wmape"] = float(np.sum(np.abs(y - mean)) / total * 100.0) if total > 0 else float("nan")
    out["crps"] = crps(draws, y)
    low, high = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    out["coverage"] = float(np.mean((y >= low) & (y <= high)))
    return out
