"""Recovery study: coverage of the true channel ROI by the 90% posterior interval.

For each length (104 and 520 weeks) simulate N national datasets with known truth
(``mmm_jax.simulate(seed=...)``: 3 channels, geometric adstock + Hill, one control; the
simulator is NumPy and independent of the model code), fit them all with
:func:`mmm_jax.fit_many` (one compiled program) and count how often the 90% HDI of each
channel's ROI contains the true ROI. Also records R-hat, ESS and divergences per fit.

Calibrated intervals cover about 90%; the verdict uses the central 99% band of
Binomial(n_intervals, 0.9) (intervals within one dataset are correlated, so the band is a
guide, not an exact test). The simulator's generating model is not the fitted model's prior
(different parameterisation and priors), so this checks recovery under realistic
misspecification of the priors; SBC (``benchmarks/sbc.py``) checks exact calibration.

Usage::

    python -m benchmarks.recovery [--datasets 20] [--lengths 104,520] [--out DIR]

Writes ``recovery.json`` and ``recovery.md``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
import warnings

import numpy as np

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
COLUMNS = dict(date="date", target="sales", media=["tv", "search", "social"],
               controls=["price"])


def coverage_band(n: int, level: float = 0.9, band: float = 0.99) -> tuple[int, int]:
    """Central ``band`` interval of Binomial(n, level): the counts a calibrated run gives."""
    from scipy import stats

    tail = (1 - band) / 2
    return int(stats.binom.ppf(tail, n, level)), int(stats.binom.isf(tail, n, level))


def run(n_datasets: int = 20, n_periods: int = 104, warmup: int = 1000, samples: int = 1000,
        chains: int = 4, seed: int = 0) -> dict:
    """Simulate, fit with ``fit_many`` and score ROI coverage; returns a JSON-ready record."""
    import mmm_jax as mj

    frames = [mj.simulate(seed=seed + k, n_periods=n_periods) for k in range(n_datasets)]
    data = [mj.MMMData.from_dataframe(df, **COLUMNS) for df, _ in frames]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        models = mj.fit_many(data, num_warmup=warmup, num_samples=samples, num_chains=chains,
                             seed=seed, progress_bar=False, check=False)
    seconds = time.perf_counter() - start
    fits = []
    for k, (model, (_, truth)) in enumerate(zip(models, frames, strict=True)):
        roi = model.roi()
        d = model.diagnostics()
        fits.append({
            "seed": seed + k,
            "true_roi": {c: truth["roi"][c] for c in roi.index},
            "roi_mean": roi["mean"].round(4).to_dict(),
            "covered": {c: bool(roi.loc[c, "hdi_low"] <= truth["roi"][c] <= roi.loc[c, "hdi_high"])
                        for c in roi.index},
            "max_rhat": round(d["max_rhat"], 4), "min_ess_bulk": round(d["min_ess_bulk"], 1),
            "divergences": d["divergences"],
        })
    hits = [v for f in fits for v in f["covered"].values()]
    low, high = coverage_band(len(hits))
    per_channel = {c: float(np.mean([f["covered"][c] for f in fits])) for c in COLUMNS["media"]}
    return {
        "n_periods": n_periods, "datasets": n_datasets,
        "sampler": {"warmup": warmup, "samples": samples, "chains": chains},
        "intervals": len(hits), "covered": int(sum(hits)), "coverage": sum(hits) / len(hits),
        "band_99": [low, high], "pass": bool(low <= sum(hits) <= high),
        "coverage_by_channel": per_channel,
        "max_rhat": max(f["max_rhat"] for f in fits),
        "min_ess_bulk": min(f["min_ess_bulk"] for f in fits),
        "divergences": sum(f["divergences"] for f in fits),
        "fit_many_seconds": round(seconds, 1), "fits": fits,
    }


def _markdown(rows: list[dict], machine: dict) -> str:
    lines = ["# Recovery study: 90% ROI interval coverage", "",
             f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['backend']}; "
             "`python -m benchmarks.recovery`.", "",
             "| weeks | datasets | covered / intervals | coverage | 99% band | tv | search | "
             "social | max R-hat | min ESS | divergences | fit_many s | verdict |",
             "|" + "---|" * 13]
    for r in rows:
        ch = r["coverage_by_channel"]
        lines.append(
            f"| {r['n_periods']} | {r['datasets']} | {r['covered']} / {r['intervals']} | "
            f"{r['coverage']:.2f} | {r['band_99'][0]}-{r['band_99'][1]} | {ch['tv']:.2f} | "
            f"{ch['search']:.2f} | {ch['social']:.2f} | {r['max_rhat']} | {r['min_ess_bulk']} | "
            f"{r['divergences']} | {r['fit_many_seconds']} | "
            f"{'PASS' if r['pass'] else 'FAIL'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from benchmarks._machine import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--lengths", default="104,520")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    rows = []
    for n in [int(v) for v in args.lengths.split(",")]:
        row = run(args.datasets, n, args.warmup, args.samples)
        print(f"{n} weeks: {row['covered']}/{row['intervals']} covered "
              f"(99% band {row['band_99']}), max R-hat {row['max_rhat']}, "
              f"{row['divergences']} divergences, {row['fit_many_seconds']} s", flush=True)
        rows.append(row)
    info = machine()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recovery.json").write_text(json.dumps({"machine": info, "results": rows}, indent=2))
    (out / "recovery.md").write_text(_markdown(rows, info))
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
