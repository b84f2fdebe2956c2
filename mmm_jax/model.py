"""The NumPyro model: baseline + sum over channels of beta * saturation(adstock(media)).

On the unit scale (see :mod:`mmm_jax.features`), for period ``t`` (and geo ``g``)::

    mu[g, t] = intercept[g] + trend * t + fourier[t] @ season + dow[t] @ dow
               + controls[g, t] @ gamma + sum_c beta[g, c] * sat_c(adstock_c(media[g, :, c]))[t]
    y[g, t] ~ Normal(mu[g, t], sigma[g])          (or StudentT(nu, mu, sigma))

Geo models share the kernel parameters, trend, seasonality and control effects, and draw
per-geo media effects non-centred: ``beta[g, c] = beta[c] * exp(beta_geo_sd[c] * z[g, c])``
with ``z ~ Normal(0, 1)``; intercepts and noise are per geo.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from mmm_jax.priors import check_sites, default_priors, resolve
from mmm_jax.spec import ModelSpec
from mmm_jax.transforms import get_adstock, get_saturation


@dataclasses.dataclass(frozen=True)
class Dims:
    """Static sizes of a model: geos (None for national), channels, controls, Fourier, dow."""

    n_geos: int | None
    n_channels: int
    n_controls: int
    n_fourier: int
    n_dow: int


def site_shapes(config: ModelSpec, dims: Dims) -> dict[str, tuple]:
    """Shape of every sampled site with a prior, in sampling order."""
    adstock, saturation = get_adstock(config.adstock), get_saturation(config.saturation)
    c = (dims.n_channels,)
    g = () if dims.n_geos is None else (dims.n_geos,)
    shapes = {p: c for p in adstock.params}
    shapes.update({p: c for p in saturation.params})
    shapes["beta"] = c
    if dims.n_geos is not None:
        shapes["beta_geo_sd"] = c
    shapes["intercept"] = g
    if config.trend:
        shapes["trend"] = ()
    if dims.n_fourier:
        shapes["season"] = (dims.n_fourier,)
    if dims.n_dow:
        shapes["dow"] = (dims.n_dow,)
    if dims.n_controls:
        shapes["gamma"] = (dims.n_controls,)
    shapes["sigma"] = g
    if config.likelihood == "student_t":
        shapes["nu"] = ()
    return shapes


def transform_media(params: dict, media, config: ModelSpec):
    """``saturation(adstock(media))`` with one draw's kernel parameters, shaped like media."""
    adstock, saturation = get_adstock(config.adstock), get_saturation(config.saturation)
    return saturation(adstock(media, **{p: params[p] for p in adstock.params}),
                      **{p: params[p] for p in saturation.params})


def media_effects(params: dict, media, config: ModelSpec, n_geos: int | None):
    """Per-channel contributions on the unit scale.

    Args:
        params: constrained parameter values of one draw (dict of arrays).
        media: ``(T, C)`` or ``(G, T, C)`` unit-scale media.

    Returns:
        ``(T, C)`` or ``(G, T, C)`` contributions (the model's media term before summing).
    """
    return transform_media(params, media, config) * geo_beta(params, n_geos)[..., None, :]


def geo_beta(params: dict, n_geos: int | None):
    """``(C,)`` national or ``(G, C)`` per-geo media coefficients of one draw."""
    if n_geos is None:
        return params["beta"]
    return params["beta"] * jnp.exp(params["beta_geo_sd"] * params["beta_geo_raw"])


def baseline(params: dict, inputs: dict, config: ModelSpec, n_geos: int | None):
    """Unit-scale baseline ``(T,)`` national or ``(G, T)`` geo (intercept, trend, season, ...)."""
    intercept = params["intercept"]
    return (intercept[:, None] if n_geos is not None else intercept) + _covariates(params, inputs)


def _covariates(params: dict, inputs: dict):
    """Trend + seasonality + day of week + controls, ``(T,)`` or ``(G, T)`` (no intercept)."""
    out = jnp.zeros_like(inputs["t"])
    if "trend" in params:
        out = out + params["trend"] * inputs["t"]
    if "season" in params:
        out = out + inputs["fourier"] @ params["season"]
    if "dow" in params:
        out = out + inputs["dow"] @ params["dow"]
    if "gamma" in params:
        out = out + inputs["controls"] @ params["gamma"]
    return out


_DERIVED = ("beta", "intercept")
_EFFECT_PROPOSAL = dist.LogNormal(jnp.log(0.05), 1.0)
_LEVEL_PROPOSAL = dist.Normal(1.0, 0.5)


def _reparam(name, prior, proposal, to_value, log_jacobian):
    """Sample ``u ~ proposal`` as site ``name + "_raw"``, return ``value = to_value(u)`` as a
    deterministic site ``name`` and add ``prior.log_prob(value) + log|d value / d u| -
    proposal.log_prob(u)`` so that the joint density is exactly the model's with ``prior``
    on ``value``. The proposal only shapes the sampler's coordinates and the initial point."""
    u = numpyro.sample(f"{name}_raw", proposal)
    value = to_value(u)
    correction = prior.log_prob(value) + log_jacobian - proposal.log_prob(u)
    numpyro.factor(f"{name}_prior", jnp.sum(correction))
    return numpyro.deterministic(name, value)


def make_model(config: ModelSpec, dims: Dims):
    """Build the numpyro model function ``model(inputs, y=None)``.

    Args:
        config: the model configuration.
        dims: static sizes.

    Returns:
        A numpyro model taking ``inputs`` (dict from :func:`mmm_jax.features.design`) and the
        unit-scale target ``y`` (``(T,)`` or ``(G, T)``; ``None`` to sample from the prior).
        When ``inputs`` holds ``obs_mask`` (boolean, shaped like ``y``), only the observations
        where it is True enter the likelihood (holdout validation, :mod:`mmm_jax.holdout`).
    """
    defaults = default_priors(get_adstock(config.adstock), get_saturation(config.saturation))
    shapes = site_shapes(config, dims)
    check_sites(config.priors, shapes)

    geo_shape = () if dims.n_geos is None else (dims.n_geos,)

    def model(inputs, y=None):
        params = {name: numpyro.sample(name, resolve(name, shape, config.priors, defaults))
                  for name, shape in shapes.items() if name not in _DERIVED}
        # beta through the channel's mean contribution over the history, which the data
        # identify well, unlike beta and the saturation parameters separately.
        transformed = transform_media(params, inputs["media"], config)
        mean_level = transformed.reshape(-1, dims.n_channels).mean(0)
        params["beta"] = _reparam(
            "beta", resolve("beta", shapes["beta"], config.priors, defaults),
            _EFFECT_PROPOSAL.expand(shapes["beta"]), lambda e: e / mean_level,
            -jnp.log(mean_level))
        if dims.n_geos is not None:
            params["beta_geo_raw"] = numpyro.sample(
                "beta_geo_raw", dist.Normal(0.0, 1.0).expand((dims.n_geos, dims.n_channels)))
        rest = _covariates(params, inputs)
        rest = rest + (transformed * geo_beta(params, dims.n_geos)[..., None, :]).sum(-1)
        # intercept through the mean level of the KPI (unit scale ~ 1): decorrelates it from
        # the trend and the media effects. Shift only, so the Jacobian is 1.
        params["intercept"] = _reparam(
            "intercept", resolve("intercept", geo_shape, config.priors, defaults),
            _LEVEL_PROPOSAL.expand(geo_shape) if geo_shape else _LEVEL_PROPOSAL,
            lambda level: level - rest.mean(-1), 0.0)
        intercept = params["intercept"]
        mu = (intercept[:, None] if dims.n_geos is not None else intercept) + rest
        sigma = params["sigma"][:, None] if dims.n_geos is not None else params["sigma"]
        if config.likelihood == "student_t":
            likelihood = dist.StudentT(params["nu"], mu, sigma)
        else:
            likelihood = dist.Normal(mu, sigma)
        if "obs_mask" in inputs:  # held-out observations leave the likelihood
            likelihood = likelihood.mask(inputs["obs_mask"])
        numpyro.sample("y", likelihood, obs=y)

    return model
