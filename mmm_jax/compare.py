"""Rank fitted models by PSIS-LOO (ArviZ), with the same columns on ArviZ 0.x and 1.x.

The pointwise log likelihood is that of the KPI in original units (see
:mod:`mmm_jax.inference_data`), so models with different transforms, priors or likelihoods
fitted on the same data compare directly. A fit with a holdout is scored on its fitted
observations only; models compared must share the data and the holdout.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import arviz as az
import numpy as np
import pandas as pd

from mmm_jax import _arviz
from mmm_jax.inference_data import loo_data

K_BAD = 0.7  # Pareto k above which the PSIS estimate of an observation is unreliable
COLUMNS = ("rank", "elpd_loo", "p_loo", "elpd_diff", "se", "dse", "weight", "warning",
           "pareto_k_max", "pareto_k_bad_share")


class ParetoKWarning(UserWarning):
    """PSIS-LOO is unreliable for a model: some Pareto k values are too large."""


def compare(models: Mapping, *, ic: str = "loo") -> pd.DataFrame:
    """Rank fitted models by expected log predictive density (PSIS-LOO, ``az.compare``).

    Args:
        models: ``{name: fitted MMM}`` (at least two), all fitted on the same data.
        ic: information criterion; only ``"loo"`` (ArviZ 1.x has no WAIC in ``compare``).

    Returns:
        DataFrame indexed by model name, best first, with columns ``rank`` (0 = best),
        ``elpd_loo`` (higher is better), ``p_loo`` (effective number of parameters),
        ``elpd_diff`` (``>= 0``: the best model's ``elpd_loo`` minus this one's), ``se``,
        ``dse`` (standard error of ``elpd_diff``), ``weight`` (stacking), ``warning``
        (ArviZ's Pareto-k flag), ``pareto_k_max`` and ``pareto_k_bad_share`` (share of
        observations with k > 0.7).

    Raises:
        ValueError: fewer than two models, an unfitted model or a non-MMM, models fitted on
            different data (KPI, dates, geos or holdout), or another ``ic``.

    Warns:
        ParetoKWarning: a model's PSIS-LOO is unreliable (names it, with its max k).

    Example:
        >>> import mmm_jax as mj
        >>> data = mj.MMMData.from_dataframe(mj.load_example("national"), date="date",
        ...     target="sales", media=["tv", "search", "social"], controls=["price"])
        >>> fit = dict(num_warmup=200, num_samples=200, num_chains=2, progress_bar=False)
        >>> models = {s: mj.MMM(saturation=s).fit(data, **fit)
        ...           for s in ("hill", "logistic")}  # doctest: +SKIP
        >>> compare(models)[["rank", "elpd_loo", "elpd_diff", "weight"]]  # doctest: +SKIP
    """
    if ic != "loo":
        raise ValueError(f"ic={ic!r} is not supported; use ic='loo' (PSIS-LOO)")
    if not isinstance(models, Mapping) or len(models) < 2:
        raise ValueError("compare needs a dict of at least two fitted models, "
                         "e.g. compare({'hill': m1, 'logistic': m2})")
    results = {str(name): _result(name, m) for name, m in models.items()}
    _check_same_data(results)
    elpd = {}
    for name, result in results.items():
        with warnings.catch_warnings():  # ArviZ's Pareto warning names no model; ours does
            warnings.simplefilter("ignore", UserWarning)
            elpd[name] = az.loo(loo_data(result), pointwise=True)
    with warnings.catch_warnings():  # Pareto and deprecation notices from ArviZ's internals
        warnings.simplefilter("ignore")
        table = (az.compare(elpd, round_to="none") if _arviz.ARVIZ_1
                 else az.compare(elpd, ic="loo"))
    out = _normalise(table, elpd)
    for name, row in out.iterrows():
        if row["warning"] or row["pareto_k_max"] > K_BAD:
            warnings.warn(
                f"model {name!r}: PSIS-LOO is unreliable, {row['pareto_k_bad_share']:.1%} of "
                f"observations have Pareto k > {K_BAD} (max {row['pareto_k_max']:.2f}); treat "
                "its elpd_loo with caution (more draws, a Student-t likelihood or K-fold CV "
                "help)", ParetoKWarning, stacklevel=2)
    return out


def _result(name, model):
    if not hasattr(model, "result"):
        raise ValueError(f"models[{name!r}] is a {type(model).__name__}, not an mmm_jax.MMM")
    result = model.result
    if result is None:
        raise ValueError(f"models[{name!r}] is not fitted; call .fit(data) first")
    return result


def _check_same_data(results: dict) -> None:
    names = list(results)
    ref = results[names[0]]
    for name in names[1:]:
        other = results[name]
        for what, a, b in (("dates", ref.data.dates, other.data.dates),
                           ("geos", ref.data.geos, other.data.geos),
                           ("KPI", ref.data.target, other.data.target),
                           ("holdout", getattr(ref, "holdout", None),
                            getattr(other, "holdout", None))):
            same = (a is None and b is None) or (
                a is not None and b is not None and np.shape(a) == np.shape(b)
                and np.array_equal(np.asarray(a), np.asarray(b)))
            if not same:
                raise ValueError(f"models {names[0]!r} and {name!r} were fitted on different "
                                 f"data ({what} differ); PSIS-LOO compares models of the same "
                                 "observations")


def _stat(elpd, old: str, new: str):
    """A field of an ELPDData on ArviZ 0.x (``elpd[old]``) or 1.x (``elpd.new``)."""
    return getattr(elpd, new) if _arviz.ARVIZ_1 else elpd[old]


def _normalise(table: pd.DataFrame, elpd: dict) -> pd.DataFrame:
    names = list(table.index)
    value = np.array([float(_stat(elpd[n], "elpd_loo", "elpd")) for n in names])
    k = {n: np.asarray(_stat(elpd[n], "pareto_k", "pareto_k")).ravel() for n in names}
    out = pd.DataFrame({
        "rank": np.arange(len(names)),
        "elpd_loo": value,
        "p_loo": [float(_stat(elpd[n], "p_loo", "p")) for n in names],
        "elpd_diff": value.max() - value,
        "se": [float(_stat(elpd[n], "se", "se")) for n in names],
        "dse": table["dse"].to_numpy(dtype=float),
        "weight": table["weight"].to_numpy(dtype=float),
        "warning": [bool(_stat(elpd[n], "warning", "warning")) for n in names],
        "pareto_k_max": [float(np.max(k[n])) for n in names],
        "pareto_k_bad_share": [float(np.mean(k[n] > K_BAD)) for n in names]},
        index=pd.Index(names, name="model"))
    order = np.argsort(-value, kind="stable")
    out = out.iloc[order]
    out["rank"] = np.arange(len(names))
    return out[list(COLUMNS)]
