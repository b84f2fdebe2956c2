"""Default priors (on the unit scale) and custom priors by site name.

The model sees the KPI divided by its mean, media divided by their mean and standardised
controls (see :mod:`mmm_jax.features`), so the defaults below suit any dataset:

=================  ==========================  =============================================
site               default                     why
=================  ==========================  =============================================
``intercept``      Normal(0.5, 0.5)            baseline is typically 50-100 % of the mean KPI
``trend``          Normal(0, 0.5)              change of the KPI over the whole history
``season``         Normal(0, 0.25)             Fourier coefficients (seasonal swings)
``dow``            Normal(0, 0.25)             day-of-week effects (daily data)
``gamma``          Normal(0, 0.25)             control coefficients (per standard deviation)
``contribution_share``
                   HalfNormal(0.2)             each channel's share of the KPI over the
                                               history (``media_prior="contribution"``, the
                                               default; unit-free)
``beta``           HalfNormal(0.5)             media effect at full saturation, as a share of
                                               the mean KPI (``media_prior="coefficient"``)
``roi``            LogNormal(0.2, 0.9)         ROI, KPI units per currency unit
                                               (``media_prior="roi"``; Meridian's default,
                                               meant for a revenue KPI)
``mroi``           LogNormal(0.0, 0.5)         marginal ROI (``media_prior="mroi"``)
``beta_geo_sd``    HalfNormal(0.25)            spread of per-geo media effects (log scale)
``sigma``          HalfNormal(0.5)             noise as a share of the mean KPI
``baseline_sd``    LogNormal(log 0.1, 0.5)     step of the piecewise baseline between knots
                                               (kept off 0: no funnel for NUTS)
``baseline_raw``   Normal(0, 1)                its non-centred steps
``media_tv_sd``    LogNormal(log 0.1, 0.5)     step of log media effectiveness between knots
``media_tv_raw``   Normal(0, 1)                its non-centred steps
``nu``             Gamma(2, 0.1)               Student-t degrees of freedom (Juárez & Steel)
kernel params      see :mod:`mmm_jax.transforms`
=================  ==========================  =============================================

Custom priors replace any of these by site name: ``MMM(priors={"beta": dist.HalfNormal(1.0),
"alpha": dist.Beta(3, 3)})``. A scalar distribution is expanded to the site's shape (per channel,
control, ...); a distribution whose batch shape already equals the site's shape is used as is.
"""

from __future__ import annotations

import numpy as np
import numpyro.distributions as dist

_BASE = {
    "intercept": lambda: dist.Normal(0.5, 0.5),
    "trend": lambda: dist.Normal(0.0, 0.5),
    "season": lambda: dist.Normal(0.0, 0.25),
    "dow": lambda: dist.Normal(0.0, 0.25),
    "gamma": lambda: dist.Normal(0.0, 0.25),
    "beta": lambda: dist.HalfNormal(0.5),
    "contribution_share": lambda: dist.HalfNormal(0.2),
    "roi": lambda: dist.LogNormal(0.2, 0.9),
    "mroi": lambda: dist.LogNormal(0.0, 0.5),
    "baseline_sd": lambda: dist.LogNormal(np.log(0.1), 0.5),
    "baseline_raw": lambda: dist.Normal(0.0, 1.0),
    "media_tv_sd": lambda: dist.LogNormal(np.log(0.1), 0.5),
    "media_tv_raw": lambda: dist.Normal(0.0, 1.0),
    "beta_geo_sd": lambda: dist.HalfNormal(0.25),
    "sigma": lambda: dist.HalfNormal(0.5),
    "nu": lambda: dist.Gamma(2.0, 0.1),
}


def default_priors(adstock, saturation) -> dict:
    """Factories of the default scalar prior for every site of a model.

    Args:
        adstock, saturation: :class:`mmm_jax.transforms.Transform` objects.

    Returns:
        dict site name -> zero-argument callable returning a numpyro distribution.

    >>> from mmm_jax.transforms import get_adstock, get_saturation
    >>> sorted(default_priors(get_adstock("geometric"), get_saturation("hill")))[:3]
    ['alpha', 'baseline_raw', 'baseline_sd']
    """
    out = dict(_BASE)
    out.update(adstock.priors)
    out.update(saturation.priors)
    return out


def resolve(name: str, shape: tuple, custom, defaults) -> dist.Distribution:
    """The prior of site ``name`` with batch shape ``shape`` (custom first, else default)."""
    prior = custom[name] if name in custom else defaults[name]()
    batch = tuple(prior.batch_shape)
    if batch == tuple(shape):
        return prior
    if batch == ():
        return prior.expand(shape) if shape else prior
    raise ValueError(
        f"prior for site {name!r} has batch shape {batch}, but the site has shape {tuple(shape)};"
        " pass a scalar distribution (it is expanded) or one with exactly that shape")


def check_sites(custom, sites) -> None:
    """Raise ``ValueError`` when a custom prior names a site the model does not have."""
    unknown = sorted(set(custom) - set(sites))
    if unknown:
        raise ValueError(
            f"custom prior for unknown site(s) {unknown}; this model's sites are {sorted(sites)}")


def prior_key(d: dist.Distribution) -> tuple:
    """A hashable description of a distribution: class name and parameter values."""
    items = []
    for name in sorted(getattr(d, "arg_constraints", {})):
        if hasattr(d, name):
            items.append((name, np.asarray(getattr(d, name)).tobytes()))
    base = getattr(d, "base_dist", None)
    if base is not None:
        items.append(("base_dist", prior_key(base)))
    return (type(d).__name__, tuple(d.batch_shape), tuple(items))


# ---------------------------------------------------------------- priors <-> JSON
def prior_to_plain(name: str, d: dist.Distribution) -> dict:
    """``{"dist": class name, "params": {...}}`` (plus ``"expand"``) for a numpyro
    distribution: how a saved model stores a custom prior.

    Raises:
        ValueError: the distribution cannot be rebuilt from its parameters (e.g. a
            transformed or truncated distribution); names the site and the fix.

    >>> prior_to_plain("beta", dist.HalfNormal(0.5))
    {'dist': 'HalfNormal', 'params': {'scale': 0.5}}
    >>> plain = prior_to_plain("beta", dist.Normal(0.0, 2.0).expand([3]))
    >>> prior_from_plain("beta", plain).batch_shape
    (3,)
    """
    if isinstance(d, dist.ExpandedDistribution):
        inner = prior_to_plain(name, d.base_dist)
        return {"expand": list(d.batch_shape), **inner}
    cls = type(d)
    if getattr(dist, cls.__name__, None) is not cls:
        raise ValueError(f"prior for site {name!r} ({cls.__name__}) cannot be saved; use a "
                         "distribution from numpyro.distributions built from its parameters")
    params = {k: np.asarray(getattr(d, k)).tolist() for k in cls.arg_constraints if hasattr(d, k)}
    try:
        rebuilt = prior_from_plain(name, {"dist": cls.__name__, "params": params})
    except (TypeError, ValueError):
        rebuilt = None
    same = rebuilt is not None and all(
        np.array_equal(np.asarray(getattr(rebuilt, k), np.float64),
                       np.asarray(getattr(d, k), np.float64)) for k in params)
    if not same or tuple(rebuilt.batch_shape) != tuple(d.batch_shape):
        raise ValueError(f"prior for site {name!r} ({cls.__name__}) cannot be rebuilt from its "
                         "parameters; use a plain numpyro distribution (Normal, HalfNormal, "
                         "Beta, Gamma, LogNormal, ...)")
    return {"dist": cls.__name__, "params": params}


def prior_from_plain(name: str, spec: dict) -> dist.Distribution:
    """Inverse of :func:`prior_to_plain`.

    Raises:
        ValueError: an unknown distribution name (names the site).
    """
    cls = getattr(dist, str(spec.get("dist")), None)
    if cls is None or not isinstance(cls, type) or not issubclass(cls, dist.Distribution):
        raise ValueError(f"prior for site {name!r}: unknown distribution {spec.get('dist')!r}")
    out = cls(**{k: np.asarray(v) if isinstance(v, list) else v
                 for k, v in spec["params"].items()})
    if "expand" in spec:
        out = out.expand(tuple(spec["expand"]))
    return out
