"""Registry of adstock and saturation transforms, chosen by name.

A :class:`Transform` bundles a kernel ``fn(x, **params)``, the names of its per-channel
parameters and a default prior for each. Adding a kernel touches only this package.

Adstocks: ``"geometric"``, ``"delayed"`` (alias ``"carryover"``), ``"weibull_cdf"``,
``"weibull_pdf"``, ``"none"`` (identity). Saturations: ``"hill"``, ``"logistic"``,
``"michaelis_menten"``, ``"power"``, ``"none"`` (identity). The finite-lag adstocks are
registered with ``max_lag = 13`` (lags 0..12, a quarter of weekly data) baked in through
``functools.partial``; call the kernels in :mod:`mmm_jax.transforms.adstock` directly for
another window. All registered adstocks use normalised weights (see that module).

Default priors
--------------
Priors are on the UNIT scale: the model divides each channel's media by its mean before the
kernels, so typical media is about 1 and a half-saturation point of 1 means "saturates at the
average spend". Each prior is a factory of a *scalar* numpyro distribution; the model
expands it to one value per channel. All are weakly informative, proper and vanish (or stay
finite) at the support boundary, which keeps the unconstrained NUTS geometry well behaved.

==================  ==========  =========================  =========================================
transform           parameter   prior                      reasoning (unit scale)
==================  ==========  =========================  =========================================
geometric           alpha       Beta(2, 2)                 mean .5 (half-life 1 period); density 0
                                                           at 0 and 1: no mass piles on the bounds
delayed/carryover   alpha       Beta(2, 2)                 as geometric
delayed/carryover   theta       HalfNormal(2)              peak delay mostly within 0-4 periods
                                                           (95% < 3.9), window is 0-12
weibull_cdf/pdf     shape       Gamma(2, 1)                mean 2, mode 1: from decaying (<1) to
                                                           humped (>1) curves; rules out shape ~ 0
weibull_cdf/pdf     scale       Gamma(2, 0.5)              mean 4, mode 2 periods (95% ~ .5-11);
                                                           stays inside the 13-lag window
hill                half_max    LogNormal(0, 0.6)          median 1 = the mean media; 95% in
                                                           (0.31, 3.2) times the mean
hill                slope       LogNormal(0.25, 0.3)       median 1.28, 95% in (0.71, 2.3): allows
                                                           concave and S-curves, not step functions
logistic            lam         Gamma(2, 2)                mean 1: tanh(lam x / 2) is half saturated
                                                           near x = 1.1 (the mean media)
michaelis_menten    half_max    LogNormal(0, 0.6)          as hill half_max
power               exponent    Beta(3, 3)                 mean .5, keeps p away from 0 (a step,
                                                           confounded with the intercept) and 1
                                                           (linear: use ``"none"``)
==================  ==========  =========================  =========================================
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import jax
import jax.numpy as jnp
import numpyro.distributions as dist
from jax.typing import ArrayLike

from mmm_jax.transforms._inputs import as_float
from mmm_jax.transforms.adstock import (
    DEFAULT_MAX_LAG,
    delayed_adstock,
    delayed_weights,
    geometric_adstock,
    geometric_weights,
    lag_convolve,
    weibull_cdf_adstock,
    weibull_cdf_weights,
    weibull_pdf_adstock,
    weibull_pdf_weights,
)
from mmm_jax.transforms.saturation import hill, logistic, michaelis_menten, power

__all__ = [
    "ADSTOCKS",
    "DEFAULT_MAX_LAG",
    "SATURATIONS",
    "Transform",
    "carryover_weights",
    "delayed_adstock",
    "delayed_weights",
    "geometric_adstock",
    "geometric_weights",
    "get_adstock",
    "get_saturation",
    "hill",
    "identity",
    "lag_convolve",
    "logistic",
    "michaelis_menten",
    "power",
    "weibull_cdf_adstock",
    "weibull_cdf_weights",
    "weibull_pdf_adstock",
    "weibull_pdf_weights",
]

PriorFactory = Callable[[], dist.Distribution]


@dataclasses.dataclass(frozen=True)
class Transform:
    """A named kernel with its parameter names and default priors.

    Attributes:
        name: Registry name, e.g. ``"hill"``.
        fn: Kernel ``fn(x, **params)``; ``x`` is ``(..., time, channel)`` and each parameter
            ``(channel,)``; returns an array shaped like ``x``.
        params: Parameter names, in a fixed order.
        priors: Parameter name -> factory of a scalar numpyro distribution.
        weights: For adstocks, ``weights(max_lag, **params) -> (max_lag, channel)`` decay
            weights for reporting; ``None`` for saturations and the identity.

    Raises:
        ValueError: If ``priors`` does not have exactly one entry per parameter.

    >>> t = get_saturation("hill")
    >>> t.params, float(t(jnp.ones((1, 1)), half_max=jnp.ones(1), slope=jnp.ones(1))[0, 0])
    (('half_max', 'slope'), 0.5)
    """

    name: str
    fn: Callable[..., jax.Array]
    params: tuple[str, ...]
    priors: Mapping[str, PriorFactory] = dataclasses.field(hash=False)
    weights: Callable[..., jax.Array] | None = None  # (max_lag, **params) -> (max_lag, channel)

    def __post_init__(self) -> None:
        if set(self.priors) != set(self.params):
            raise ValueError(
                f"Transform '{self.name}': priors {sorted(self.priors)} must match params "
                f"{list(self.params)}; give one prior factory per parameter."
            )
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "priors", MappingProxyType(dict(self.priors)))

    def __call__(self, x: ArrayLike, **params: ArrayLike) -> jax.Array:
        return self.fn(x, **params)


def identity(x: ArrayLike) -> jax.Array:
    """Identity transform (the ``"none"`` adstock and saturation); float dtype preserved.

    >>> identity(jnp.ones((2, 1))).shape
    (2, 1)
    """
    return as_float(x)


def _geometric_weights(max_lag: int, *, alpha: ArrayLike) -> jax.Array:
    return geometric_weights(alpha, max_lag)


def _delayed_weights(max_lag: int, *, alpha: ArrayLike, theta: ArrayLike) -> jax.Array:
    return delayed_weights(alpha, theta, max_lag)


def _weibull_cdf_weights(max_lag: int, *, shape: ArrayLike, scale: ArrayLike) -> jax.Array:
    return weibull_cdf_weights(shape, scale, max_lag)


def _weibull_pdf_weights(max_lag: int, *, shape: ArrayLike, scale: ArrayLike) -> jax.Array:
    return weibull_pdf_weights(shape, scale, max_lag)


_WEIBULL_PRIORS = {"shape": lambda: dist.Gamma(2.0, 1.0), "scale": lambda: dist.Gamma(2.0, 0.5)}
_DELAYED = Transform(
    "delayed",
    functools.partial(delayed_adstock, max_lag=DEFAULT_MAX_LAG),
    ("alpha", "theta"),
    {"alpha": lambda: dist.Beta(2.0, 2.0), "theta": lambda: dist.HalfNormal(2.0)},
    _delayed_weights,
)

ADSTOCKS: dict[str, Transform] = {
    "geometric": Transform(
        "geometric",
        geometric_adstock,
        ("alpha",),
        {"alpha": lambda: dist.Beta(2.0, 2.0)},
        _geometric_weights,
    ),
    "delayed": _DELAYED,
    "carryover": dataclasses.replace(_DELAYED, name="carryover"),
    "weibull_cdf": Transform(
        "weibull_cdf",
        functools.partial(weibull_cdf_adstock, max_lag=DEFAULT_MAX_LAG),
        ("shape", "scale"),
        _WEIBULL_PRIORS,
        _weibull_cdf_weights,
    ),
    "weibull_pdf": Transform(
        "weibull_pdf",
        functools.partial(weibull_pdf_adstock, max_lag=DEFAULT_MAX_LAG),
        ("shape", "scale"),
        _WEIBULL_PRIORS,
        _weibull_pdf_weights,
    ),
    "none": Transform("none", identity, (), {}),
}
"""Adstock transforms by name (``"carryover"`` is an alias of ``"delayed"``)."""

_HALF_MAX_PRIOR = {"half_max": lambda: dist.LogNormal(0.0, 0.6)}
SATURATIONS: dict[str, Transform] = {
    "hill": Transform(
        "hill",
        hill,
        ("half_max", "slope"),
        {**_HALF_MAX_PRIOR, "slope": lambda: dist.LogNormal(0.25, 0.3)},
    ),
    "logistic": Transform("logistic", logistic, ("lam",), {"lam": lambda: dist.Gamma(2.0, 2.0)}),
    "michaelis_menten": Transform(
        "michaelis_menten", michaelis_menten, ("half_max",), _HALF_MAX_PRIOR
    ),
    "power": Transform("power", power, ("exponent",), {"exponent": lambda: dist.Beta(3.0, 3.0)}),
    "none": Transform("none", identity, (), {}),
}
"""Saturation transforms by name."""


def _lookup(registry: Mapping[str, Transform], kind: str, name: Any) -> Transform:
    if not isinstance(name, str) or name not in registry:
        raise ValueError(
            f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(registry))}."
        )
    return registry[name]


def get_adstock(name: str) -> Transform:
    """Look up an adstock transform by name.

    Args:
        name: One of ``ADSTOCKS``' keys.

    Returns:
        The :class:`Transform`.

    Raises:
        ValueError: If ``name`` is unknown; the message lists the available names.

    >>> get_adstock("carryover").params
    ('alpha', 'theta')
    """
    return _lookup(ADSTOCKS, "adstock", name)


def get_saturation(name: str) -> Transform:
    """Look up a saturation transform by name, one of ``SATURATIONS``' keys.

    As :func:`get_adstock`: returns the :class:`Transform`; an unknown name raises
    ``ValueError`` listing the available names.

    >>> get_saturation("power").params
    ('exponent',)
    >>> get_saturation("tanh")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: unknown saturation 'tanh'; choose one of: hill, logistic, michaelis_menten, ...
    """
    return _lookup(SATURATIONS, "saturation", name)


def carryover_weights(
    name: str,
    params: Mapping[str, ArrayLike],
    max_lag: int = DEFAULT_MAX_LAG,
    *,
    n_channels: int | None = None,
) -> jax.Array:
    """Adstock decay weights of a registered adstock, for reporting.

    Args:
        name: Adstock name (see :data:`ADSTOCKS`).
        params: Parameter name -> values of shape ``(channel,)``.
        max_lag: Number of lags.
        n_channels: Channels for ``"none"`` (which has no parameters); default 1.

    Returns:
        Weights of shape ``(max_lag, channel)``: the kernel's window weights (sum 1), or for
        ``"geometric"`` the first ``max_lag`` weights ``(1 - alpha) * alpha**l``; for
        ``"none"`` a unit weight at lag 0.

    Raises:
        ValueError: If ``name`` is unknown or ``params`` does not match the parameters.

    >>> carryover_weights("geometric", {"alpha": jnp.array([0.5])}, 3)[:, 0]
    Array([0.5  , 0.25 , 0.125], dtype=float32)
    """
    t = get_adstock(name)
    if set(params) != set(t.params):
        raise ValueError(
            f"carryover_weights('{name}'): got params {sorted(params)}, expected "
            f"{list(t.params)}; pass exactly these names."
        )
    if t.weights is None:
        w = jnp.zeros((max_lag, n_channels or 1)).at[0].set(1.0)
        return w
    return t.weights(max_lag, **params)

