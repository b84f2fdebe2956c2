"""PyMC-Marketing 0.19.2 MMM on pymc_marketing/mmm_example.csv; prints one JSON result line.

Model (the library's current ``pymc_marketing.mmm.multidimensional.MMM`` with no extra dims, the
same model as its mmm_example notebook): GeometricAdstock(l_max=8) + LogisticSaturation, channels
x1, x2; controls event_1, event_2 (+ t with --trend); yearly_seasonality=2; default priors and
max-abs scaling. NUTS via ``nuts_sampler="numpyro"`` (default) or PyMC's own (``--sampler pymc``),
target_accept left at the library default. Warmup = tune, samples = draws per chain.
Run with the peer venv's python (/tmp/peer-pymcm/bin/python); it does not import mmm_jax.
"""
import os
import time
import warnings

from _common import diagnostics, emit, parse_args

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data")
DATA = os.path.join(SHARED, "pymc_marketing/mmm_example.csv")


def _extra(p):
    p.add_argument("--sampler", choices=["numpyro", "pymc"], default="numpyro")
    p.add_argument("--trend", action="store_true", help="also use column t as a control")


def main():
    args = parse_args(__doc__.splitlines()[0], DATA, _extra)
    warnings.filterwarnings("ignore")
    import pandas as pd
    import pymc_marketing
    from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
    from pymc_marketing.mmm.multidimensional import MMM

    df = pd.read_csv(args.data, parse_dates=["date_week"])
    controls = ["event_1", "event_2"] + (["t"] if args.trend else [])
    X, y = df[["date_week", "x1", "x2", *controls]], df["y"]

    t0 = time.perf_counter()
    mmm = MMM(date_column="date_week", channel_columns=["x1", "x2"], target_column="y",
              control_columns=controls, adstock=GeometricAdstock(l_max=8),
              saturation=LogisticSaturation(), yearly_seasonality=2)
    mmm.build_model(X, y)
    idata = mmm.fit(X, y, chains=args.chains, tune=args.warmup, draws=args.samples,
                    random_seed=args.seed, nuts_sampler=args.sampler, progressbar=False)
    wall = time.perf_counter() - t0

    free = [rv.name for rv in mmm.model.free_RVs]
    diag = diagnostics(idata.posterior, idata.sample_stats["diverging"], var_names=free)
    emit("pymc_marketing", pymc_marketing.__version__, wall, diag, args, sampler=args.sampler)


if __name__ == "__main__":
    main()
