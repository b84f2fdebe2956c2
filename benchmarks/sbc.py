"""Simulation-based calibration (Talts et al. 2018) of the national model and sampler.

For each replicate: draw every parameter from its declared prior, simulate a KPI series from the
model on the embedded example's (unit-scale) media and controls, fit it with NUTS, and record
the rank of each true scalar parameter (and of the true log-likelihood) among L thinned
posterior draws. If the model and sampler are right, ranks are uniform: a chi-square test over
10 bins per quantity. Planted bugs must make it fail: ``--bug unnormalised`` (the generator
uses geometric adstock without the ``(1 - alpha)`` factor) and ``--bug lift_window`` (the
generator's lift-test measurements leave out the carryover after the test window).

Any model specification can be calibrated (``--baseline piecewise``, ``--media-prior roi``);
``--lift`` adds three lift tests (:data:`LIFT_DESIGN`, sd :data:`LIFT_SD` on the unit scale,
fixed so that it carries no information about the truth) to every replicate, and their
log-likelihood joins the ranked log-likelihood.

Usage::

    python -m benchmarks.sbc [--replicates 100] [--bug none|unnormalised|lift_window]
        [--lift] [--baseline linear|piecewise] [--media-prior ...] [--out DIR]

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


#: lift tests of the SBC design, one per channel: (channel, first period, periods, extra media
#: per period on the unit scale); their sd is fixed (unit scale), independent of the truth.
LIFT_DESIGN = ((0, 20, 6, 0.5), (1, 40, 4, 0.8), (2, 60, 8, 0.4))
LIFT_SD = 0.05


def _setup(n_periods: int, spec=None, lift: bool = False):
    """``(spec, dims, inputs)`` on the embedded example's media and controls (unit scale),
    laid out as a fit lays them out; with ``lift``, the lift-test arrays of
    :data:`LIFT_DESIGN` (``lift_obs`` is filled per replicate)."""
    import mmm_jax as mj
    from mmm_jax.fit import _problem
    from mmm_jax.spec import ModelSpec

    df = mj.load_example("national").iloc[:n_periods]
    data = mj.MMMData.from_dataframe(df, date="date", target="sales",
                                     media=["tv", "search", "social"], controls=["price"])
    spec = ModelSpec() if spec is None else spec
    p = _problem(spec, data)
    inputs = dict(p.inputs)
    if lift:
        n = len(LIFT_DESIGN)
        inputs["lift_channel"] = np.array([c for c, *_ in LIFT_DESIGN], np.int32)
        inputs["lift_geo"] = np.zeros(n, np.int32)
        delta = np.zeros((n, n_periods), np.float32)
        after = np.zeros((n, n_periods), np.float32)
        for i, (_, first, length, per_period) in enumerate(LIFT_DESIGN):
            delta[i, first:first + length] = per_period
            after[i, first:] = 1.0
        inputs.update(lift_delta=delta, lift_after=after,
                      lift_sd=np.full(n, LIFT_SD, np.float32),
                      lift_obs=np.zeros(n, np.float32))
    return spec, p.dims, inputs


def draw_prior(config, dims, inputs, key, bug: str = "none"):
    """One draw of every declared prior, a simulated unit-scale KPI and (when ``inputs`` has
    lift tests) simulated lift measurements.

    Bugs: ``"unnormalised"`` (the generator's geometric adstock lacks its ``(1 - alpha)``
    factor), ``"lift_window"`` (the generator's lift leaves out the carryover after the test
    window, which the model counts).

    Returns:
        (params dict, y ``(T,)``, lift ``(L,)`` or None).
    """
    import jax

    from mmm_jax.model import _covariates, derived_sites, lift_predictions, site_shapes
    from mmm_jax.priors import default_priors, resolve
    from mmm_jax.transforms import get_adstock, get_saturation
    from mmm_jax.transforms.adstock import geometric_adstock

    adstock, saturation = get_adstock(config.adstock), get_saturation(config.saturation)
    defaults = default_priors(adstock, saturation)
    shapes = site_shapes(config, dims)
    keys = jax.random.split(key, len(shapes) + 2)
    params = {name: resolve(name, shape, config.priors, defaults).sample(k)
              for (name, shape), k in zip(shapes.items(), keys[:-2], strict=True)}
    params.update(derived_sites(params, inputs, config, None))
    if bug == "unnormalised":
        ad = geometric_adstock(inputs["media"], params["alpha"], normalize=False)
    else:
        ad = adstock(inputs["media"], **{p: params[p] for p in adstock.params})
    media = saturation(ad, **{p: params[p] for p in saturation.params}) * params["beta"]
    if "media_tv" in params:
        media = media * params["media_tv"][:, None]
    mu = params["intercept"] + _covariates(params, inputs) + media.sum(-1)
    y = mu + params["sigma"] * jax.random.normal(keys[-2], mu.shape)
    lift = None
    if "lift_obs" in inputs:
        window = inputs["lift_after"] * (inputs["lift_delta"] != 0)
        generating = dict(inputs, lift_after=window) if bug == "lift_window" else inputs
        true_lift = lift_predictions(params, generating, config, None)
        lift = np.asarray(true_lift + inputs["lift_sd"] * jax.random.normal(
            keys[-1], true_lift.shape), np.float32)
    return ({k: np.asarray(v) for k, v in params.items()}, np.asarray(y, dtype=np.float32),
            lift)


def _loglik(samples: dict, inputs, y, config) -> np.ndarray:
    """Log-likelihood of ``y`` (and of the lift measurements in ``inputs``) under each draw
    (``(D,)``) of constrained samples."""
    return np.asarray(_loglik_fn(config, "lift_obs" in inputs)(samples, inputs, y))


@functools.cache
def _loglik_fn(config, lift: bool):
    import jax
    import numpyro.distributions as dist

    from mmm_jax.model import baseline, lift_predictions, media_effects

    def one(p, inputs, y):
        mu = baseline(p, inputs, config, None) + media_effects(p, inputs["media"], config,
                                                               None).sum(-1)
        out = dist.Normal(mu, p["sigma"]).log_prob(y).sum()
        if lift:
            pred = lift_predictions(p, inputs, config, None)
            out = out + dist.Normal(pred, inputs["lift_sd"]).log_prob(inputs["lift_obs"]).sum()
        return out

    return jax.jit(jax.vmap(one, in_axes=(0, None, None)))


def _add_ranks(ranks: dict, truth: dict, samples: dict, inputs, y, n_ranks: int,
               config) -> None:
    """Append the rank of each true scalar (and of the true log-likelihood) among ``n_ranks``
    thinned draws of one replicate's ``(chain, draw, ...)`` samples (deterministic sites
    that are fixed by the others, e.g. ``media_tv``, are ranked too; a component that never
    moves is skipped)."""
    flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in samples.items()}
    idx = np.linspace(0, len(flat["beta"]) - 1, n_ranks).round().astype(int)
    for name, value in truth.items():
        draws = flat[name][idx].reshape(n_ranks, -1)
        for j, t in enumerate(np.ravel(value)):
            if np.ptp(draws[:, j]) == 0:
                continue
            key = name if np.size(value) == 1 else f"{name}[{j}]"
            ranks.setdefault(key, []).append(int(np.sum(draws[:, j] < t)))
    thinned = {k: v[idx] for k, v in flat.items()}
    ll = _loglik(thinned, inputs, y, config)
    truth_as_draw = {k: (np.asarray(truth[k])[None] if k in truth else flat[k][:1])
                     for k in thinned}
    ll_true = _loglik(truth_as_draw, inputs, y, config)[0]
    ranks.setdefault("log_likelihood", []).append(int(np.sum(ll < ll_true)))


def run(replicates: int = 100, n_periods: int = 104, warmup: int = 500, samples: int = 500,
        chains: int = 2, n_ranks: int = 99, bins: int = 10, seed: int = 0,
        bug: str = "none", batch: int = 20, spec=None, lift: bool = False) -> dict:
    """Run SBC; returns per-quantity rank histograms and chi-square p-values.

    Args:
        spec: the :class:`~mmm_jax.ModelSpec` to calibrate (default: the defaults).
        lift: add the lift tests of :data:`LIFT_DESIGN` to every replicate.

    Replicates are fitted ``batch`` at a time through the ``fit_many`` machinery (one
    compiled program per batch shape)."""
    import jax
    from scipy import stats

    from mmm_jax.model import make_model
    from mmm_jax.sampler import run_nuts
    from mmm_jax.sampler_config import SamplerConfig

    config, dims, inputs = _setup(n_periods, spec, lift)
    model = make_model(config, dims)
    sampler = SamplerConfig(num_warmup=warmup, num_samples=samples, num_chains=chains,
                            progress_bar=False)
    ranks: dict[str, list[int]] = {}
    divergences, start = 0, time.perf_counter()
    for first in range(0, replicates, batch):
        reps = range(first, min(first + batch, replicates))
        drawn = [draw_prior(config, dims, inputs, jax.random.PRNGKey(10_000 + seed + r), bug)
                 for r in reps]
        own = [inputs if lift_obs is None else dict(inputs, lift_obs=lift_obs)
               for _, _, lift_obs in drawn]
        # the fit_many machinery: one compiled program fits the whole batch of replicates
        stacked = {k: np.stack([o[k] for o in own]) for k in inputs}
        result = run_nuts(model, stacked, np.stack([y for _, y, _ in drawn]), sampler,
                          [seed + r for r in reps],
                          cache_key=("sbc", config.key, dims, lift), many=True)
        divergences += int(result.stats["diverging"].sum())
        for j, (truth, y, _) in enumerate(drawn):
            samples_j = {k: v[j] for k, v in result.samples.items()}
            _add_ranks(ranks, truth, samples_j, own[j], y, n_ranks, config)
    report = {}
    for name, rk in ranks.items():
        counts = np.histogram(rk, bins=bins, range=(0, n_ranks + 1))[0]
        p = float(stats.chisquare(counts).pvalue)
        report[name] = {"counts": counts.tolist(), "p_value": p}
    return {"replicates": replicates, "n_periods": n_periods, "bug": bug, "lift": lift,
            "spec": {k: v for k, v in vars(config).items() if k != "priors"},
            "sampler": {"warmup": warmup, "samples": samples, "chains": chains},
            "ranks_per_replicate": n_ranks, "bins": bins, "divergences": divergences,
            "seconds": round(time.perf_counter() - start, 1), "quantities": report,
            "min_p_value": min(v["p_value"] for v in report.values()),
            "n_quantities": len(report)}


def main(argv=None) -> None:
    from benchmarks._machine import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--bug", choices=["none", "unnormalised", "lift_window"],
                        default="none")
    parser.add_argument("--lift", action="store_true", help="add lift tests to every replicate")
    parser.add_argument("--baseline", default="linear")
    parser.add_argument("--media-prior", default=None)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    from mmm_jax.spec import ModelSpec

    options = {"baseline": args.baseline}
    if args.media_prior:
        options["media_prior"] = args.media_prior
    spec = ModelSpec(**options)
    out = run(replicates=args.replicates, bug=args.bug, spec=spec,
              lift=args.lift or args.bug == "lift_window")
    out["machine"] = machine()
    verdict = "PASS" if out["min_p_value"] > 0.01 else "FAIL"
    print(f"SBC ({args.bug}) {args.replicates} replicates in {out['seconds']} s: min p = "
          f"{out['min_p_value']:.3g} over {out['n_quantities']} quantities -> {verdict}")
    for name, q in sorted(out["quantities"].items(), key=lambda kv: kv[1]["p_value"])[:5]:
        print(f"  {name:16s} p = {q['p_value']:.3g}  counts {q['counts']}")
    path = pathlib.Path(args.out)
    path.mkdir(parents=True, exist_ok=True)
    tag = "_".join([args.bug, spec.baseline, spec.media_prior] + (["lift"] if out["lift"] else []))
    (path / f"sbc_{tag}.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
