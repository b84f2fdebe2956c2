"""Convergence diagnostics as data, and a separate check that warns.

Thresholds follow Vehtari et al. (2021) and Stan/ArviZ practice: rank-normalised split R-hat
<= 1.01, bulk and tail ESS >= 400 (100 per chain for 4 chains), no divergent transitions.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np

from mmm_jax._arviz import TAIL_PROB

RHAT_MAX = 1.01
ESS_MIN = 400
TREE_DEPTH_SATURATION_MAX = 0.05


class ConvergenceWarning(UserWarning):
    """Raised (as a warning) when a fit misses a convergence threshold."""


def _per_parameter(values) -> dict[str, float]:
    """Worst value per parameter: ArviZ Dataset -> {name[index]: value}."""
    out = {}
    for name, da in values.data_vars.items():
        arr = np.asarray(da.values, dtype=np.float64)
        if arr.ndim == 0:
            out[name] = float(arr)
            continue
        for idx in np.ndindex(arr.shape):
            out[f"{name}[{','.join(map(str, idx))}]"] = float(arr[idx])
    return out


def compute(samples: dict, stats: dict, max_tree_depth: int) -> dict:
    """Diagnostics of a NUTS run.

    Args:
        samples: site -> ``(chain, draw, ...)`` constrained draws.
        stats: sampler statistics (``diverging``, ``tree_depth`` ... each ``(chain, draw)``).
        max_tree_depth: the cap used, to report how often it was hit.

    Returns:
        dict with ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``, ``divergences``,
        ``tree_depth_saturation`` (share of draws at the cap), ``mean_steps`` (leapfrog steps
        per draw), the worst parameters (``worst_rhat``, ``worst_ess_bulk``,
        ``worst_ess_tail``), and per-parameter ``rhat``/``ess_bulk``/``ess_tail`` dicts.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> d = compute({"a": rng.normal(size=(4, 500))},
    ...             {"diverging": np.zeros((4, 500), bool), "tree_depth": np.ones((4, 500)),
    ...              "num_steps": np.ones((4, 500))}, 10)
    >>> d["max_rhat"] < 1.01, d["divergences"]
    (True, 0)
    """
    post = {k: np.asarray(v) for k, v in samples.items()}
    n_chains = next(iter(samples.values())).shape[0]
    # a component that never moves (e.g. effectiveness pinned to 1) is not a parameter
    fixed = {f"{k}[{','.join(map(str, idx))}]" if v.ndim > 2 else k
             for k, v in post.items()
             for idx in np.argwhere(np.ptp(v.reshape(-1, *v.shape[2:]), axis=0) == 0)}
    with warnings.catch_warnings():  # ArviZ divides by zero on the fixed components
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = _per_parameter(az.rhat(post, method="rank")) if n_chains > 1 else {}
        ess_bulk = _per_parameter(az.ess(post, method="bulk"))
        ess_tail = _per_parameter(az.ess(post, method="tail", prob=TAIL_PROB))
    rhat, ess_bulk, ess_tail = ({k: v for k, v in d.items() if k not in fixed}
                                for d in (rhat, ess_bulk, ess_tail))
    rhat = {k: (v if np.isfinite(v) else np.inf) for k, v in rhat.items()}
    worst_rhat = max(rhat, key=rhat.get) if rhat else None
    worst_bulk = min(ess_bulk, key=ess_bulk.get)
    worst_tail = min(ess_tail, key=ess_tail.get)
    return {
        "max_rhat": float(rhat[worst_rhat]) if rhat else float("nan"),
        "min_ess_bulk": float(ess_bulk[worst_bulk]),
        "min_ess_tail": float(ess_tail[worst_tail]),
        "divergences": int(np.sum(stats["diverging"])),
        "tree_depth_saturation": float(np.mean(stats["tree_depth"] >= max_tree_depth)),
        "mean_steps": float(np.mean(stats["num_steps"])),
        "worst_rhat": worst_rhat,
        "worst_ess_bulk": worst_bulk,
        "worst_ess_tail": worst_tail,
        "num_chains": int(n_chains),
        "num_draws": int(next(iter(samples.values())).shape[1]),
        "rhat": rhat,
        "ess_bulk": ess_bulk,
        "ess_tail": ess_tail,
    }


def problems(diag: dict) -> list[str]:
    """Human-readable list of missed thresholds (empty when the run passes)."""
    out = []
    if diag["num_chains"] < 2:
        out.append("R-hat needs >= 2 chains; run num_chains=4")
    elif not diag["max_rhat"] <= RHAT_MAX:
        bad = sorted(k for k, v in diag["rhat"].items() if not v <= RHAT_MAX)
        out.append(f"R-hat {diag['max_rhat']:.3f} > {RHAT_MAX} for {_names(bad)}")
    for kind in ("bulk", "tail"):
        values = diag[f"ess_{kind}"]
        if diag[f"min_ess_{kind}"] < ESS_MIN:
            bad = sorted(k for k, v in values.items() if v < ESS_MIN)
            out.append(f"{kind} ESS {diag[f'min_ess_{kind}']:.0f} < {ESS_MIN} for {_names(bad)}")
    if diag["divergences"] > 0:
        out.append(f"{diag['divergences']} divergent transitions after warmup; raise "
                   "target_accept (e.g. 0.95) or use tighter priors")
    if diag["tree_depth_saturation"] > TREE_DEPTH_SATURATION_MAX:
        out.append(f"{diag['tree_depth_saturation']:.0%} of draws hit the maximum tree depth")
    return out


def _names(bad: list[str], limit: int = 6) -> str:
    more = f" and {len(bad) - limit} more" if len(bad) > limit else ""
    return ", ".join(bad[:limit]) + more


def check(diag: dict, *, warn: bool = True) -> bool:
    """Return True when every threshold holds; otherwise warn (``ConvergenceWarning``) naming
    the parameters and return False."""
    issues = problems(diag)
    if issues and warn:
        warnings.warn("convergence check failed: " + "; ".join(issues) +
                      ". Run longer chains (num_warmup/num_samples) or revisit priors.",
                      ConvergenceWarning, stacklevel=3)
    return not issues
