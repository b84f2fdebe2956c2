"""Scaling study: time per gradient and ESS/s against weeks, channels and geos.

Data from :func:`mmm_jax.simulate` (geometric adstock + Hill, one control), default model.
Three sweeps from the base case (156 weeks, 3 channels, national):

* weeks: 52, 104, 260, 520, 1040;
* channels: 2, 5, 10, 20, 50;
* geos: 1, 10, 50, 200, 1000 (geo hierarchy).

Per point: microseconds per log-density gradient of one chain (a jitted ``value_and_grad``
loop) and, where the fit is affordable on the machine (``--max-fit-geos``), a short NUTS fit
(2 chains x (300 + 300)) for wall time, min bulk ESS, ESS/s (compile included), leapfrog steps
per draw. Writes ``scaling_<backend>.json``, ``.md`` and a ``.png`` plot.

Usage::

    python -m benchmarks.scaling [--max-fit-geos 50] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
import warnings

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
SWEEPS = {
    "weeks": [52, 104, 260, 520, 1040],
    "channels": [2, 5, 10, 20, 50],
    "geos": [1, 10, 50, 200, 1000],
}
BASE = dict(weeks=156, channels=3, geos=1)
FIT = dict(num_warmup=300, num_samples=300, num_chains=2)


def point_data(weeks: int, channels: int, geos: int):
    import mmm_jax as mj

    names = [f"ch{i}" for i in range(channels)]
    df, _ = mj.simulate(seed=0, n_periods=weeks, channels=names,
                        n_geos=None if geos == 1 else geos)
    return mj.MMMData.from_dataframe(df, date="date", target="sales", media=names,
                                     controls=["price"], geo=None if geos == 1 else "geo")


def measure(weeks: int, channels: int, geos: int, fit: bool) -> dict:
    import mmm_jax as mj
    from benchmarks.run import bare_gradient_rate
    from mmm_jax.features import compute_scales

    data = point_data(weeks, channels, geos)
    model = mj.MMM()
    model.data, model.scales = data, compute_scales(data)
    n_evals = max(20, int(2e6 / (weeks * channels * geos)))
    row = {"weeks": weeks, "channels": channels, "geos": geos,
           "us_per_gradient": round(1e6 / bare_gradient_rate(model, n_evals, lanes=1), 1)}
    if fit:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mj.ConvergenceWarning)
            start = time.perf_counter()
            model.fit(data, seed=0, progress_bar=False, **FIT)
            wall = time.perf_counter() - start
        d = model.diagnostics()
        row.update(fit_wall_s=round(wall, 1), min_ess_bulk=round(d["min_ess_bulk"], 1),
                   ess_per_s=round(d["min_ess_bulk"] / wall, 2),
                   steps_per_draw=round(d["mean_steps"], 1), max_rhat=round(d["max_rhat"], 3),
                   divergences=d["divergences"])
    return row


def plot(rows: list[dict], path: pathlib.Path, title: str) -> None:
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    fig = Figure(figsize=(12, 6.5), layout="constrained")
    axes = fig.subplots(2, 3)
    for j, sweep in enumerate(SWEEPS):
        pts = [r for r in rows if r["sweep"] == sweep]
        x = [r[sweep] for r in pts]
        axes[0, j].loglog(x, [r["us_per_gradient"] for r in pts], "o-")
        axes[0, j].set_title(f"gradient vs {sweep}")
        axes[0, j].set_ylabel("µs per gradient (1 chain)")
        fitted = [r for r in pts if "ess_per_s" in r]
        axes[1, j].loglog([r[sweep] for r in fitted], [r["ess_per_s"] for r in fitted], "s-",
                          color="C1")
        axes[1, j].set_xlabel(sweep)
        axes[1, j].set_ylabel("min bulk ESS / s (compile incl.)")
        for ax in axes[:, j]:
            ax.grid(True, which="major", alpha=0.3)
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticks(x, [str(v) for v in x])
    fig.suptitle(title)
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    from benchmarks._machine import write_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-fit-geos", type=int, default=50)
    parser.add_argument("--max-fit-cells", type=int, default=60_000,
                        help="skip the fit when weeks x channels x geos exceeds this")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--replot", action="store_true",
                        help="redraw the plot from the saved JSON without measuring")
    args = parser.parse_args(argv)
    if args.replot:
        import jax

        stem = f"scaling_{jax.default_backend()}"
        saved = json.loads((pathlib.Path(args.out) / f"{stem}.json").read_text())
        info = saved["machine"]
        plot(saved["results"], pathlib.Path(args.out) / f"{stem}.png",
             f"mmm_jax scaling on {info['backend']} ({info['device_kind']})")
        return 0
    rows = []
    for sweep, values in SWEEPS.items():
        for value in values:
            size = dict(BASE, **{sweep: value})
            cells = size["weeks"] * size["channels"] * size["geos"]
            fit = size["geos"] <= args.max_fit_geos and cells <= args.max_fit_cells
            row = {"sweep": sweep, **measure(**size, fit=fit)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    out, stem, info = write_json(args.out, "scaling", {"fit_settings": FIT, "results": rows})
    cols = ["sweep", "weeks", "channels", "geos", "us_per_gradient", "fit_wall_s",
            "min_ess_bulk", "ess_per_s", "steps_per_draw", "max_rhat", "divergences"]
    lines = [f"# Scaling on {info['backend']} ({info['cpu']}, {info['cores']} cores)", "",
             "µs per gradient: one chain's log-density gradient in a jitted loop. Fits: 2 "
             "chains x (300 + 300), compile included; blank where too slow for this machine.",
             "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    lines += ["", f"![scaling]({stem}.png)"]
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    plot(rows, out / f"{stem}.png", f"mmm_jax scaling on {info['backend']} "
         f"({info['device_kind']})")
    print(f"wrote {out / stem}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
