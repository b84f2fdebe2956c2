"""Out-of-sample validation: train/test fit metrics of a holdout fit, and rolling-origin
time-slice cross-validation.

A holdout fit (``model.fit(data, holdout=13)``) keeps observations out of the likelihood;
:func:`split_metrics` scores the posterior predictive distribution on the fitted (``train``)
and held-out (``test``) observations: R², MAPE and wMAPE of its mean, CRPS, and the coverage
of its central 90% interval (near 0.9 for a calibrated model). :func:`cross_validate` refits
with the origin rolled forward: every fold has the same shapes (only the holdout mask
changes), so all folds share one compiled program.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmm_jax.metrics import HDI_PROB, predictive_scores

__all__ = ["cross_validate", "split_metrics"]

METRICS = ("r2", "mape", "wmape", "crps", "coverage")


def _predictive(model, seed: int, max_draws: int | None) -> np.ndarray:
    """``(D, *target.shape)`` in-sample posterior predictive draws (noise included)."""
    draws = model.predict(None, seed=seed, max_draws=max_draws)
    return np.moveaxis(draws, 2, 1) if model.data.is_geo else draws


def split_metrics(model, *, prob: float = HDI_PROB, seed: int = 0,
                  max_draws: int | None = 1000) -> pd.DataFrame:
    """Fit metrics of the posterior predictive on the fitted and the held-out observations.

    Args:
        model: a fitted :class:`~mmm_jax.MMM`. prob: the predictive interval whose coverage is
            reported. seed: seed of the predictive noise. max_draws: posterior draws used.

    Returns:
        DataFrame indexed by ``split`` (``train``, plus ``test`` for a holdout fit) with
        ``n`` (observations), ``r2``, ``mape`` (%), ``wmape`` (%), ``crps`` (KPI units) and
        ``coverage`` (share of observations inside the central ``prob`` interval).

    Example:
        >>> model.fit(data, holdout=13)  # doctest: +SKIP
        >>> split_metrics(model).loc["test", ["wmape", "coverage"]]  # doctest: +SKIP
    """
    model._require_fit()
    draws = _predictive(model, seed, max_draws)
    observed = np.asarray(model.data.target, dtype=np.float64)
    held = model.result.holdout
    splits = {"train": ~held if held is not None else np.ones(observed.shape, bool)}
    if held is not None:
        splits["test"] = held
    rows = {name: {"n": int(mask.sum()),
                   **predictive_scores(draws[:, mask], observed[mask], prob)}
            for name, mask in splits.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("split")


def _train_roi(model, train: np.ndarray) -> pd.Series:
    """Mean ROI per channel over the training periods (contribution / spend there)."""
    contrib = model._contribution_draws()  # (D, [G,] T, C)
    spend = np.asarray(model.data.spend, dtype=np.float64)
    weights = train[..., None].astype(np.float64)  # (.., T, 1)
    total = (contrib * weights[None]).reshape(contrib.shape[0], -1, contrib.shape[-1]).sum(1)
    spent = (spend * weights).reshape(-1, spend.shape[-1]).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(spent > 0, total.mean(0) / np.where(spent > 0, spent, 1.0), np.nan)
    return pd.Series(roi, index=list(model.data.channels))


def cross_validate(model, data, *, n_folds: int = 4, horizon: int = 13, prob: float = HDI_PROB,
                   **fit_kwargs) -> pd.DataFrame:
    """Rolling-origin time-slice cross-validation.

    Fold ``k`` (0-based) fits on the periods before its origin ``T - (n_folds - k) *
    horizon`` and scores the next ``horizon`` periods; everything from the origin on is kept
    out of the likelihood. A fresh model with ``model``'s specification is fitted per fold.

    Args:
        model: an :class:`~mmm_jax.MMM` (fitted or not): its specification is used.
        data: the :class:`~mmm_jax.MMMData` to validate on.
        n_folds: number of folds (>= 1). horizon: test periods per fold (>= 1).
        prob: predictive interval whose coverage is reported.
        **fit_kwargs: passed to :meth:`~mmm_jax.MMM.fit` (sampler settings, ``seed``,
            ``check``...); ``holdout`` is set per fold.

    Returns:
        DataFrame indexed by ``fold`` with ``train_end`` (last fitted date), ``test_start``,
        ``test_end``, ``n_train``, the test metrics of :func:`split_metrics` (``r2``,
        ``mape``, ``wmape``, ``crps``, ``coverage``), ``max_rhat``, ``divergences`` and
        ``roi_<channel>``: each channel's posterior-mean ROI over the fold's training periods,
        so the stability of ROI across folds shows. ``mmm_jax.plot.cross_validation`` draws it.

    Raises:
        ValueError: bad ``n_folds``/``horizon``, or folds that leave fewer than 13 training
            periods (from :func:`mmm_jax.holdout.holdout_mask`), or ``holdout`` in
            ``fit_kwargs``.

    Example:
        >>> cv = mj.cross_validate(mj.MMM(), data, n_folds=3, horizon=13,
        ...                        num_warmup=500, num_samples=500)  # doctest: +SKIP
        >>> cv[["wmape", "coverage", "roi_tv"]]  # doctest: +SKIP
    """
    from mmm_jax.mmm import MMM

    for name, value, low in (("n_folds", n_folds, 1), ("horizon", horizon, 1)):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise ValueError(f"{name}={value!r} must be an integer >= {low}")
    if "holdout" in fit_kwargs:
        raise ValueError("cross_validate sets holdout per fold; do not pass holdout=")
    n_time = data.n_time
    rows = []
    for k in range(int(n_folds)):
        origin = n_time - (int(n_folds) - k) * int(horizon)
        period = np.arange(n_time)
        held = period >= origin
        test = (period >= origin) & (period < origin + int(horizon))
        mask = np.broadcast_to(held, data.target.shape) if data.is_geo else held
        fold = MMM(spec=model.spec).fit(data, holdout=mask, **fit_kwargs)
        draws = _predictive(fold, seed=k, max_draws=1000)
        observed = np.asarray(data.target, dtype=np.float64)
        cols = np.broadcast_to(test, observed.shape)
        scores = predictive_scores(draws[:, cols], observed[cols], prob)
        diag = fold.diagnostics()
        roi = _train_roi(fold, np.broadcast_to(~held, observed.shape))
        rows.append({"fold": k, "train_end": data.dates[origin - 1],
                     "test_start": data.dates[origin],
                     "test_end": data.dates[min(origin + int(horizon), n_time) - 1],
                     "n_train": int(origin), **scores, "max_rhat": diag["max_rhat"],
                     "divergences": diag["divergences"],
                     **{f"roi_{c}": float(v) for c, v in roi.items()}})
    return pd.DataFrame(rows).set_index("fold")
