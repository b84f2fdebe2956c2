"""Fit the reference datasets with 4 chains x (1000 + 1000) and record convergence and time.

Datasets (read from ``../shared/data``): PyMC-Marketing's ``mmm_example.csv`` (179 weeks,
2 channels), Meridian's ``national_media.csv`` (156 weeks, 4 channels, impressions + spend)
and ``geo_media.csv`` (20 geos x 156 weeks).

Usage::

    python -m benchmarks.fit_reference [--cases a,b] [--warmup 1000] [--samples 1000]

Writes ``benchmarks/results/fit_reference.json`` and ``.md``. ESS/s = min bulk ESS over all
sampled parameters / wall seconds of the whole fit, compile included.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
REFERENCE = ("pymc_mmm_example", "meridian_national", "meridian_geo_20")


def run_case(name: str, warmup: int, samples: int, chains: int, seed: int,
             chain_method: str) -> dict:
    import mmm_jax as mj
    from benchmarks.cases import load_case

    data = load_case(name)
    model = mj.MMM()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(data, num_warmup=warmup, num_samples=samples, num_chains=chains, seed=seed,
                  chain_method=chain_method, progress_bar=False)
    wall = time.perf_counter() - t0
    d = model.diagnostics()
    t1 = time.perf_counter()
    model.fit(data, num_warmup=warmup, num_samples=samples, num_chains=chains, seed=seed + 1,
              chain_method=chain_method, progress_bar=False, check=False)
    wall_warm = time.perf_counter() - t1
    d2 = model.diagnostics()
    return {
        "case": name,
        "shape": {"geos": data.n_geos, "periods": data.n_time, "channels": data.n_channels},
        "chains": chains, "warmup": warmup, "samples": samples,
        "wall_s": round(wall, 2),
        "wall_second_fit_s": round(wall_warm, 2),
        "min_ess_bulk": round(d["min_ess_bulk"], 1), "min_ess_tail": round(d["min_ess_tail"], 1),
        "ess_per_s": round(d["min_ess_bulk"] / wall, 2),
        "max_rhat": round(d["max_rhat"], 4), "divergences": d["divergences"],
        "mean_leapfrog_steps": round(d["mean_steps"], 1),
        "worst_rhat": d["worst_rhat"], "worst_ess_bulk": d["worst_ess_bulk"],
        "note": "second fit: same data, other seed, compiled program reused "
                f"(its own diagnostics: R-hat {d2['max_rhat']:.4f}, "
                f"{d2['divergences']} divergences, min ESS {d2['min_ess_bulk']:.0f})",
        "warnings": [str(w.message) for w in caught],
    }


def main(argv=None) -> None:
    from benchmarks._machine import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(REFERENCE))
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chain-method", default="auto")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    rows = []
    for name in args.cases.split(","):
        row = run_case(name, args.warmup, args.samples, args.chains, args.seed, args.chain_method)
        print(json.dumps({k: v for k, v in row.items() if k != "warnings"}), flush=True)
        rows.append(row)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "results": rows}
    (out / "fit_reference.json").write_text(json.dumps(report, indent=2))
    cols = ["case", "wall_s", "wall_second_fit_s", "min_ess_bulk", "min_ess_tail", "ess_per_s",
            "max_rhat", "divergences", "mean_leapfrog_steps"]
    lines = ["# Reference fits: 4 chains x (1000 + 1000)", "",
             f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
             f"{report['machine']['backend']} ({report['machine']['device_kind']}), "
             f"jax {report['machine']['jax']}, numpyro {report['machine']['numpyro']}", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join(str(row[c]) for c in cols) + " |")
    lines += ["", "wall_s includes compilation; wall_second_fit_s refits the same-shaped data "
              "with another seed and reuses the compiled program. ESS/s = min bulk ESS / wall_s."]
    (out / "fit_reference.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
