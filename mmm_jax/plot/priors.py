"""Prior against posterior for every sampled parameter of the model."""

from __future__ import annotations

import jax
import numpy as np

from mmm_jax.model import site_shapes
from mmm_jax.plot._common import PALETTE, PRIOR_COLOR, Figure, figure, grid, hide_unused
from mmm_jax.priors import default_priors, resolve
from mmm_jax.transforms import get_adstock, get_saturation

# NumPy samplers of common numpyro distributions: milliseconds, where eager JAX sampling of a
# Beta or Gamma costs seconds of per-op compilation. Others fall back to a jitted JAX draw.
_NUMPY_SAMPLERS = {
    "Normal": lambda rng, d, size: rng.normal(d.loc, d.scale, size),
    "HalfNormal": lambda rng, d, size: np.abs(rng.normal(0.0, d.scale, size)),
    "LogNormal": lambda rng, d, size: rng.lognormal(d.loc, d.scale, size),
    "Beta": lambda rng, d, size: rng.beta(d.concentration1, d.concentration0, size),
    "Gamma": lambda rng, d, size: rng.gamma(d.concentration, 1.0 / d.rate, size),
    "InverseGamma": lambda rng, d, size: 1.0 / rng.gamma(d.concentration, 1.0 / d.rate, size),
    "Exponential": lambda rng, d, size: rng.exponential(1.0 / d.rate, size),
    "Uniform": lambda rng, d, size: rng.uniform(d.low, d.high, size),
    "Cauchy": lambda rng, d, size: d.loc + d.scale * rng.standard_cauchy(size),
    "HalfCauchy": lambda rng, d, size: np.abs(d.scale * rng.standard_cauchy(size)),
    "StudentT": lambda rng, d, size: d.loc + d.scale * rng.standard_t(d.df, size),
}


class _NumpyParams:
    """A distribution's parameters as float64 NumPy arrays."""

    def __init__(self, d):
        self._d = d

    def __getattr__(self, name):
        return np.asarray(getattr(self._d, name), dtype=np.float64)


def sample_prior(prior, num_draws: int, seed: int = 0) -> np.ndarray:
    """``(num_draws, *batch_shape)`` float64 draws of a numpyro distribution.

    >>> import numpyro.distributions as dist
    >>> sample_prior(dist.Beta(2.0, 2.0).expand((3,)), 10).shape
    (10, 3)
    """
    size = (num_draws, *prior.batch_shape)
    base = prior.base_dist if type(prior).__name__ == "ExpandedDistribution" else prior
    sampler = _NUMPY_SAMPLERS.get(type(base).__name__)
    if sampler is not None and not prior.event_shape:
        return np.asarray(sampler(np.random.default_rng(seed), _NumpyParams(base), size),
                          dtype=np.float64)
    draw = jax.jit(lambda key: prior.sample(key, (num_draws,)))
    return np.asarray(draw(jax.random.PRNGKey(seed)), dtype=np.float64)


def prior_draws(model, site: str, num_draws: int = 4000, seed: int = 0) -> np.ndarray:
    """``(num_draws, *shape)`` draws from the resolved prior of ``site`` (custom or default,
    on the model's unit scale), the same distribution the model samples from.

    Raises:
        ValueError: a site the model does not have.
    """
    shapes = _shapes(model)
    if site not in shapes:
        raise ValueError(f"site {site!r} has no prior in this model; its sites are "
                         f"{sorted(shapes)}")
    config = model.config
    defaults = default_priors(get_adstock(config.adstock), get_saturation(config.saturation))
    return sample_prior(resolve(site, shapes[site], config.priors, defaults), num_draws, seed)


def _shapes(model) -> dict:
    return site_shapes(model.config, model._dims(model.data))


def _labels(model, site: str, shape: tuple) -> list[str]:
    data = model.data
    if not shape:
        return [site]
    if shape == (data.n_channels,) and site not in ("season", "dow", "gamma"):
        return list(data.channels)
    if data.is_geo and shape == (data.n_geos,):
        return list(data.geos)
    if site == "gamma":
        return list(data.control_names)
    if site == "season":
        k = shape[0] // 2
        return [f"{f}_{i}" for f in ("sin", "cos") for i in range(1, k + 1)]
    if site == "dow":
        return ["Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][: shape[0]]
    return [f"{site}[{i}]" for i in range(int(np.prod(shape)))]


def prior_posterior(model, sites=None, *, num_prior_draws: int = 4000, seed: int = 0,
                    max_elements: int = 8, max_cols: int = 3) -> Figure:
    """One panel per site: the prior (grey, elements pooled) under the posterior of each
    element (coloured outlines), on the model's unit scale.

    Args:
        model: a fitted :class:`mmm_jax.MMM`.
        sites: site names (default: every site with a prior, in sampling order).
        num_prior_draws, seed: prior sample size and seed.
        max_elements: posteriors drawn per site (the first ones; e.g. geos beyond are noted).

    Returns:
        A Figure with one axes per site.

    Raises:
        ValueError: a site the model does not have.
    """
    shapes = _shapes(model)
    sites = list(shapes) if sites is None else list(sites)
    rows, cols = grid(len(sites), max_cols)
    fig, axes = figure(rows, cols, width=4.0 * cols, height=2.8 * rows)
    for ax, site in zip(axes.ravel(), sites, strict=False):
        prior = prior_draws(model, site, num_prior_draws, seed).reshape(num_prior_draws, -1)
        post = np.asarray(model.samples[site], dtype=np.float64)
        post = post.reshape(post.shape[0] * post.shape[1], -1)
        labels = _labels(model, site, shapes[site])
        lo_p, hi_p = np.quantile(prior, [0.005, 0.995])
        lo = min(float(lo_p), float(post.min()))
        hi = max(float(hi_p), float(post.max()))
        ax.hist(prior.ravel(), bins=np.linspace(lo, hi, 60), density=True,
                color=PRIOR_COLOR, alpha=0.45, label="prior")
        shown = min(post.shape[1], max_elements)
        for j in range(shown):  # own bins: a narrow posterior keeps its shape
            ax.hist(post[:, j], bins=30, density=True, histtype="step", linewidth=1.3,
                    color=PALETTE[j % len(PALETTE)], label=labels[j])
        ax.set_xlim(lo, hi)
        more = f" (first {shown} of {post.shape[1]})" if post.shape[1] > shown else ""
        ax.set_title(site + more, fontsize=10)
        ax.set_yticks([])
        ax.legend(fontsize=7, frameon=False)
    hide_unused(axes, len(sites))
    fig.suptitle("Prior (grey) vs posterior, on the model's unit scale")
    return fig
