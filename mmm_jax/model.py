"""The NumPyro model: baseline + sum over channels of beta * saturation(adstock(media)).

On the unit scale (see :mod:`mmm_jax.features`), for period ``t`` (and geo ``g``)::

    mu[g, t] = intercept[g] + base(t) + fourier[t] @ season + dow[t] @ dow
               + controls[g, t] @ gamma
               + sum_c beta[g, c] * m[t] * sat_c(adstock_c(media[g, :, c]))[t]
    y[g, t] ~ Normal(mu[g, t], sigma[g])          (or StudentT(nu, mu, sigma))

``base(t)`` is ``trend * t`` (``baseline="linear"``) or a piecewise-linear path through K
knots whose levels are a random walk from 0, non-centred: ``level[k] = baseline_sd *
sum_{j<=k} baseline_raw[j]`` (``baseline="piecewise"``; shared by all geos, each geo keeps
its own intercept; held at the last level after the history). ``m[t]`` is 1, or with
``time_varying_media=True`` ``exp(knots[t] @ w)``, with ``w`` a random walk that is 0 at the
last knot (``m = 1`` in the last period and after it).

Geo models share the kernel parameters, trend, seasonality and control effects, and draw
per-geo media effects non-centred: ``beta[g, c] = beta[c] * exp(beta_geo_sd[c] * z[g, c])``
with ``z ~ Normal(0, 1)``; intercepts and noise are per geo. The media prior is placed on a
contribution share, ROI, marginal ROI or ``beta`` itself (:mod:`mmm_jax.media_priors`); lift
tests add ``Normal(lift | model lift, lift_sd)`` terms (:mod:`mmm_jax.lift_tests`).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from mmm_jax import media_priors
from mmm_jax.priors import check_sites, default_priors, resolve
from mmm_jax.spec import ModelSpec
from mmm_jax.transforms import get_adstock, get_saturation


@dataclasses.dataclass(frozen=True)
class Dims:
    """Static sizes of a model: geos (None for national), channels, controls, Fourier, dow,
    knots (of a piecewise baseline / time-varying media; 0 without)."""

    n_geos: int | None
    n_channels: int
    n_controls: int
    n_fourier: int
    n_dow: int
    n_knots: int = 0


def site_shapes(config: ModelSpec, dims: Dims) -> dict[str, tuple]:
    """Shape of every sampled site with a prior, in sampling order (the media prior's site,
    ``beta`` for ``media_prior="coefficient"``, is solved for ``beta`` in the model)."""
    adstock, saturation = get_adstock(config.adstock), get_saturation(config.saturation)
    c = (dims.n_channels,)
    g = () if dims.n_geos is None else (dims.n_geos,)
    shapes = {p: c for p in adstock.params}
    shapes.update({p: c for p in saturation.params})
    shapes[media_priors.PRIOR_SITE[config.media_prior]] = c
    if dims.n_geos is not None:
        shapes["beta_geo_sd"] = c
    shapes["intercept"] = g
    if config.baseline == "linear" and config.trend:
        shapes["trend"] = ()
    if config.baseline == "piecewise":
        shapes["baseline_sd"] = ()
        shapes["baseline_raw"] = (dims.n_knots - 1,)
    if config.time_varying_media:
        shapes["media_tv_sd"] = ()
        shapes["media_tv_raw"] = (dims.n_knots - 1,)
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


def knot_levels(params: dict, name: str):
    """``(K,)`` knot levels of a random walk starting at 0: ``sd * cumsum(raw)``."""
    steps = params[f"{name}_sd"] * params[f"{name}_raw"]
    return jnp.concatenate([jnp.zeros((1,), steps.dtype), jnp.cumsum(steps)])


def effectiveness(params: dict, knots):
    """``(T,)`` time-varying media effectiveness at the periods of the knot basis ``knots``
    ``(T, K)``: ``exp`` of a random walk over the knots, pinned to 1 at the last knot."""
    levels = knot_levels(params, "media_tv")
    return jnp.exp(knots @ (levels - levels[-1]))


def _effectiveness_over(params: dict, n_periods: int):
    """The fitted effectiveness ``media_tv`` (history) over ``n_periods`` from the history's
    start; periods after the history hold its last value (1)."""
    history = params["media_tv"]
    n_hist = history.shape[-1]
    if n_periods < n_hist:
        raise ValueError(f"media with time-varying effectiveness covers {n_periods} periods; "
                         f"pass the {n_hist} history periods (plus any future ones)")
    return jnp.concatenate([history, jnp.ones((n_periods - n_hist,), history.dtype)])


def media_effects(params: dict, media, config: ModelSpec, n_geos: int | None):
    """Per-channel contributions on the unit scale.

    Args:
        params: constrained parameter values of one draw (dict of arrays).
        media: ``(T, C)`` or ``(G, T, C)`` unit-scale media from the history's first period
            (for time-varying effectiveness: the history, optionally followed by the future).

    Returns:
        ``(T, C)`` or ``(G, T, C)`` contributions (the model's media term before summing).
    """
    out = transform_media(params, media, config) * geo_beta(params, n_geos)[..., None, :]
    if "media_tv" in params:
        out = out * _effectiveness_over(params, media.shape[-2])[:, None]
    return out


def geo_beta(params: dict, n_geos: int | None):
    """``(C,)`` national or ``(G, C)`` per-geo media coefficients of one draw."""
    if n_geos is None:
        return params["beta"]
    return params["beta"] * geo_multiplier(params)


def geo_multiplier(params: dict):
    """``(G, C)`` per-geo multiplier of the media coefficients."""
    return jnp.exp(params["beta_geo_sd"] * params["beta_geo_raw"])


def baseline(params: dict, inputs: dict, config: ModelSpec, n_geos: int | None):
    """Unit-scale baseline ``(T,)`` national or ``(G, T)`` geo (intercept, trend, season, ...)."""
    intercept = params["intercept"]
    return (intercept[:, None] if n_geos is not None else intercept) + _covariates(params, inputs)


def _covariates(params: dict, inputs: dict):
    """Trend or knot path + seasonality + day of week + controls, ``(T,)`` or ``(G, T)``
    (no intercept)."""
    out = jnp.zeros_like(inputs["t"])
    if "trend" in params:
        out = out + params["trend"] * inputs["t"]
    if "baseline_raw" in params:
        out = out + inputs["knots"] @ knot_levels(params, "baseline")
    if "season" in params:
        out = out + inputs["fourier"] @ params["season"]
    if "dow" in params:
        out = out + inputs["dow"] @ params["dow"]
    if "gamma" in params:
        out = out + inputs["controls"] @ params["gamma"]
    return out


_EFFECT_PROPOSAL = dist.LogNormal(jnp.log(0.05), 1.0)
_LEVEL_PROPOSAL = dist.Normal(1.0, 0.5)
#: sampler proposals of the media prior's site (the prior corrects them exactly).
_MEDIA_PROPOSAL = {"contribution": _EFFECT_PROPOSAL, "roi": dist.LogNormal(0.0, 1.0),
                   "mroi": dist.LogNormal(0.0, 1.0)}


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


def solve_beta(params: dict, inputs: dict, config: ModelSpec, n_geos: int | None,
               transformed=None):
    """``beta`` ``(C,)`` from the media prior's quantity in ``params`` (contribution, roi or
    mroi; :mod:`mmm_jax.media_priors`) for one draw: what the model does, and what prior
    draws use. ``transformed``: ``transform_media`` of the history (effectiveness included),
    when the caller has it."""
    tv = params.get("media_tv")
    geo = None if n_geos is None else geo_multiplier(params)[:, None, :]

    def transform(media):
        out = transform_media(params, media, config)
        return out if tv is None else out * tv[:, None]

    media = inputs["media"]
    if config.media_prior == "mroi":
        ones = jnp.ones(media.shape[-1], media.dtype)
        per_period = jax.jvp(lambda s: transform(media * s), (ones,), (ones,))[1]
    else:
        per_period = transform(media) if transformed is None else transformed
    if geo is not None:
        per_period = per_period * geo
    level = media_priors.levels(per_period, inputs, n_geos)
    quantity = params[media_priors.PRIOR_SITE[config.media_prior]]
    return media_priors.beta_from(quantity, level, inputs, config.media_prior)


def derived_sites(params: dict, inputs: dict, config: ModelSpec, n_geos: int | None) -> dict:
    """The deterministic sites a draw of the sampled sites implies: ``media_tv`` (time-varying
    media) and ``beta`` (when the media prior is not on ``beta``). For prior draws; the model
    computes the same values inline."""
    out = {}
    if config.time_varying_media:
        out["media_tv"] = effectiveness(params, inputs["knots"])
    if config.media_prior != "coefficient":
        out["beta"] = solve_beta({**params, **out}, inputs, config, n_geos)
    return out


def lift_predictions(params: dict, inputs: dict, config: ModelSpec, n_geos: int | None):
    """``(L,)`` unit-scale lift of each lift test under one draw (:mod:`mmm_jax.lift_tests`):
    the channel's contribution with ``lift_delta`` added to its media minus without it,
    summed over the periods from the test's start to the end of the history."""
    channel, geo = inputs["lift_channel"], inputs["lift_geo"]
    media = inputs["media"]
    base = media[:, channel].T if n_geos is None else media[geo, :, channel]  # (L, T)
    kernels = get_adstock(config.adstock).params + get_saturation(config.saturation).params
    picked = {p: jnp.tile(params[p][channel], 2) for p in kernels}
    both = jnp.concatenate([base, base + inputs["lift_delta"]]).T  # (T, 2L)
    sat = transform_media(picked, both, config).T
    n_tests = base.shape[0]
    gain = (sat[n_tests:] - sat[:n_tests]) * inputs["lift_after"]
    if "media_tv" in params:
        gain = gain * params["media_tv"]
    beta = geo_beta(params, n_geos)
    beta = beta[channel] if n_geos is None else beta[geo, channel]
    return beta * gain.sum(-1)


def make_model(config: ModelSpec, dims: Dims):
    """Build the numpyro model function ``model(inputs, y=None)``.

    Args:
        config: the model configuration.
        dims: static sizes.

    Returns:
        A numpyro model taking ``inputs`` (dict from :func:`mmm_jax.features.design`, plus the
        media prior's constants from :func:`mmm_jax.media_priors.prior_inputs`) and the
        unit-scale target ``y`` (``(T,)`` or ``(G, T)``; ``None`` to sample from the prior).
        When ``inputs`` holds ``obs_mask`` (boolean, shaped like ``y``), only the observations
        where it is True enter the likelihood (holdout validation, :mod:`mmm_jax.holdout`);
        when it holds ``lift_obs`` (with the other ``lift_*`` arrays of
        :func:`mmm_jax.lift_tests.lift_inputs`), the lift tests enter it too.
    """
    defaults = default_priors(get_adstock(config.adstock), get_saturation(config.saturation))
    shapes = site_shapes(config, dims)
    check_sites(config.priors, shapes)
    media_site = media_priors.PRIOR_SITE[config.media_prior]
    derived = ("intercept", media_site)
    geo_shape = () if dims.n_geos is None else (dims.n_geos,)

    def prior(name):
        return resolve(name, shapes[name], config.priors, defaults)

    def model(inputs, y=None):
        params = {name: numpyro.sample(name, prior(name))
                  for name in shapes if name not in derived}
        if config.time_varying_media:
            params["media_tv"] = numpyro.deterministic(
                "media_tv", effectiveness(params, inputs["knots"]))
        transformed = transform_media(params, inputs["media"], config)
        if "media_tv" in params:
            transformed = transformed * params["media_tv"][:, None]
        if config.media_prior == "coefficient":
            # beta through the channel's mean contribution over the history, which the data
            # identify well, unlike beta and the saturation parameters separately.
            mean_level = transformed.reshape(-1, dims.n_channels).mean(0)
            params["beta"] = _reparam(
                "beta", prior("beta"), _EFFECT_PROPOSAL.expand(shapes["beta"]),
                lambda e: e / mean_level, -jnp.log(mean_level))
            if dims.n_geos is not None:
                params["beta_geo_raw"] = numpyro.sample(
                    "beta_geo_raw",
                    dist.Normal(0.0, 1.0).expand((dims.n_geos, dims.n_channels)))
        else:
            if dims.n_geos is not None:
                params["beta_geo_raw"] = numpyro.sample(
                    "beta_geo_raw",
                    dist.Normal(0.0, 1.0).expand((dims.n_geos, dims.n_channels)))
            params[media_site] = _reparam(
                media_site, prior(media_site),
                _MEDIA_PROPOSAL[config.media_prior].expand(shapes[media_site]),
                lambda v: v, 0.0)
            params["beta"] = numpyro.deterministic(
                "beta", solve_beta(params, inputs, config, dims.n_geos, transformed))
        rest = _covariates(params, inputs)
        rest = rest + (transformed * geo_beta(params, dims.n_geos)[..., None, :]).sum(-1)
        # intercept through the mean level of the KPI (unit scale ~ 1): decorrelates it from
        # the trend and the media effects. Shift only, so the Jacobian is 1.
        params["intercept"] = _reparam(
            "intercept", prior("intercept"),
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
        if "lift_obs" in inputs:
            numpyro.sample("lift", dist.Normal(
                lift_predictions(params, inputs, config, dims.n_geos), inputs["lift_sd"]),
                obs=inputs["lift_obs"])

    return model
