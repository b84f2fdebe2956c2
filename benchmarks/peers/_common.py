"""Shared helpers for the peer runner scripts (run under each peer's own python).

Only numpy + arviz (present in every peer venv); never imports mmm_jax.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def parse_args(description: str, default_data: str, extra=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default=default_data, help="CSV path")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    if extra is not None:
        extra(p)
    return p.parse_args()


def diagnostics(posterior, diverging, var_names=None) -> dict:
    """Min bulk/tail ESS and max R-hat over every element of the sampled variables.

    ``posterior``: xarray Dataset with (chain, draw, ...) variables. Elements whose ESS is NaN
    (constant / deterministic) are ignored. ``diverging``: array of per-draw divergence flags.
    """
    import arviz as az

    post = posterior if var_names is None else posterior[list(var_names)]
    out, n_params = {}, 0
    for key, kind in (("min_ess_bulk", "bulk"), ("min_ess_tail", "tail")):
        ess = az.ess(post, method=kind)
        vals = np.concatenate([np.ravel(v.values) for v in ess.data_vars.values()])
        n_params = int(np.isfinite(vals).sum())
        out[key] = float(np.nanmin(vals))
    rhat = np.concatenate([np.ravel(v.values) for v in az.rhat(post).data_vars.values()])
    out["max_rhat"] = float(np.nanmax(rhat)) if np.isfinite(rhat).any() else float("nan")
    out["divergences"] = int(np.sum(np.asarray(diverging)))
    out["n_params"] = n_params
    return out


def emit(library: str, version: str, wall_s: float, diag: dict, args, **extra) -> None:
    """Print the single JSON result line (last line of stdout); NaN becomes null."""
    res = {"library": library, "version": version, "wall_s": round(float(wall_s), 3),
           **{k: diag[k] for k in ("min_ess_bulk", "min_ess_tail", "max_rhat", "divergences")},
           "chains": args.chains, "warmup": args.warmup, "samples": args.samples,
           "ess_per_s": diag["min_ess_bulk"] / wall_s, "n_params": diag["n_params"], **extra}
    res = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in res.items()}
    sys.stdout.flush()
    print(json.dumps(res), flush=True)
