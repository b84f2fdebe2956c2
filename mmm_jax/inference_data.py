"""The complete ArviZ InferenceData of a fit (ArviZ 0.x ``InferenceData``, 1.x ``DataTree``).

Groups and variables (``[geo,]`` only for geo models):

* ``posterior``: every sampled site as the sampler saw it (kernel parameters, ``beta``,
  ``intercept``, ... on the unit scale, and the sampler's coordinates ``beta_raw`` /
  ``intercept_raw``), plus ``contribution`` ``(chain, draw, [geo,] date, channel)`` and
  ``roi`` ``(chain, draw, channel)`` in original units (what ``MMM.roi`` summarises);
* ``prior``: draws from the declared priors (custom or default, :mod:`mmm_jax.priors`). The
  sampler reaches ``beta`` and ``intercept`` through proposals corrected by a factor, so
  they are drawn here from their declared priors directly; ``beta_raw`` / ``intercept_raw``
  are what those values map to, and ``roi`` is the implied prior ROI;
* ``prior_predictive``, ``posterior_predictive``, ``observed_data``: ``kpi`` in original
  units, dims ``([geo,] date)`` after the sample dims;
* ``log_likelihood``: ``kpi``, the pointwise log density of each observed KPI value **in
  original units** (the unit-scale density minus the log of its geo's KPI scale), so
  ``az.loo`` compares models fitted on the same data whatever their scaling. For a fit
  with a holdout it covers every observation, the held-out ones too (their out-of-sample
  density): :func:`loo_data` (used by :func:`mmm_jax.compare.compare`) keeps the fitted ones;
* ``sample_stats`` (NUTS statistics), ``constant_data`` (``media``, ``spend``, ``controls``).

Coordinates: ``date``, ``channel``, ``geo``, ``control``, ``fourier``, ``weekday``.
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from mmm_jax import _arviz
from mmm_jax import posterior as post
from mmm_jax.media_priors import PRIOR_SITE, prior_inputs
from mmm_jax.model import derived_sites, site_shapes, transform_media
from mmm_jax.priors import default_priors, resolve
from mmm_jax.result import FitResult, float_dtype
from mmm_jax.transforms import get_adstock, get_saturation

BATCH = 256  # draws per jitted call: bounds memory for large geo models
CONTRIBUTION_MAX_BYTES = 2**30  # above this a geo model's contribution is summed over geos
_SAMPLER_COORDS = ("beta_raw", "intercept_raw", "contribution_share_raw", "roi_raw", "mroi_raw")


def site_dims(model) -> dict[str, list[str]]:
    """Dimension names of every posterior site (after the chain and draw axes).

    Args:
        model: a fitted :class:`~mmm_jax.MMM` or a :class:`~mmm_jax.FitResult`.

    Returns:
        dict site name -> list of dimension names (``[]`` for scalars).
    """
    geo = ["geo"] if model.data.is_geo else []
    dims = {"beta": ["channel"], "beta_raw": ["channel"], "beta_geo_sd": ["channel"],
            "beta_geo_raw": ["geo", "channel"], "intercept": geo, "intercept_raw": geo,
            "sigma": geo, "season": ["fourier"], "dow": ["weekday"], "gamma": ["control"],
            "trend": [], "nu": [], "baseline_sd": [], "baseline_raw": ["knot_step"],
            "media_tv_sd": [], "media_tv_raw": ["knot_step"], "media_tv": ["date"]}
    for name, value in model.samples.items():
        if name not in dims:  # kernel parameters: one per channel
            dims[name] = ["channel"] if np.ndim(value) == 3 else []
    return {k: v for k, v in dims.items() if k in model.samples}


def site_coords(model) -> dict:
    """Coordinate values: ``channel``, ``control``, ``date``, ``fourier``, ``weekday``
    (``geo`` for geo models, ``knot_step`` with knots) of ``model`` (an MMM or a
    FitResult)."""
    data = model.data
    coords = {"channel": list(data.channels), "control": list(data.control_names),
              "date": np.asarray(data.dates),
              "fourier": [f"{f}_{k}" for f in ("sin", "cos")
                          for k in range(1, model.spec.seasonality_degree + 1)],
              "weekday": ["Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}
    n_knots = model.dims.n_knots if hasattr(model, "dims") else model.result.dims.n_knots
    if n_knots:
        coords["knot_step"] = list(range(1, n_knots))
    if data.is_geo:
        coords["geo"] = list(data.geos)
    return coords


def _obs_dims(data) -> list[str]:
    return ["geo", "date"] if data.is_geo else ["date"]


def _core(result: FitResult) -> tuple[dict, dict]:
    """Groups posterior, sample_stats, observed_data, constant_data and their dims."""
    data, ss = result.data, result.sample_stats
    obs = _obs_dims(data)
    series = [*obs, "channel"]
    groups = {
        "posterior": {k: np.asarray(v) for k, v in result.samples.items()},
        "sample_stats": {
            "diverging": ss["diverging"], "tree_depth": ss["tree_depth"],
            "n_steps": ss["num_steps"], "acceptance_rate": ss["accept_prob"],
            "energy": ss["energy"], "lp": -ss["potential_energy"],
            "step_size": ss["step_size"]},
        "observed_data": {"kpi": data.target},
        "constant_data": {"media": data.media, "spend": data.spend, "controls": data.controls}}
    dims = {**site_dims(result), "kpi": obs, "media": series, "spend": series,
            "controls": [*obs, "control"], "roi": ["channel"]}
    return groups, dims


def core_inference_data(result: FitResult):
    """The groups a save stores: posterior (sampled sites only), sample_stats, observed_data,
    constant_data.

    Args:
        result: a :class:`~mmm_jax.FitResult`.

    Returns:
        ArviZ ``InferenceData`` (0.x) or ``xarray.DataTree`` (1.x).
    """
    groups, dims = _core(result)
    return _arviz.from_dict(groups, coords=site_coords(result), dims=dims)


def loo_data(result: FitResult):
    """What PSIS-LOO needs: the posterior and the pointwise log likelihood (original units) of
    the observations the fit used. Without a holdout its dims are ``([geo,] date)``; with one
    the fitted observations are stacked along ``obs`` (held-out ones left out).

    Args:
        result: a :class:`~mmm_jax.FitResult`.

    Returns:
        ArviZ ``InferenceData`` (0.x) or ``xarray.DataTree`` (1.x) with groups ``posterior``
        and ``log_likelihood``.
    """
    flat = post.flatten_draws(result.samples)
    log_lik = _chains(_log_lik(result, flat, _sweep(result, flat, contribution=False)["mu"]),
                      result)
    dims = site_dims(result)
    holdout = getattr(result, "holdout", None)
    if holdout is None:
        dims["kpi"] = _obs_dims(result.data)
    else:
        log_lik, dims["kpi"] = log_lik[:, :, ~np.asarray(holdout, bool)], ["obs"]
    groups = {"posterior": {k: np.asarray(v) for k, v in result.samples.items()},
              "log_likelihood": {"kpi": log_lik}}
    return _arviz.from_dict(groups, coords=site_coords(result), dims=dims)


def to_inference_data(result: FitResult, *, prior_draws: int = 500, seed: int | None = None,
                      geo_contribution: bool | None = None):
    """Every group of the module docstring.

    Args:
        result: a :class:`~mmm_jax.FitResult` (``model.result``).
        prior_draws: draws in the ``prior`` and ``prior_predictive`` groups (0 leaves both
            out).
        seed: seed of the prior draws and of the predictive noise (default: the fit's seed).
        geo_contribution: for geo models, keep ``contribution`` per geo (True) or sum it over
            geos (False); None (default) keeps it per geo when it fits in
            ``CONTRIBUTION_MAX_BYTES`` (1 GiB) and otherwise sums it, with a warning.

    Returns:
        ArviZ ``InferenceData`` (0.x) or ``xarray.DataTree`` (1.x).

    Raises:
        ValueError: ``prior_draws`` is negative.

    Example:
        >>> idata = to_inference_data(model.result, prior_draws=200)  # doctest: +SKIP
        >>> az.loo(idata)  # doctest: +SKIP
    """
    if int(prior_draws) < 0:
        raise ValueError(f"prior_draws must be >= 0, got {prior_draws}")
    seed = result.seed if seed is None else int(seed)
    rng_post, rng_prior = np.random.default_rng(seed).spawn(2)
    groups, dims = _core(result)
    flat = post.flatten_draws(result.samples)
    keep = _keep_geo_contribution(result, len(flat["sigma"]), geo_contribution)
    swept = _sweep(result, flat, contribution=True, per_geo=keep)
    groups["posterior"]["contribution"] = _chains(swept["contribution"], result)
    groups["posterior"]["roi"] = _chains(swept["roi"], result)
    groups["log_likelihood"] = {"kpi": _chains(_log_lik(result, flat, swept["mu"]), result)}
    groups["posterior_predictive"] = {
        "kpi": _chains(swept["mu"] + _noise(result, flat, swept["mu"].shape, rng_post), result)}
    if prior_draws:
        prior, kpi = _prior(result, int(prior_draws), seed, rng_prior)
        groups["prior"] = {k: v[None] for k, v in prior.items()}
        groups["prior_predictive"] = {"kpi": kpi[None]}
    obs = _obs_dims(result.data)
    dims["contribution"] = [*obs, "channel"] if keep else ["date", "channel"]
    return _arviz.from_dict(groups, coords=site_coords(result), dims=dims)


# ---------------------------------------------------------------- per-draw quantities
def _chains(x: np.ndarray, result: FitResult) -> np.ndarray:
    """``(chain * draw, ...)`` -> ``(chain, draw, ...)`` like the fit's samples."""
    return x.reshape(*np.shape(result.samples["sigma"])[:2], *x.shape[1:])


def _keep_geo_contribution(result: FitResult, n_draws: int, choice: bool | None) -> bool:
    data = result.data
    if not data.is_geo:
        return True
    if choice is not None:
        return bool(choice)
    size = 8 * n_draws * data.n_geos * data.n_time * data.n_channels
    if size <= CONTRIBUTION_MAX_BYTES:
        return True
    warnings.warn(f"the per-geo contribution would take {size / 2**30:.1f} GiB; it is summed "
                  "over geos (pass geo_contribution=True to keep it per geo)", UserWarning,
                  stacklevel=4)
    return False


def _sweep(result: FitResult, flat: dict, *, contribution: bool, per_geo: bool = True) -> dict:
    """Expected KPI ``mu`` ``(D, [G,] T)``, per-draw ``roi`` ``(D, C)`` and (optionally)
    ``contribution`` ``(D, [G,] T, C)`` (or summed over geos) in original units, from
    batches of :data:`BATCH` draws through the jitted helpers of :mod:`mmm_jax.posterior`."""
    data, spec = result.data, result.spec
    n_geos = data.n_geos if data.is_geo else None
    inputs = result.inputs()
    scale = jnp.asarray(result.scales.target, dtype=float_dtype())
    spend = data.spend.reshape(-1, data.n_channels).sum(axis=0)
    n = len(flat["sigma"])
    size = min(BATCH, n)
    out = {"mu": [], "roi": [], "contribution": []}
    for start in range(0, n, size):
        take = np.minimum(np.arange(start, start + size), n - 1)  # last batch: repeat last draw
        chunk = {k: np.asarray(v)[take] for k, v in flat.items()
                 if k not in _SAMPLER_COORDS}  # prior and posterior: one compile
        valid = min(size, n - start)
        c = np.asarray(post.channel_contributions(chunk, inputs["media"], scale, config=spec,
                                                  n_geos=n_geos), dtype=np.float64)[:valid]
        b = np.asarray(post.baselines(chunk, inputs, scale, config=spec, n_geos=n_geos),
                       dtype=np.float64)[:valid]
        out["mu"].append(b + c.sum(-1))
        out["roi"].append(c.reshape(valid, -1, data.n_channels).sum(1) / spend)
        if contribution:
            out["contribution"].append(c if per_geo or n_geos is None else c.sum(1))
    return {k: np.concatenate(v) for k, v in out.items() if v}


def _scaled_sigma(result: FitResult, flat: dict) -> np.ndarray:
    """``(D, [G,] 1)`` noise scale in original units."""
    return (np.asarray(flat["sigma"], np.float64) * result.scales.target)[..., None]


def _nu(flat: dict, ndim: int) -> np.ndarray:
    return np.asarray(flat["nu"], np.float64).reshape(-1, *([1] * (ndim - 1)))


def _log_lik(result: FitResult, flat: dict, mu: np.ndarray) -> np.ndarray:
    """``(D, [G,] T)`` log density of the observed KPI (original units) under each draw."""
    y, sigma = result.data.target, _scaled_sigma(result, flat)
    if result.spec.likelihood == "student_t":
        return stats.t.logpdf(y, df=_nu(flat, mu.ndim), loc=mu, scale=sigma)
    return stats.norm.logpdf(y, loc=mu, scale=sigma)


def _noise(result: FitResult, flat: dict, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Observation noise in original units, one draw per (draw, [geo,] date)."""
    if result.spec.likelihood == "student_t":
        eps = rng.standard_t(np.broadcast_to(_nu(flat, len(shape)), shape))
    else:
        eps = rng.standard_normal(shape)
    return eps * _scaled_sigma(result, flat)


# ---------------------------------------------------------------- prior
def prior_samples(result: FitResult, n: int, seed: int) -> dict:
    """``n`` draws of every sampled site from its declared prior (``beta`` and ``intercept``
    included; ``beta_geo_raw`` from its standard normal), each ``(n, ...)``.

    Args:
        result: a :class:`~mmm_jax.FitResult` (its spec, data shapes).
        n: number of draws. seed: integer seed.

    Returns:
        dict site -> NumPy array.
    """
    spec, dims = result.spec, result.dims
    draws = _sample_priors(jax.random.PRNGKey(seed), spec=spec, dims=dims, n=int(n))
    if spec.time_varying_media or spec.media_prior != "coefficient":
        inputs = result.inputs()
        inputs.update(prior_inputs(spec.media_prior, result.data, result.scales,
                                   float_dtype()))
        draws.update(_derived(draws, inputs, config=spec, n_geos=dims.n_geos))
    return {k: np.asarray(v) for k, v in draws.items()}


@functools.partial(jax.jit, static_argnames=("config", "n_geos"))
def _derived(draws, inputs, *, config, n_geos):
    return jax.lax.map(lambda p: derived_sites(p, inputs, config, n_geos), draws,
                       batch_size=BATCH)


@functools.partial(jax.jit, static_argnames=("spec", "dims", "n"))
def _sample_priors(key, *, spec, dims, n):
    """One compiled program drawing every site (op-by-op sampling compiles each op)."""
    defaults = default_priors(get_adstock(spec.adstock), get_saturation(spec.saturation))
    shapes = site_shapes(spec, dims)
    keys = jax.random.split(key, len(shapes) + 1)
    draws = {name: resolve(name, shape, spec.priors, defaults).sample(k, (n,))
             for (name, shape), k in zip(shapes.items(), keys[1:], strict=True)}
    if dims.n_geos is not None:
        draws["beta_geo_raw"] = jax.random.normal(keys[0], (n, dims.n_geos, dims.n_channels),
                                                  float_dtype())
    return draws


def _prior(result: FitResult, n: int, seed: int, rng: np.random.Generator
           ) -> tuple[dict, np.ndarray]:
    """Prior draws (sites, the sampler coordinates they map to, ``roi``) and the prior
    predictive KPI ``(n, [G,] T)``."""
    draws = prior_samples(result, n, seed)
    swept = _sweep(result, draws, contribution=False)
    mu = swept["mu"]
    scale = result.scales.target[:, None] if result.data.is_geo else result.scales.target
    out = dict(draws, intercept_raw=(mu / scale).mean(-1), roi=swept["roi"])
    media_site = PRIOR_SITE[result.spec.media_prior]
    if media_site == "beta":
        out["beta_raw"] = draws["beta"] * np.asarray(
            _mean_levels(draws, result.inputs()["media"], config=result.spec), np.float64)
    else:  # the sampler's coordinate is the quantity itself (an identity map)
        out[f"{media_site}_raw"] = draws[media_site]
    return out, mu + _noise(result, draws, mu.shape, rng)


@functools.partial(jax.jit, static_argnames=("config",))
def _mean_levels(draws, media, *, config):
    """``(D, C)`` mean saturated adstocked unit media per draw (the model's ``beta`` scale)."""
    def one(p):
        out = transform_media(p, media, config)
        out = out * p["media_tv"][:, None] if "media_tv" in p else out
        return out.reshape(-1, media.shape[-1]).mean(0)

    return jax.lax.map(one, draws, batch_size=BATCH)
