"""Saturation (shape) kernels: pure, unjitted JAX functions of ``(x, params)``.

Each kernel maps media ``x >= 0`` of shape ``(..., time, channel)`` (any leading axes) and
per-channel parameters of shape ``(channel,)`` (a scalar broadcasts) elementwise to a response
of the same shape and dtype; parameters are cast to the dtype of ``x``. Every kernel gives
``f(0) = 0``, is increasing in ``x`` and is bounded by 1 except :func:`power`.

Gradients at ``x = 0``: the kernels with a fractional power (:func:`hill`, :func:`power`) are
guarded with a double ``jnp.where`` so the value is exactly 0 and every gradient is finite.
The reported derivative in ``x`` at ``x = 0`` is the true one-sided derivative where that is
finite (``1/K`` for Hill slope 1, 1 for power 1, 0 for slope/exponent > 1) and 0 where the
true derivative is ``+inf`` (slope/exponent < 1). A gradient-based allocator should therefore
not start from exactly zero spend on such channels.

Hill slopes > 1 make the response S-shaped (not concave), see RELIABILITY.md.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from mmm_jax.transforms._inputs import prepare

__all__ = ["hill", "logistic", "michaelis_menten", "power"]


def hill(x: ArrayLike, half_max: ArrayLike, slope: ArrayLike) -> jax.Array:
    """Hill saturation ``x**s / (x**s + K**s)``, computed as ``sigmoid(s (log x - log K))``.

    Stable for any ``x / K`` (no overflow of ``x**s``). ``hill(K) == 0.5`` exactly and
    ``hill(0) == 0`` with finite gradients wrt ``x``, ``K`` and ``s`` for every slope (see the
    module docstring for the derivative reported at ``x = 0``).

    Args:
        x: Media ``>= 0``, shape ``(..., time, channel)``.
        half_max: Half-saturation point ``K > 0``, shape ``(channel,)``.
        slope: Hill slope ``s > 0``, shape ``(channel,)``.

    Returns:
        Response in [0, 1), same shape and dtype as ``x``.

    Raises:
        ValueError: If a parameter does not have one value per channel.

    >>> hill(jnp.array([[0.0, 2.0]]), jnp.array([1.0, 2.0]), jnp.array([0.5, 2.0]))
    Array([[0. , 0.5]], dtype=float32)
    """
    x, (k, s) = prepare("hill", x, {"half_max": half_max, "slope": slope})
    pos = x > 0
    z = s * (jnp.log(jnp.where(pos, x, 1)) - jnp.log(k))
    # At x <= 0 use a linear branch: value 0 at x = 0, slope = the finite one-sided derivative.
    at_zero = x * jnp.where(s == 1, 1 / k, 0)
    return jnp.where(pos, jax.nn.sigmoid(z), at_zero)


def logistic(x: ArrayLike, lam: ArrayLike) -> jax.Array:
    """Logistic saturation ``(1 - exp(-lam x)) / (1 + exp(-lam x)) = tanh(lam x / 2)``.

    Args:
        x: Media ``>= 0``, shape ``(..., time, channel)``.
        lam: Steepness ``lam > 0`` (half saturation at ``x = log(3) / lam``), shape
            ``(channel,)``.

    Returns:
        Response in [0, 1), same shape and dtype as ``x``.

    Raises:
        ValueError: If ``lam`` does not have one value per channel.

    >>> logistic(jnp.array([[0.0, 1.0]]), jnp.array([1.0, jnp.log(9.0)])).round(6)
    Array([[0. , 0.8]], dtype=float32)
    """
    x, (lam,) = prepare("logistic", x, {"lam": lam})
    return jnp.tanh(lam * x / 2)


def michaelis_menten(x: ArrayLike, half_max: ArrayLike) -> jax.Array:
    """Michaelis-Menten saturation ``x / (K + x)`` (Hill with slope 1).

    Args:
        x: Media ``>= 0``, shape ``(..., time, channel)``.
        half_max: Half-saturation point ``K > 0``, shape ``(channel,)``.

    Returns:
        Response in [0, 1), same shape and dtype as ``x``.

    Raises:
        ValueError: If ``half_max`` does not have one value per channel.

    >>> michaelis_menten(jnp.array([[0.0, 3.0]]), jnp.array([1.0, 1.0]))
    Array([[0.  , 0.75]], dtype=float32)
    """
    x, (k,) = prepare("michaelis_menten", x, {"half_max": half_max})
    return x / (k + x)


def power(x: ArrayLike, exponent: ArrayLike) -> jax.Array:
    """Power saturation ``x ** p`` with ``0 < p <= 1``, guarded at ``x = 0``.

    Args:
        x: Media ``>= 0``, shape ``(..., time, channel)``.
        exponent: Exponent ``p`` in (0, 1], shape ``(channel,)``.

    Returns:
        Response (unbounded), same shape and dtype as ``x``; exactly 0 at ``x = 0``.

    Raises:
        ValueError: If ``exponent`` does not have one value per channel.

    >>> power(jnp.array([[0.0, 4.0]]), jnp.array([0.5, 0.5]))
    Array([[0., 2.]], dtype=float32)
    """
    x, (p,) = prepare("power", x, {"exponent": exponent})
    pos = x > 0
    value = jnp.exp(p * jnp.log(jnp.where(pos, x, 1)))
    at_zero = x * jnp.where(p == 1, 1, 0).astype(x.dtype)
    return jnp.where(pos, value, at_zero)
