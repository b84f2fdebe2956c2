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
        trend: include a linear trend.
        likelihood: ``"normal"`` or ``"student_t"``.
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
    priors: Mapping[str, dist.Distribution] = option(
        kind="priors", doc="custom priors by site name (unit scale)", default_factory=dict)

    def __post_init__(self):
        validate(self)
        for name, prior in dict(self.priors).items():
            if not isinstance(prior, dist.Distribution):
                raise ValueError(
                    f"prior for site {name!r} is {type(prior).__name__}; pass a numpyro "
                    "distribution, e.g. numpyro.distributions.HalfNormal(1.0)")
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

__all__ = ["ADSTOCKS", "DECODE", "ENCODE", "LIKELIHOODS", "SATURATIONS", "ModelSpec"]
