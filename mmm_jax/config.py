"""The model configuration: a frozen, validated dataclass."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

import numpyro.distributions as dist

from mmm_jax.transforms import get_adstock, get_saturation

LIKELIHOODS = ("normal", "student_t")


@dataclasses.dataclass(frozen=True, eq=False)
class ModelConfig:
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
        ValueError: unknown kernel or likelihood, negative degree, unknown prior site
            (checked at fit time, when the sites are known), non-distribution prior.
    """

    adstock: str = "geometric"
    saturation: str = "hill"
    seasonality_degree: int = 2
    seasonality_period: float = 365.25
    trend: bool = True
    likelihood: str = "normal"
    priors: Mapping[str, dist.Distribution] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        get_adstock(self.adstock)
        get_saturation(self.saturation)
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(
                f"likelihood={self.likelihood!r} is not supported; use one of {LIKELIHOODS}")
        if int(self.seasonality_degree) != self.seasonality_degree or self.seasonality_degree < 0:
            raise ValueError(
                f"seasonality_degree={self.seasonality_degree!r} must be an integer >= 0")
        if self.seasonality_period <= 0:
            raise ValueError(f"seasonality_period={self.seasonality_period!r} must be > 0 days")
        for name, prior in dict(self.priors).items():
            if not isinstance(prior, dist.Distribution):
                raise ValueError(
                    f"prior for site {name!r} is {type(prior).__name__}; pass a numpyro "
                    "distribution, e.g. numpyro.distributions.HalfNormal(1.0)")
        object.__setattr__(self, "priors", MappingProxyType(dict(self.priors)))

    def __eq__(self, other) -> bool:
        return isinstance(other, ModelConfig) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def key(self) -> tuple:
        """A hashable identity of the model structure and priors (for the compile cache)."""
        from mmm_jax.priors import prior_key

        return (self.adstock, self.saturation, int(self.seasonality_degree),
                float(self.seasonality_period), self.trend, self.likelihood,
                tuple(sorted((k, prior_key(v)) for k, v in self.priors.items())))
