"""Convergence diagnostics: R-hat and ESS per parameter, and a rank plot of the worst one."""

from __future__ import annotations

import re

import numpy as np

from mmm_jax.diagnostics import ESS_MIN, RHAT_MAX
from mmm_jax.plot._common import PALETTE, Figure, figure


def _values(model, name: str) -> np.ndarray:
    """``(chain, draw)`` draws of a parameter named like ``beta[1]`` or ``trend``."""
    m = re.fullmatch(r"(\w+)(?:\[([\d,]+)\])?", name)
    site, idx = m.group(1), m.group(2)
    x = np.asarray(model.samples[site])
    if idx:
        x = x[(slice(None), slice(None), *map(int, idx.split(",")))]
    return x


def parameter_labels(model, names) -> list[str]:
    """``slope[0]`` -> ``slope[tv]``: indices replaced by coordinate labels."""
    from mmm_jax.inference_data import site_coords as _coords
    from mmm_jax.inference_data import site_dims as _dims

    dims, coords = _dims(model), _coords(model)
    out = []
    for name in names:
        m = re.fullmatch(r"(\w+)\[([\d,]+)\]", name)
        if m is None or m.group(1) not in dims:
            out.append(name)
            continue
        idx = [int(i) for i in m.group(2).split(",")]
        labels = [str(coords[d][i]) if d in coords and i < len(coords[d]) else str(i)
                  for d, i in zip(dims[m.group(1)], idx, strict=False)]
        out.append(f"{m.group(1)}[{','.join(labels)}]")
    return out


def convergence(model, *, top: int = 15) -> Figure:
    """Three panels: the ``top`` largest R-hats (line at 1.01), the ``top`` smallest bulk and
    tail ESS (line at 400), and the rank histogram per chain of the worst-R-hat parameter
    (flat and alike when chains agree). The title gives the gate's verdict.

    Args:
        model: a fitted :class:`mmm_jax.MMM`. top: parameters shown per panel.

    Returns:
        A Figure with three axes.
    """
    d = model.diagnostics(detail=True)
    fig, axes = figure(1, 3, width=14.0, height=0.9 + 0.28 * top)
    ax_r, ax_e, ax_rank = axes[0]
    if d["rhat"]:
        worst = sorted(d["rhat"], key=d["rhat"].get, reverse=True)[:top][::-1]
        vals = [d["rhat"][k] for k in worst]
        ax_r.barh(parameter_labels(model, worst), [v - 1.0 for v in vals], left=1.0,
                  color=["#d62728" if not v <= RHAT_MAX else "#2ca02c" for v in vals])
        ax_r.axvline(RHAT_MAX, color="black", linestyle="--", linewidth=0.8)
        ax_r.set_xlim(1.0, max(RHAT_MAX * 1.005, max(vals) * 1.002))
    else:
        ax_r.text(0.5, 0.5, "R-hat needs >= 2 chains", ha="center", transform=ax_r.transAxes)
    ax_r.set_title("largest R-hat")
    ax_r.tick_params(axis="y", labelsize=7)

    low = sorted(d["ess_bulk"], key=d["ess_bulk"].get)[:top][::-1]
    y = np.arange(len(low))
    ax_e.barh(y + 0.2, [d["ess_bulk"][k] for k in low], height=0.4, color="#1f77b4",
              label="bulk")
    ax_e.barh(y - 0.2, [d["ess_tail"][k] for k in low], height=0.4, color="#ff7f0e",
              label="tail")
    ax_e.axvline(ESS_MIN, color="black", linestyle="--", linewidth=0.8)
    ax_e.set_yticks(y, parameter_labels(model, low))
    ax_e.tick_params(axis="y", labelsize=7)
    ax_e.legend(fontsize=8, frameon=False, loc="lower right")
    ax_e.set_title("smallest ESS")

    name = d["worst_rhat"] or d["worst_ess_bulk"]
    draws = _values(model, name)
    ranks = np.empty(draws.size)
    ranks[np.argsort(draws.ravel(), kind="stable")] = np.arange(1, draws.size + 1)
    ranks = ranks.reshape(draws.shape)
    bins = np.linspace(0.5, draws.size + 0.5, 21)
    for c in range(draws.shape[0]):
        ax_rank.hist(ranks[c], bins=bins, histtype="step", linewidth=1.3,
                     color=PALETTE[c % len(PALETTE)], label=f"chain {c}")
    ax_rank.axhline(draws.shape[1] / 20, color="grey", linestyle=":", linewidth=0.8)
    ax_rank.set_yticks([])
    ax_rank.set_xlabel("rank over all chains")
    ax_rank.legend(fontsize=7, frameon=False, ncol=2)
    ax_rank.set_title(f"rank plot: {parameter_labels(model, [name])[0]}")

    verdict = "PASS" if d["passed"] else "FAIL"
    rhat = f"{d['max_rhat']:.3f}" if np.isfinite(d["max_rhat"]) else "n/a"
    fig.suptitle(f"Convergence {verdict}: max R-hat {rhat}, min ESS bulk "
                 f"{d['min_ess_bulk']:.0f} / tail {d['min_ess_tail']:.0f}, "
                 f"{d['divergences']} divergences")
    return fig
