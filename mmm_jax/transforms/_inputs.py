"""Input checks shared by the adstock and saturation kernels (private).

Media become a float array; each per-channel parameter is cast to the media's dtype and must
be a scalar or have one value per channel (a stack of draws is refused: ``vmap`` over them).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike


def as_float(x: ArrayLike) -> jax.Array:
    """``x`` as a JAX array, integers and booleans cast to the default float dtype."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    return x


def check_series(x: jax.Array, fn: str) -> None:
    """Require the ``(..., time, channel)`` layout of the adstock kernels."""
    if x.ndim < 2:
        raise ValueError(
            f"{fn}: x must have shape (..., time, channel) with ndim >= 2, got shape "
            f"{x.shape}; add a channel axis, e.g. x[:, None]."
        )


def check_param(p: ArrayLike, name: str, dtype, n_channels: int | None, fn: str) -> jax.Array:
    """``p`` cast to ``dtype``; a scalar or shape ``(channel,)`` (``(1,)`` broadcasts)."""
    p = jnp.asarray(p, dtype=dtype)
    if p.ndim > 1 or (n_channels is not None and p.ndim == 1 and p.shape[0] not in (1, n_channels)):
        want = "(channel,)" if n_channels is None else f"(channel,) = ({n_channels},)"
        raise ValueError(
            f"{fn}: parameter '{name}' must have shape {want} or be a scalar, got shape "
            f"{p.shape}; pass one value per channel (vmap over draws instead of stacking them)."
        )
    return p


def prepare(
    fn: str, x: ArrayLike, params: Mapping[str, ArrayLike], *, series: bool = False
) -> tuple[jax.Array, list[jax.Array]]:
    """Float media and its checked parameters, in the order of ``params``.

    Args:
        fn: Kernel name, for the messages.
        x: Media; with ``series`` it must be ``(..., time, channel)`` (checked first).
        params: Parameter name -> value; the last axis of ``x`` counts the channels.
        series: Require at least a time and a channel axis.

    Returns:
        ``(x, [param, ...])``.

    Raises:
        ValueError: If ``x`` or a parameter has the wrong shape.

    >>> x, (k,) = prepare("hill", [[1, 2]], {"half_max": 1})
    >>> x.dtype == k.dtype, k.shape
    (True, ())
    """
    x = as_float(x)
    if series:
        check_series(x, fn)
    n_channels = x.shape[-1] if x.ndim else None
    return x, [check_param(p, name, x.dtype, n_channels, fn) for name, p in params.items()]
