"""Recovery on hard simulated truth: the study that chooses the modelling defaults.

For each scenario of :func:`mmm_jax.simulate` (``curved_baseline``, ``correlated_spend``,
``no_effect``, ``time_varying``, ``confounded``; 4 channels x 156 weeks, one control) and each
seed, fit a model configuration with and without the simulated lift tests (one experiment per
channel, sd 10% of the lift) and score the ROI against the truth:

* absolute relative ROI error of the channels with an effect (mean and median);
* coverage of their 90% HDIs, against the central 99% band of Binomial(n, 0.9);
* interval width relative to the true ROI (median), divergences, R-hat;
* the no-effect channel (``no_effect``): where its interval ends, as a share of the largest
  true ROI (it should reach down to within 5%);
* ``time_varying``: the correlation of each channel's weekly posterior-mean contribution with
  the true one.

The simulator is NumPy and independent of the model code. Usage::

    python -m benchmarks.scenario_recovery --configs default --seeds 20 [--scenarios ...]
        [--lift both|no|yes] [--out DIR] [--tag NAME]

Writes ``scenario_recovery_<tag>.json`` (every fit) and ``.md`` (the table).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
import warnings

import numpy as np

from benchmarks.recovery import coverage_band

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
CHANNELS = ("tv", "search", "social", "radio")
SCENARIOS = ("curved_baseline", "correlated_spend", "no_effect", "time_varying", "confounded")
#: candidate model configurations (keyword arguments of mmm_jax.MMM).
CONFIGS = {
    "default": {},
    "linear": {"media_prior": "contribution", "baseline": "linear"},
    "piecewise": {"media_prior": "contribution", "baseline": "piecewise"},
    "coefficient_linear": {"media_prior": "coefficient", "baseline": "linear"},
    "coefficient_piecewise": {"media_prior": "coefficient", "baseline": "piecewise"},
}


def fit_one(scenario: str, seed: int, options: dict, lift: bool, sampler: dict,
            n_periods: int = 156) -> dict:
    """Simulate one dataset, fit it, score it; a JSON-ready record."""
    import mmm_jax as mj

    df, truth = mj.simulate(seed=seed, n_periods=n_periods, channels=CHANNELS,
                            scenario=scenario)
    data = mj.MMMData.from_dataframe(df, date="date", target="sales", media=list(CHANNELS),
                                     controls=["price"])
    model = mj.MMM(**options)
    if scenario == "time_varying" and "time_varying_media" not in options:
        model = mj.MMM(**{**options, "time_varying_media": True})
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        model.fit(data, lift_tests=truth["lift_tests"] if lift else None, seed=seed,
                  progress_bar=False, check=False, **sampler)
    seconds = time.perf_counter() - start
    roi, diag = model.roi(), model.diagnostics()
    true = truth["roi"]
    record = {
        "scenario": scenario, "seed": seed, "lift": lift, "seconds": round(seconds, 2),
        "true_roi": true, "roi_mean": roi["mean"].to_dict(),
        "hdi_low": roi["hdi_low"].to_dict(), "hdi_high": roi["hdi_high"].to_dict(),
        "max_rhat": float(diag["max_rhat"]), "min_ess_bulk": float(diag["min_ess_bulk"]),
        "divergences": int(diag["divergences"]),
    }
    if model.spec.time_varying_media:
        contrib = model.contributions()
        record["contribution_corr"] = {
            c: float(np.corrcoef(contrib[c].to_numpy(), truth["contributions"][c])[0, 1])
            for c in CHANNELS}
    return record


def summarize(fits: list[dict]) -> dict:
    """The study's row for a list of fits of one scenario and configuration."""
    err, hits, width, zero_reach, corr = [], [], [], [], []
    for f in fits:
        largest = max(f["true_roi"].values())
        for c, t in f["true_roi"].items():
            low, high, mean = f["hdi_low"][c], f["hdi_high"][c], f["roi_mean"][c]
            if t == 0:  # the no-effect channel: where its interval ends
                zero_reach.append(low / largest)
                continue
            err.append(abs(mean / t - 1))
            hits.append(low <= t <= high)
            width.append((high - low) / t)
        corr.extend(f.get("contribution_corr", {}).values())
    band = coverage_band(len(hits))
    out = {
        "fits": len(fits), "mean_abs_rel_err": float(np.mean(err)),
        "median_abs_rel_err": float(np.median(err)), "covered": int(sum(hits)),
        "intervals": len(hits), "band_99": list(band),
        "coverage_pass": bool(band[0] <= sum(hits) <= band[1]),
        "median_rel_width": float(np.median(width)),
        "divergence_free": float(np.mean([f["divergences"] == 0 for f in fits])),
        "divergences": int(sum(f["divergences"] for f in fits)),
        "max_rhat": float(max(f["max_rhat"] for f in fits)),
        "rhat_ok": float(np.mean([f["max_rhat"] <= 1.01 for f in fits])),
        "seconds": float(np.mean([f["seconds"] for f in fits])),
    }
    if zero_reach:
        out["zero_reach_ok"] = float(np.mean([z <= 0.05 for z in zero_reach]))
        out["zero_hdi_low_median"] = float(np.median(zero_reach))
    if corr:
        out["contribution_corr_median"] = float(np.median(corr))
        out["contribution_corr_min"] = float(np.min(corr))
        out["contribution_corr_ok"] = float(np.mean([c >= 0.9 for c in corr]))
    return out


def markdown(rows: list[dict], machine: dict, sampler: dict) -> str:
    lines = ["# Recovery on hard simulated scenarios", "",
             f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['backend']}; "
             f"`python -m benchmarks.scenario_recovery`; 4 channels x 156 weeks; NUTS "
             f"{sampler['num_chains']} chains x ({sampler['num_warmup']} + "
             f"{sampler['num_samples']}).", "",
             "| config | scenario | lift tests | fits | mean err | median err | covered | "
             "99% band | median width | no-effect low / max ROI (ok) | contrib corr median "
             "(>= 0.9) | 0-div fits | max R-hat | R-hat ok | s/fit |",
             "|" + "---|" * 15]
    for r in rows:
        s = r["summary"]
        zero = (f"{s['zero_hdi_low_median']:.3f} ({s['zero_reach_ok']:.0%})"
                if "zero_reach_ok" in s else "")
        corr = (f"{s['contribution_corr_median']:.3f} ({s['contribution_corr_ok']:.0%})"
                if "contribution_corr_ok" in s else "")
        lines.append(
            f"| {r['config']} | {r['scenario']} | {'yes' if r['lift'] else 'no'} | {s['fits']} | "
            f"{s['mean_abs_rel_err']:.3f} | {s['median_abs_rel_err']:.3f} | {s['covered']} / "
            f"{s['intervals']} | {s['band_99'][0]}-{s['band_99'][1]} | "
            f"{s['median_rel_width']:.3f} | {zero} | {corr} | {s['divergence_free']:.0%} | "
            f"{s['max_rhat']:.3f} | {s['rhat_ok']:.0%} | {s['seconds']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from benchmarks._machine import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="default")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--lift", choices=("both", "no", "yes"), default="both")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--tag", default="default")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    sampler = {"num_warmup": args.warmup, "num_samples": args.samples,
               "num_chains": args.chains}
    lifts = {"both": (False, True), "no": (False,), "yes": (True,)}[args.lift]
    rows, out = [], pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info = machine()
    for config in args.configs.split(","):
        for scenario in args.scenarios.split(","):
            for lift in lifts:
                fits = [fit_one(scenario, seed, CONFIGS[config], lift, sampler)
                        for seed in range(args.first_seed, args.first_seed + args.seeds)]
                row = {"config": config, "options": CONFIGS[config], "scenario": scenario,
                       "lift": lift, "summary": summarize(fits), "fits": fits}
                rows.append(row)
                s = row["summary"]
                print(f"{config:>24} {scenario:>17} lift={lift!s:5} err {s['mean_abs_rel_err']:.3f}"
                      f"/{s['median_abs_rel_err']:.3f} cov {s['covered']}/{s['intervals']} "
                      f"width {s['median_rel_width']:.3f} div-free {s['divergence_free']:.0%} "
                      f"rhat {s['max_rhat']:.3f} {s.get('zero_reach_ok', '')} "
                      f"{s.get('contribution_corr_median', '')} {s['seconds']:.1f}s", flush=True)
                (out / f"scenario_recovery_{args.tag}.json").write_text(json.dumps(
                    {"machine": info, "sampler": sampler, "rows": rows}, indent=1))
                (out / f"scenario_recovery_{args.tag}.md").write_text(
                    markdown(rows, info, sampler))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
