"""Meridian 2.1 default model on meridian/national_media.csv or geo_media.csv; one JSON line.

Data via ``meridian.data.load.CsvDataLoader`` (as in Meridian's user guide): kpi = conversions,
revenue_per_kpi = revenue_per_conversion, kpi_type = "non_revenue" (so the default ROI priors
apply to revenue), media = Channel0..3_impression, media_spend = Channel0..3_spend, controls =
competitor_activity_score_control, sentiment_score_control; geo + population for the geo data
(``--geo`` or auto when a "geo" column exists). Model: ``Meridian(input_data, ModelSpec())`` with
every default (JAX backend, float64, windowed adaptive NUTS, max_tree_depth=10).
Settings: n_adapt = warmup // 2, n_burnin = warmup - n_adapt, n_keep = samples.
Diagnostics cover Meridian's whole posterior group, as its own Analyzer.get_rhat does (it saves
beta_gm / gamma_gc / tau_g in place of the *_dev latents; fixed slope_m etc. drop out as NaN).
Run with the peer venv's python (/tmp/peer-meridian/bin/python); it does not import mmm_jax.
"""
import os
import time
import warnings

from _common import diagnostics, emit, parse_args

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data")
DATA = os.path.join(SHARED, "meridian/national_media.csv")
CH = [f"Channel{i}" for i in range(4)]
CONTROLS = ["competitor_activity_score_control", "sentiment_score_control"]


def _extra(p):
    p.add_argument("--geo", action="store_true", help="geo model (auto when the CSV has 'geo')")


def main():
    args = parse_args(__doc__.splitlines()[0], DATA, _extra)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import pandas as pd
    from meridian import constants, version
    from meridian.data import load
    from meridian.model import model, spec

    geo = args.geo or "geo" in pd.read_csv(args.data, nrows=1).columns
    cols = load.CoordToColumns(
        time="time", kpi="conversions", revenue_per_kpi="revenue_per_conversion",
        media=[f"{c}_impression" for c in CH], media_spend=[f"{c}_spend" for c in CH],
        controls=CONTROLS, **(dict(geo="geo", population="population") if geo else {}))
    data = load.CsvDataLoader(
        csv_path=args.data, coord_to_columns=cols, kpi_type=constants.NON_REVENUE,
        media_to_channel={f"{c}_impression": c for c in CH},
        media_spend_to_channel={f"{c}_spend": c for c in CH}).load()

    n_adapt = args.warmup // 2
    t0 = time.perf_counter()
    mmm = model.Meridian(input_data=data, model_spec=spec.ModelSpec())
    mmm.sample_posterior(n_chains=args.chains, n_adapt=n_adapt, n_burnin=args.warmup - n_adapt,
                         n_keep=args.samples, seed=args.seed)
    wall = time.perf_counter() - t0

    idata = mmm.inference_data
    diag = diagnostics(idata.posterior, idata.sample_stats["diverging"])
    emit("meridian", version.__version__, wall, diag, args, geo=bool(geo))


if __name__ == "__main__":
    main()
