"""Which speed options pay: each variant of the default fit, measured in the same run.

Variants (each fitted in its own process, so compile time is honest):

* ``default``: float32, chains looped on a CPU national model, diagonal mass matrix;
* ``float64``: ``precision="float64"``;
* ``vectorized``: ``chain_method="vectorized"`` (vmap over chains);
* ``dense_mass``: ``dense_mass=True``;
* ``one_device``: ``MMM_JAX_HOST_DEVICES=1`` (one XLA CPU device: chains share one core).

On the national cases of the suite, 4 chains x (1000 + 1000) by default. Per variant: wall
(compile included), ESS/s and its ratio to the default (> 1: the option is faster), R-hat and
divergences. An option becomes a default only when it wins here.

Usage::

    python -m benchmarks.speed_options [--cases embedded_national,pymc_mmm_example]

Writes ``speed_options_<backend>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
VARIANTS = {
    "default": {},
    "float64": {"precision": "float64"},
    "vectorized": {"chain_method": "vectorized"},
    "dense_mass": {"dense_mass": True},
    "one_device": {},
}
ENV = {"one_device": {"MMM_JAX_HOST_DEVICES": "1"}}


def main(argv=None) -> int:
    from benchmarks._machine import write_json
    from benchmarks.cases import available

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="embedded_national,pymc_mmm_example,meridian_national")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated; the first is the baseline of the ratios")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # child: case:variant
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    settings = dict(warmup=args.warmup, samples=args.samples, chains=args.chains)
    if args.one:
        from benchmarks.run import run_one

        case, variant = args.one.split(":")
        print("RESULT " + json.dumps(run_one(case, **settings, **VARIANTS[variant])), flush=True)
        return 0
    rows = []
    for case in [c for c in args.cases.split(",") if c and available(c)]:
        base = None
        for variant in [v for v in args.variants.split(",") if v]:
            cmd = [sys.executable, "-m", "benchmarks.speed_options", "--one", f"{case}:{variant}",
                   "--warmup", str(args.warmup), "--samples", str(args.samples),
                   "--chains", str(args.chains)]
            env = {**os.environ, **ENV.get(variant, {})}
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
            if out.returncode or not lines:
                print(f"{case}:{variant} failed\n{out.stderr[-2000:]}", flush=True)
                return 1
            r = json.loads(lines[-1][len("RESULT "):])
            base = base or r
            row = {"case": case, "variant": variant, "wall_s": r["wall_s"],
                   "compile_s": r["compile_s"], "min_ess_bulk": r["min_ess_bulk"],
                   "ess_per_s": r["ess_per_s"], "steps_per_draw": r["steps_per_draw"],
                   "max_rhat": r["max_rhat"], "divergences": r["divergences"],
                   "vs_default": round(r["ess_per_s"] / base["ess_per_s"], 2)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    name = "speed_options" if args.variants == ",".join(VARIANTS) else "speed_options_subset"
    out_dir, stem, info = write_json(args.out, name,
                                     {"settings": settings, "results": rows})
    cols = list(rows[0]) if rows else []
    lines = [f"# Speed options on {info['backend']} ({info['cpu']}, {info['cores']} cores)", "",
             f"{args.chains} chains x ({args.warmup} + {args.samples}); ESS/s with compile; "
             "vs_default = ESS/s of the variant / ESS/s of the default fit (same run).", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    (out_dir / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out_dir / stem}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
