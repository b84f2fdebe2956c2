"""Simulation-based calibration (Talts et al. 2018) of the national model and sampler.

For each replicate: draw every parameter from its declared prior, simulate a KPI series from the
model on the embedded example's (unit-scale) media and controls, fit it with NUTS, and record
the rank of each true scalar parameter (and of the true log-likelihood) among L thinned
posterior draws. If the model and sampler are right, ranks are uniform: a chi-square test over
10 bins per quantity. A planted bug (``--bug unnormalised``: the generator uses geometric adstock
without the ``(1 - alpha)`` factor) must make it fail.

Usage::

    python -m benchmarks.sbc [--replicates 100] [--bug none|unnormalised] [--out DIR]

Fits run on the model's unit scale directly (no data-dependent rescaling), so the fitted model
is exactly the generating one. Replicates are fitted in batches through the ``fit_many``
machinery (``run_nuts(..., many=True)``: one compiled program per batch).
"""

from __future__ import annotations

import argparse
import functools
import json
import pathlib
import time

import numpy as np

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def _setup(n_periods: int):
    import mmm_jax as mj
    from mmm_jax.features import compute_scales, design
    from mmm_jax.model import Dims
    from mmm_jax.spec import ModelSpec

    df = mj.load_example("national").iloc[:n_periods]
    data = mj.MMMData.from_dataframe(df, date="date", target="sales",
                                     media=["tv", "search", "social"], controls=["price"])
    config = ModelSpec()
    inputs = design(data.dates, data.media, data.controls, compute_scales(data),
                    period_days=7, n_fourier=config.seasonality_degree,
                    seasonality_period=config.seasonality_period, dtype=np.float32)
    dims = Dims(n_geos=None, n_channels=3, n_controls=1, n_fourier=2 * config.seasonality_degree,
                n_dow=0)
    return config, dims, inputs


def draw_prior(config, dims, inputs, key, bug: str = "none"):
    """One draw of every declared prior and a simulated unit-scale KPI.

    Returns:
        (params dict, y ``(T,)``).
    """
    import jax

    from mmm_jax.model import _covariates, site_shapes
    from mmm_jax.priors import default_priors, resolve
    from mmm_jax.transforms import get_adstock, get_saturation
    from mmm_jax.transforms.adstock import geometric_adstock

    adstock, saturation = get_adstock(config.adstock), get_saturation(config.saturation)
    defaults = default_priors(adstock, saturation)
    shapes = site_shapes(config, dims)
    keys = jax.random.split(key, len(shapes) + 1)
    params = {name: resolve(name, shape, config.priors, defaults).sample(k)
              for (name, shape), k in zip(shapes.items(), keys[:-1], strict=True)}
    if bug == "unnormalised":
        ad = geometric_adstock(inputs["media"], params["alpha"], normalize=False)
    else:
        ad = adstock(inputs["media"], **{p: params[p] for p in adstock.params})
    media = saturation(ad, **{p: params[p] for p in saturation.params}) * params["beta"]
    mu = params["intercept"] + _covariates(params, inputs) + media.sum(-1)
    y = mu + params["sigma"] * jax.random.normal(keys[-1], mu.shape)
    return {k: np.asarray(v) for k, v in params.items()}, np.asarray(y, dtype=np.float32)


def _loglik(samples: dict, inputs, y) -> np.ndarray:
    """Log-likelihood of ``y`` under each draw (``(D,)``) of constrained samples."""
    return np.asarray(_loglik_fn()(samples, inputs, y))


@functools.cache
def _loglik_fn():
    import jax
    import numpyro.distributions as dist

    from mmm_jax.model import baseline, media_effects
    from mmm_jax.spec import ModelSpec

    config = ModelSpec()

    def one(p, inputs, y):
        mu = baseline(p, inputs, config, None) + media_effects(p, inputs["media"], config,
                                                               None).sum(-1)
        return dist.Normal(mu, p["sigma"]).log_prob(y).sum()

    return jax.jit(jax.vmap(one, in_axes=(0, None, None)))


def _add_ranks(ranks: dict, truth: dict, samples: dict, inputs, y, n_ranks: int) -> None:
    """Append the rank of each true scalar (and of the true log-likelihood) among ``n_ranks``
    thinned draws of one replicate's ``(chain, draw, ...)`` samples."""
    flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in samples.items()}
    idx = np.linspace(0, len(flat["beta"]) - 1, n_ranks).round().astype(int)
    for name, value in truth.items():
        draws = flat[name][idx].reshape(n_ranks, -1)
        for j, t in enumerate(np.ravel(value)):
            key = name if np.size(value) == 1 else f"{name}[{j}]"
            ranks.setdefault(key, []).append(int(np.sum(draws[:, j] < t)))
    thinned = {k: v[idx] for k, v in flat.items()}
    ll = _loglik(thinned, inputs, y)
    truth_as_draw = {k: (np.asarray(truth[k])[None] if k in truth else flat[k][:1])
                     for k in thinned}
    ll_true = _loglik(truth_as_draw, inputs, y)[0]
    ranks.setdefault("log_likelihood", []).append(int(np.sum(ll < ll_true)))


def run(replicates: int = 100, n_periods: int = 104, warmup: int = 500, samples: int = 500,
        chains: int = 2, n_ranks: int = 99, bins: int = 10, seed: int = 0,
        bug: str = "none", batch: int = 20) -> dict:
    """Run SBC; returns per-quantity rank histograms and chi-square p-values.

    Replicates are fitted ``batch`` at a time through the ``fit_many`` machinery (one
    compiled program per batch shape)."""
    import jax
    from scipy import stats

    from mmm_jax.model import make_model
    from mmm_jax.sampler import run_nuts
    from mmm_jax.sampler_config import SamplerConfig

    config, dims, inputs = _setup(n_periods)
    model = make_model(config, dims)
    sampler = SamplerConfig(num_warmup=warmup, num_samples=samples, num_chains=chains,
                            progress_bar=False)
    ranks: dict[str, list[int]] = {}
    divergences, start = 0, time.perf_counter()
    for first in range(0, replicates, batch):
        reps = range(first, min(first + batch, replicates))
        drawn = [draw_prior(config, dims, inputs, jax.random.PRNGKey(10_000 + seed + r), bug)
                 for r in reps]
        # the fit_many machinery: one compiled program fits the whole batch of replicates
        stacked = {k: np.stack([v] * len(reps)) for k, v in inputs.items()}
        result = run_nuts(model, stacked, np.stack([y for _, y in drawn]), sampler,
                          [seed + r for r in reps], cache_key=("sbc", config.key, dims),
                          many=True)
        divergences += int(result.stats["diverging"].sum())
        for j, (truth, y) in enumerate(drawn):
            samples_j = {k: v[j] for k, v in result.samples.items()}
            _add_ranks(ranks, truth, samples_j, inputs, y, n_ranks)
    report = {}
    for name, rk in ranks.items():
        counts = np.histogram(rk, bins=bins, range=(0, n_ranks + 1))[0]
        p = float(stats.chisquare(counts).pvalue)
        report[name] = {"counts": counts.tolist(), "p_value": p}
    return {"replicates": replicates, "n_periods": n_periods, "bug": bug,
            "sampler": {"warmup": warmup, "samples": samples, "chains": chains},
            "ranks_per_replicate": n_ranks, "bins": bins, "divergences": divergences,
            "seconds": round(time.perf_counter() - start, 1), "quantities": report,
            "min_p_value": min(v["p_value"] for v in report.values()),
            "n_quantities": len(report)}


def main(argv=None) -> None:
    from benchmarks._machine import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--bug", choices=["none", "unnormalised"], default="none")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    out = run(replicates=args.replicates, bug=args.bug)
    out["machine"] = machine()
    verdict = "PASS" if out["min_p_value"] > 0.01 else "FAIL"
    print(f"SBC ({args.bug}) {args.replicates} replicates in {out['seconds']} s: min p = "
          f"{out['min_p_value']:.3g} over {out['n_quantities']} quantities -> {verdict}")
    for name, q in sorted(out["quantities"].items(), key=lambda kv: kv[1]["p_value"])[:5]:
        print(f"  {name:16s} p = {q['p_value']:.3g}  counts {q['counts']}")
    path = pathlib.Path(args.out)
    path.mkdir(parents=True, exist_ok=True)
    (path / f"sbc_{args.bug}.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
