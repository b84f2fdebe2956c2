"""fit_many throughput: K national models in one program vs K sequential ``MMM().fit`` calls.

Data: ``mmm_jax.simulate(seed=k)`` for k < K (156 weeks, 3 channels, one control), default
model. The baseline fits them one after another with ``MMM().fit`` in one process (the NUTS
program compiles once and is reused, as a user's loop would; chains spread over the host
devices). Then ``fit_many`` with each chain method: ``auto`` (datasets spread over the host
devices and looped on each: the CPU default), ``sequential`` (all looped on one device) and
``vectorized`` (one vmap over datasets and chains on one device, the accelerator default).
Throughput = models per second, compile included; the ratio is against the baseline measured
in the same run. Also records total min-ESS per second (sum over models), and the bound on any
batched design: gradient evaluations per second of the bare jitted log-density gradient with
1, 4, 32 and 256 vectorised lanes (no sampler at all).

Usage::

    python -m benchmarks.many [--models 64] [--warmup 500] [--samples 500] [--chains 4]

Writes ``fit_many_<backend>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
import warnings

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
COLUMNS = dict(date="date", target="sales", media=["tv", "search", "social"],
               controls=["price"])


def _summary(label: str, models, seconds: float) -> dict:
    ds = [m.diagnostics() for m in models]
    return {"method": label, "models": len(models), "seconds": round(seconds, 1),
            "models_per_s": round(len(models) / seconds, 3),
            "sum_min_ess_per_s": round(sum(d["min_ess_bulk"] for d in ds) / seconds, 1),
            "max_rhat": round(max(d["max_rhat"] for d in ds), 4),
            "divergences": sum(d["divergences"] for d in ds)}


def lane_rates(data, lanes=(1, 4, 32, 256)) -> dict:
    """Chain-gradient evaluations per second of the bare jitted gradient, by lane count."""
    import mmm_jax as mj
    from benchmarks.run import bare_gradient_rate
    from mmm_jax.features import compute_scales

    model = mj.MMM()
    model.data, model.scales = data, compute_scales(data)
    return {str(b): round(bare_gradient_rate(model, max(50, 4000 // b), lanes=b)) for b in lanes}


def main(argv=None) -> int:
    import mmm_jax as mj
    from benchmarks._machine import write_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--methods", default="auto,vectorized")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    settings = dict(num_warmup=args.warmup, num_samples=args.samples, num_chains=args.chains,
                    progress_bar=False)
    data = [mj.MMMData.from_dataframe(mj.simulate(seed=k)[0], **COLUMNS)
            for k in range(args.models)]
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        start = time.perf_counter()
        models = [mj.MMM().fit(d, seed=k, check=False, **settings) for k, d in enumerate(data)]
        rows.append(_summary("sequential MMM().fit loop (baseline)", models,
                             time.perf_counter() - start))
        print(json.dumps(rows[-1]), flush=True)
        for method in [m for m in args.methods.split(",") if m]:
            start = time.perf_counter()
            models = mj.fit_many(data, seed=0, check=False, chain_method=method, **settings)
            rows.append(_summary(f"fit_many({method})", models, time.perf_counter() - start))
            rows[-1]["throughput_ratio"] = round(rows[0]["seconds"] / rows[-1]["seconds"], 2)
            print(json.dumps(rows[-1]), flush=True)
    lanes = lane_rates(data[0])
    print(json.dumps(lanes), flush=True)
    out, stem, info = write_json(args.out, "fit_many", {"settings": settings, "results": rows,
                                                       "bare_lanes": lanes})
    cols = ["method", "models", "seconds", "models_per_s", "throughput_ratio",
            "sum_min_ess_per_s", "max_rhat", "divergences"]
    lines = [f"# fit_many throughput on {info['backend']} ({info['cpu']}, {info['cores']} cores)",
             "", f"{args.models} national models (156 weeks, 3 channels), {args.chains} chains x "
             f"({args.warmup} + {args.samples}); seconds include compilation.", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    lines += ["", "Bound: bare log-density gradients per second (no sampler) by vectorised lanes: "
              + ", ".join(f"{k} lanes {v:,.0f}/s" for k, v in lanes.items())
              + f" -> the most any batching can gain here is "
              f"{max(lanes.values()) / lanes['1']:.1f}x over one lane."]
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / stem}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
