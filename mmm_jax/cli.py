"""Command line: ``mmm-jax demo`` (also ``python -m mmm_jax demo``).

``demo`` fits the embedded national example (or ``--example geo``) and prints the channel
table (ROI, marginal ROI, cost per KPI, contribution share with 90% HDIs), the in-sample fit and
the convergence diagnostics; ``--out DIR`` also saves the fitted model there.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

EXAMPLES = {
    "national": dict(date="date", target="sales", media=["tv", "search", "social"],
                     controls=["price"]),
    "geo": dict(date="date", target="sales", media=["tv", "search", "social"],
                controls=["price"], geo="geo"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mmm-jax", description="Bayesian MMM in JAX.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit the embedded example and print ROI + diagnostics")
    demo.add_argument("--example", choices=sorted(EXAMPLES), default="national")
    demo.add_argument("--warmup", type=int, default=1000)
    demo.add_argument("--samples", type=int, default=1000)
    demo.add_argument("--chains", type=int, default=4)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default=None, help="directory to save the fitted model in")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def demo(args) -> int:
    import pandas as pd

    import mmm_jax as mj

    df = mj.load_example(args.example)
    truth = mj.load_example_truth(args.example)
    data = mj.MMMData.from_dataframe(df, **EXAMPLES[args.example])
    shape = f"{data.n_time} weeks x {data.n_channels} channels" + (
        f" x {data.n_geos} geos" if data.is_geo else "")
    print(f"mmm_jax {mj.__version__}: fitting the embedded '{args.example}' example ({shape}), "
          f"{args.chains} chains x ({args.warmup} + {args.samples}) NUTS draws")
    model = mj.MMM(adstock="geometric", saturation="hill")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", mj.ConvergenceWarning)
        model.fit(data, num_warmup=args.warmup, num_samples=args.samples,
                  num_chains=args.chains, seed=args.seed, progress_bar=not args.quiet)
    seconds = time.perf_counter() - start
    table = model.channel_summary()
    table["true_roi"] = pd.Series(truth["roi"])
    cols = ["spend", "share", "roi", "roi_hdi_low", "roi_hdi_high", "true_roi", "mroi",
            "cost_per_kpi"]
    with pd.option_context("display.width", 140, "display.float_format", "{:,.3f}".format):
        print("\nChannel summary (posterior mean and 90% HDI; spend and ROI in original units)")
        print(table[cols].to_string())
    fit = model.fit_metrics()
    print(f"\nIn-sample fit: R^2 = {fit['r2']:.3f}, MAPE = {fit['mape']:.2f}%")
    d = model.diagnostics()
    print(f"Diagnostics: max R-hat {d['max_rhat']:.4f} ({d['worst_rhat']}), min bulk ESS "
          f"{d['min_ess_bulk']:.0f}, min tail ESS {d['min_ess_tail']:.0f}, "
          f"divergences {d['divergences']}, {d['mean_steps']:.1f} leapfrog steps/draw -> "
          f"{'PASS' if d['passed'] else 'CHECK'}")
    for w in caught:
        print(f"warning: {w.message}")
    print(f"Fit wall time {seconds:.1f} s (compilation included)")
    if args.out:
        model.save(args.out)
        print(f"Saved the fitted model to {args.out}")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return demo(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
