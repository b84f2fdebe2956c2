"""The model specification: one frozen dataclass holds everything that defines the model.

:class:`~mmm_jax.MMM` builds it from keywords (``MMM(adstock="geometric", trend=False)``) or
takes it whole (``MMM(spec=ModelSpec(...))``). Each field is declared once, with its default,
rule and documentation (:func:`mmm_jax._schema.option`); the TOML ``[model]`` and ``[priors]``
tables of ``mmm-jax fit``, the saved model (``config.json``) and the report's settings table
are derived from the fields, so a new model option is one new field here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

import numpyro.distributions as dist

from mmm_jax._schema import at_least, build, one_of, option, validate
from mmm_jax.priors import prior_from_plain, prior_key, prior_to_plain
from mmm_jax.transforms import ADSTOCKS, SATURATIONS

LIKELIHOODS = ("normal", "student_t")
#: what the media prior is placed on, and the prior's site (see :mod:`mmm_jax.media_priors`).
MEDIA_PRIOR_SITES = {"contribution": "contribution_share", "coefficient": "beta", "roi": "roi",
                     "mroi": "mroi"}
MEDIA_PRIORS = tuple(MEDIA_PRIOR_SITES)
#: baseline forms: a linear trend, or a piecewise-linear path through knots (random walk).
BASELINES = ("linear", "piecewise")


def _knot_count(v) -> str | None:
    return None if v == 0 or v >= 2 else "must be 0 (automatic) or >= 2"


@dataclasses.dataclass(frozen=True, eq=False)
class ModelSpec:
    """What the model is made of; every field is validated on construction.

    Attributes:
        adstock: adstock kernel name (``"geometric"``, ``"delayed"``, ``"weibull_cdf"``,
            ``"weibull_pdf"``, ``"none"``).
        saturation: saturation kernel name (``"hill"``, ``"logistic"``, ``"michaelis_menten"``,
            ``"power"``, ``"none"``).
        seasonality_degree: Fourier degree of the yearly seasonality (0 turns it off).
        seasonality_period: period in days (365.25 = yearly).
        trend: include a linear trend (``baseline="linear"`` only).
        likelihood: ``"normal"`` or ``"student_t"``.
        media_prior: what the media prior is placed on: ``"contribution"`` (each channel's
            share of the KPI over the history, unit-free), ``"coefficient"`` (the
            unit-scale coefficient ``beta``), ``"roi"`` (incremental KPI / spend, in KPI
            units per currency unit) or ``"mroi"`` (marginal ROI); the prior is
            ``priors["contribution_share" | "beta" | "roi" | "mroi"]``
            (:mod:`mmm_jax.media_priors`).
        baseline: ``"linear"`` (intercept + linear trend) or ``"piecewise"`` (a
            piecewise-linear path through ``baseline_knots`` knots whose levels follow a
            random walk: follows curved and drifting levels; held flat after the history).
        baseline_knots: knots of the piecewise baseline and of time-varying media (0 = one
            per year of history plus one, at least 2: knots a year apart cannot mimic the
            yearly seasonality).
        time_varying_media: multiply every channel's contribution by one smooth positive
            effectiveness curve over time (log-piecewise-linear through the knots, equal to 1
            in the last period and held after it).
        priors: custom priors by site name (see :mod:`mmm_jax.priors`); any numpyro
            distribution, scalar (expanded per channel/control) or with the site's shape.

    Raises:
        ValueError: unknown kernel or likelihood, negative degree, non-distribution prior
            (an unknown prior site is caught at fit time, when the sites are known).

    Example:
        >>> spec = ModelSpec(saturation="michaelis_menten", trend=False)
        >>> spec.adstock, spec.trend
        ('geometric', False)
        >>> ModelSpec.build(spec, trend=True) == ModelSpec(saturation="michaelis_menten")
        True
    """

    adstock: str = option("geometric", "str", "adstock (carryover) kernel",
                          check=one_of(sorted(ADSTOCKS)))
    saturation: str = option("hill", "str", "saturation (diminishing returns) kernel",
                             check=one_of(sorted(SATURATIONS)))
    seasonality_degree: int = option(2, "int", "Fourier degree of the seasonality (0 = none)",
                                     check=at_least(0))
    seasonality_period: float = option(365.25, "float", "seasonality period in days",
                                       check=at_least(0.0, strict=True))
    trend: bool = option(True, "bool", "linear trend in the baseline")
    likelihood: str = option("normal", "str", "observation noise",
                             check=one_of(LIKELIHOODS))
    media_prior: str = option("contribution", "str", "what the media prior is placed on",
                              check=one_of(MEDIA_PRIORS))
    baseline: str = option("piecewise", "str", "baseline form", check=one_of(BASELINES))
    baseline_knots: int = option(0, "int", "knots of a piecewise baseline / time-varying "
                                 "media (0 = automatic)", check=_knot_count)
    time_varying_media: bool = option(False, "bool", "time-varying media effectiveness")
    priors: Mapping[str, dist.Distribution] = option(
        kind="priors", doc="custom priors by site name (unit scale)", default_factory=dict)

    def __post_init__(self):
        validate(self)
        for name, prior in dict(self.priors).items():
            if not isinstance(prior, dist.Distribution):
                raise ValueError(
                    f"prior for site {name!r} is {type(prior).__name__}; pass a numpyro "
                    "distribution, e.g. numpyro.distributions.HalfNormal(1.0)")
        site = MEDIA_PRIOR_SITES[self.media_prior]
        for other, name in MEDIA_PRIOR_SITES.items():
            if name in self.priors and name != site:
                raise ValueError(
                    f"a prior for {name!r} needs media_prior={other!r}; this model has "
                    f"media_prior={self.media_prior!r}, whose prior site is {site!r}: pass "
                    f"media_prior={other!r} or priors={{{site!r}: ...}}")
        object.__setattr__(self, "priors", MappingProxyType(dict(self.priors)))

    @classmethod
    def build(cls, spec: ModelSpec | None = None, **options) -> ModelSpec:
        """``spec`` (default: the defaults) with keyword ``options`` replaced.

        Raises:
            ValueError: an option that is not a field (names the valid ones), a bad value.
        """
        if "priors" in options:
            options["priors"] = dict(options["priors"] or {})
        return build(cls, spec, options, "model option")

    def __eq__(self, other) -> bool:
        return isinstance(other, ModelSpec) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def key(self) -> tuple:
        """A hashable identity of the model structure and priors (for the compile cache)."""
        plain = tuple((f.name, getattr(self, f.name)) for f in dataclasses.fields(self)
                      if f.name != "priors")
        return plain + (tuple(sorted((k, prior_key(v)) for k, v in self.priors.items())),)


#: how the ``priors`` field is written to and read from JSON / TOML.
ENCODE = {"priors": lambda priors: {k: prior_to_plain(k, v) for k, v in priors.items()}}
DECODE = {"priors": lambda plain: {k: prior_from_plain(k, v) for k, v in plain.items()}}

__all__ = ["ADSTOCKS", "BASELINES", "DECODE", "ENCODE", "LIKELIHOODS", "MEDIA_PRIORS",
           "MEDIA_PRIOR_SITES", "SATURATIONS", "ModelSpec"]
