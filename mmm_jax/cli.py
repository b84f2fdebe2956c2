"""Command line ``mmm-jax`` (also ``python -m mmm_jax``).

* ``demo [--out DIR]``: fit the embedded example, print the channel table (ROI, marginal ROI,
  cost per KPI, contribution share with 90% HDIs), the fit and the convergence diagnostics,
  reallocate the last quarter's budget (each channel within +-30% of its historical mix,
  channels outside the historical spend range flagged) and, with ``--out``, save the model
  and write ``DIR/report.html`` with the plots as PNG files in ``DIR/plots``.
* ``fit DATA.csv --config CONFIG.toml --out DIR``: columns, transforms, priors and sampler
  settings from a TOML file (see :mod:`mmm_jax._config_file`); saves the model and the report.
* ``optimize MODEL_DIR --budget B --periods N [--out DIR]``: allocate a budget with a saved
  model; writes ``allocation.json`` (the whole :class:`~mmm_jax.BudgetResult`, read back by
  ``report``), ``allocation.csv`` (the per-channel table) and the report with the allocation.
* ``report MODEL_DIR [--out DIR]``: (re)write the report of a saved model (with the
  allocation of ``MODEL_DIR/allocation.json`` when there is one).

A bad config or data file prints one line naming the key or column and exits with code 2.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings

EXAMPLES = {
    "national": dict(date="date", target="sales", media=["tv", "search", "social"],
                     controls=["price"]),
    "geo": dict(date="date", target="sales", media=["tv", "search", "social"],
                controls=["price"], geo="geo"),
}
DEMO_PERIODS = 13  # the demo reallocates the last quarter's spend over the next quarter


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mmm-jax", description="Bayesian MMM in JAX.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit the embedded example and print ROI + diagnostics")
    demo.add_argument("--example", choices=sorted(EXAMPLES), default="national")
    demo.add_argument("--warmup", type=int, default=1000)
    demo.add_argument("--samples", type=int, default=1000)
    demo.add_argument("--chains", type=int, default=4)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default=None,
                      help="directory for the fitted model, report.html and plots/")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")

    fit = sub.add_parser("fit", help="fit a CSV file with a TOML config; save model + report")
    fit.add_argument("data", help="CSV file, one row per period (or per geo and period)")
    fit.add_argument("--config", required=True, help="TOML file: [data], [model], [priors], "
                     "[sampler], [allocation]")
    fit.add_argument("--out", required=True, help="directory for the model and the report")
    for flag in (*_SAMPLER_FLAGS, "seed"):
        fit.add_argument(f"--{flag}", type=int, default=None,
                         help=f"override [sampler] {flag}")
    fit.add_argument("--quiet", action="store_true", help="no progress bars")

    opt = sub.add_parser("optimize", help="allocate a budget with a saved model")
    opt.add_argument("model_dir")
    opt.add_argument("--budget", type=_positive(float), required=True,
                     help="total budget over the horizon")
    opt.add_argument("--periods", type=_positive(int), required=True,
                     help="horizon in periods")
    opt.add_argument("--out", default=None, help="output directory (default MODEL_DIR)")
    opt.add_argument("--quiet", action="store_true", help="no progress bars")

    rep = sub.add_parser("report", help="write report.html for a saved model")
    rep.add_argument("model_dir")
    rep.add_argument("--out", default=None, help="output directory (default MODEL_DIR)")
    rep.add_argument("--title", default=None)

    exp = sub.add_parser("export", help="write CSV tables (and model.xlsx) of a saved model")
    exp.add_argument("model_dir")
    exp.add_argument("--out", default=None, help="output directory (default MODEL_DIR/export)")
    exp.add_argument("--future", default=None,
                     help="CSV (or .parquet) of the periods after the history: forecast.csv")
    return parser


# ------------------------------------------------------------------ shared steps
#: command-line flag -> SamplerConfig field it overrides
_SAMPLER_FLAGS = {"warmup": "num_warmup", "samples": "num_samples", "chains": "num_chains"}


def _fit(model, data, fit_kwargs: dict, quiet: bool):
    import mmm_jax as mj

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", mj.ConvergenceWarning)
        model.fit(data, **fit_kwargs, progress_bar=not quiet)
    return time.perf_counter() - start, caught


def _print_channels(model, truth: dict | None = None) -> None:
    import pandas as pd

    table = model.channel_summary()
    cols = ["spend", "share", "roi", "roi_hdi_low", "roi_hdi_high", "mroi", "cost_per_kpi"]
    if truth is not None:
        table["true_roi"] = pd.Series(truth["roi"])
        cols.insert(5, "true_roi")
    with pd.option_context("display.width", 140, "display.float_format", "{:,.3f}".format):
        print("\nChannel summary (posterior mean and 90% HDI; spend and ROI in original units)")
        print(table[cols].to_string())


def _print_fit(model, caught, seconds: float) -> None:
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


def _allocate(model, budget: float | None, periods: int, quiet: bool, options=None):
    """``model.optimize_budget(budget, periods, options=options)`` and its wall time.
    ``budget=None``: the spend of the last ``periods`` periods (or, with a flexible-budget
    option, the budget the options choose)."""
    if not quiet:
        print(f"\nOptimising the budget over {periods} periods ...", flush=True)
    start = time.perf_counter()
    result = model.optimize_budget(budget, periods, options=options)
    return result, time.perf_counter() - start


def _print_allocation(result, seconds: float | None = None) -> None:
    """The per-channel table of a :class:`~mmm_jax.BudgetResult`, its lift and its notes
    (the bound used, channels outside the historical spend range)."""
    import pandas as pd

    frame = result.to_frame()
    frame.insert(2, "change", frame["optimal_spend"] / frame["current_spend"] - 1.0)
    cols = ["current_spend", "optimal_spend", "change", "current_kpi", "optimal_kpi",
            "optimal_kpi_hdi_low", "optimal_kpi_hdi_high", "mroi", "status",
            "outside_history"]
    current = ("the historical mix at this budget" if result.settings.get("budget") is not None
               else f"the spend of the last {result.n_periods} periods")
    print(f"\nBudget allocation: {result.budget:,.0f} over {result.n_periods} periods "
          f"(current = {current})" + (f", solved in {seconds:.1f} s" if seconds else ""))
    with pd.option_context("display.width", 180, "display.float_format", "{:,.3f}".format):
        print(frame[cols].to_string())
    lift = result.lift
    print(f"Expected incremental KPI lift {lift['mean']:+,.0f} "
          f"[{lift['hdi_low']:+,.0f}, {lift['hdi_high']:+,.0f}] "
          f"({100 * lift['relative']:+.2f}%) against the current mix")
    for note in result.notes():
        print(("warning: " if note.startswith("Outside") else "note: ") + note)


def _save_allocation(result, out: pathlib.Path) -> None:
    """``allocation.json`` (lossless, :meth:`BudgetResult.save`) and ``allocation.csv``."""
    out.mkdir(parents=True, exist_ok=True)
    result.to_frame().to_csv(out / "allocation.csv")
    result.save(out / "allocation.json")


def _load_allocation(directory: pathlib.Path):
    """The :class:`~mmm_jax.BudgetResult` saved by ``optimize`` in ``directory``, or None."""
    import mmm_jax as mj

    path = pathlib.Path(directory) / "allocation.json"
    return mj.BudgetResult.load(path) if path.is_file() else None


def _write_report(model, out, allocation=None, title=None) -> None:
    from mmm_jax.report import write_report

    start = time.perf_counter()
    path = write_report(model, out, allocation=allocation, title=title)
    n_plots = len(list((path.parent / "plots").glob("*.png")))
    print(f"Wrote {path} and {n_plots} plots in {path.parent / 'plots'} "
          f"({time.perf_counter() - start:.1f} s)")


def _read_table(path: pathlib.Path):
    import pandas as pd

    if not path.is_file():
        raise ValueError(f"data file {str(path)!r} not found")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError, ImportError) as err:
        raise ValueError(f"data file {str(path)!r} cannot be read: {err}") from None


# ------------------------------------------------------------------ commands
def demo(args) -> int:
    import mmm_jax as mj

    df = mj.load_example(args.example)
    truth = mj.load_example_truth(args.example)
    data = mj.MMMData.from_dataframe(df, **EXAMPLES[args.example])
    shape = f"{data.n_time} weeks x {data.n_channels} channels" + (
        f" x {data.n_geos} geos" if data.is_geo else "")
    print(f"mmm_jax {mj.__version__}: fitting the embedded '{args.example}' example ({shape}), "
          f"{args.chains} chains x ({args.warmup} + {args.samples}) NUTS draws")
    model = mj.MMM(adstock="geometric", saturation="hill")
    seconds, caught = _fit(model, data, dict(num_warmup=args.warmup, num_samples=args.samples,
                                             num_chains=args.chains, seed=args.seed),
                           args.quiet)
    _print_channels(model, truth)
    _print_fit(model, caught, seconds)
    # the last quarter's budget, each channel within +-30% of its historical mix (the default)
    allocation, solve_seconds = _allocate(model, None, DEMO_PERIODS, args.quiet)
    _print_allocation(allocation, solve_seconds)
    if args.out:
        model.save(args.out)
        print(f"Saved the fitted model to {args.out}")
        _save_allocation(allocation, pathlib.Path(args.out))
        _write_report(model, args.out, allocation,
                      title=f"mmm_jax demo: the '{args.example}' example")
    return 0


def fit(args) -> int:
    import mmm_jax as mj
    from mmm_jax._config_file import check_prior_sites, load_config
    from mmm_jax.lift_tests import check_lift_tests
    from mmm_jax.model import site_shapes

    config = load_config(args.config)
    path = pathlib.Path(args.data)
    df = _read_table(path)
    try:
        data = mj.MMMData.from_dataframe(df, **config.columns)
    except ValueError as err:
        raise ValueError(f"{path.name}: {err}") from None
    model = mj.MMM(spec=config.spec)
    check_prior_sites(config, site_shapes(model.spec, model._dims(data)))
    overrides = {name: getattr(args, flag) for flag, name in _SAMPLER_FLAGS.items()
                 if getattr(args, flag) is not None}
    sampler = mj.SamplerConfig.build(config.sampler, **overrides)
    seed = config.seed if args.seed is None else args.seed
    shape = f"{data.n_time} periods x {data.n_channels} channels" + (
        f" x {data.n_geos} geos" if data.is_geo else "")
    print(f"mmm_jax {mj.__version__}: fitting {path.name} ({shape}) with {config.source}, "
          f"{sampler.num_chains} chains x ({sampler.num_warmup} + {sampler.num_samples}) "
          "NUTS draws")
    fit_kwargs = dict(sampler=sampler, seed=seed)
    if config.lift_tests is not None:
        lift_path = pathlib.Path(args.config).parent / config.lift_tests
        lift = _read_table(lift_path)
        try:
            fit_kwargs["lift_tests"] = check_lift_tests(lift, data)
        except ValueError as err:
            raise ValueError(f"{lift_path.name}: {err}") from None
        print(f"Calibrating with {len(lift)} lift tests from {lift_path.name}")
    seconds, caught = _fit(model, data, fit_kwargs, args.quiet)
    _print_channels(model)
    _print_fit(model, caught, seconds)
    out = pathlib.Path(args.out)
    model.save(out)  # before allocating: a bad [allocation] option does not lose the fit
    print(f"Saved the fitted model to {out}")
    allocation = None
    if config.allocation is not None:
        a = config.allocation
        allocation, solve_seconds = _allocate(model, a.budget, a.periods, args.quiet, a.options)
        _print_allocation(allocation, solve_seconds)
        _save_allocation(allocation, out)
    _write_report(model, out, allocation, title=f"mmm_jax report: {path.name}")
    return 0


def _load_model(directory: str):
    import mmm_jax as mj

    return mj.MMM.load(directory)


def optimize(args) -> int:
    model = _load_model(args.model_dir)
    allocation, solve_seconds = _allocate(model, args.budget, args.periods, args.quiet)
    _print_allocation(allocation, solve_seconds)
    out = pathlib.Path(args.out or args.model_dir)
    _save_allocation(allocation, out)
    print(f"Wrote {out / 'allocation.json'} and {out / 'allocation.csv'}")
    _write_report(model, out, allocation)
    return 0


def report(args) -> int:
    model = _load_model(args.model_dir)
    allocation = _load_allocation(pathlib.Path(args.model_dir))
    _write_report(model, args.out or args.model_dir, allocation, title=args.title)
    return 0


def export(args) -> int:
    from mmm_jax.export import WORKBOOK

    model = _load_model(args.model_dir)
    future = None
    if args.future is not None:
        path = pathlib.Path(args.future)
        future = _read_table(path)
        try:
            model.data.future_from_dataframe(future)
        except ValueError as err:
            raise ValueError(f"{path.name}: {err}") from None
    out = pathlib.Path(args.out) if args.out else pathlib.Path(args.model_dir) / "export"
    written = model.export(out, future)
    print(f"Wrote {', '.join(p.name for p in written)} in {out}")
    if not any(p.name == WORKBOOK for p in written):
        print(f"note: openpyxl is not installed, so no {WORKBOOK} "
              "(pip install 'mmm_jax[export]')")
    return 0


COMMANDS = {"demo": demo, "fit": fit, "optimize": optimize, "report": report,
            "export": export}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ValueError as err:  # bad input: config, data, saved model; one line, no traceback
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    except ImportError as err:  # e.g. matplotlib missing for the report
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
