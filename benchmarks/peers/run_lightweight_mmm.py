"""lightweight_mmm 0.1.9 LightweightMMM("hill_adstock") on meridian/national_media.csv (JSON line).

Data prep as in the library README: media = Channel0..3_impression, costs = total spend per
channel, extra_features = competitor_activity_score_control, sentiment_score_control, target =
conversions; media / extra features / target scaled by CustomScaler(divide by mean), costs by
CustomScaler(divide by mean, multiply_by=0.15) and used as media_prior. Model defaults otherwise
(degrees_seasonality=2, frequency 52, target_accept_prob=0.85, init_to_median). Chains run in
parallel (numpyro.set_host_device_count(chains) before JAX starts).
Diagnostics cover the sampled sites only (the deterministic "mu" and "media_transformed" excluded).
Run with the peer venv's python (/tmp/peer-lwmmm/bin/python); it does not import mmm_jax.
"""
import os
import time
import warnings

from _common import diagnostics, emit, parse_args

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data")
DATA = os.path.join(SHARED, "meridian/national_media.csv")
CH = [f"Channel{i}" for i in range(4)]
CONTROLS = ["competitor_activity_score_control", "sentiment_score_control"]
DETERMINISTIC = {"mu", "media_transformed"}


def main():
    args = parse_args(__doc__.splitlines()[0], DATA)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpyro
    numpyro.set_host_device_count(args.chains)  # before JAX initialises its backend
    from importlib.metadata import version

    import arviz as az
    import jax.numpy as jnp
    import numpy as np
    import pandas as pd
    from lightweight_mmm import lightweight_mmm, preprocessing

    df = pd.read_csv(args.data)
    media = df[[f"{c}_impression" for c in CH]].to_numpy(np.float32)
    costs = df[[f"{c}_spend" for c in CH]].sum().to_numpy(np.float32)
    extra = df[CONTROLS].to_numpy(np.float32)
    target = df["conversions"].to_numpy(np.float32)

    mean_scaler = lambda: preprocessing.CustomScaler(divide_operation=jnp.mean)  # noqa: E731
    media_s = mean_scaler().fit_transform(media)
    extra_s = mean_scaler().fit_transform(extra)
    target_s = mean_scaler().fit_transform(target)
    cost_scaler = preprocessing.CustomScaler(divide_operation=jnp.mean, multiply_by=0.15)
    costs_s = cost_scaler.fit_transform(costs)

    t0 = time.perf_counter()
    mmm = lightweight_mmm.LightweightMMM(model_name="hill_adstock")
    mmm.fit(media=media_s, media_prior=costs_s, target=target_s, extra_features=extra_s,
            number_warmup=args.warmup, number_samples=args.samples, number_chains=args.chains,
            seed=args.seed)
    wall = time.perf_counter() - t0

    samples = mmm._mcmc.get_samples(group_by_chain=True)
    posterior = az.convert_to_dataset({k: np.asarray(v) for k, v in samples.items()
                                       if k not in DETERMINISTIC})
    diverging = mmm._mcmc.get_extra_fields(group_by_chain=True)["diverging"]
    diag = diagnostics(posterior, diverging)
    emit("lightweight_mmm", version("lightweight_mmm"), wall, diag, args)


if __name__ == "__main__":
    main()
