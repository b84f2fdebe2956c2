"""Adstock (carryover) kernels: pure, unjitted JAX functions of ``(x, params)``.

Every kernel takes media ``x`` of shape ``(..., time, channel)`` (any leading axes, e.g.
``(geo, time, channel)``) and per-channel parameters of shape ``(channel,)`` (a scalar
broadcasts), and returns an array of the same shape and dtype as ``x``. Parameters are cast
to the dtype of ``x``. Callers ``jit``; draws come through ``vmap``.

Normalisation (it changes what the media coefficient means):

* ``geometric_adstock(normalize=True)`` multiplies the recursion by ``(1 - alpha)``, so a unit
  pulse's weights ``(1 - alpha) * alpha**l`` sum to 1 over an *infinite* horizon (over a
  finite series they sum to ``1 - alpha**T``).
* The finite-lag kernels (``delayed``, ``weibull_cdf``, ``weibull_pdf``) use ``max_lag``
  weights (lags ``0 .. max_lag - 1``) normalised to sum to exactly 1 over that window.

With normalised weights a constant media level ``m`` adstocks to ``m`` (in steady state), so
the coefficient is the effect of one unit of sustained media.

``*_weights`` functions return the ``(max_lag, channel)`` decay weights (for reporting).

References:
    Jin et al. (2017). Bayesian Methods for Media Mix Modeling with Carryover and Shape Effects.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike

from mmm_jax.transforms._inputs import as_float, check_param, check_series, prepare

__all__ = [
    "DEFAULT_MAX_LAG",
    "delayed_adstock",
    "delayed_weights",
    "geometric_adstock",
    "geometric_weights",
    "lag_convolve",
    "weibull_cdf_adstock",
    "weibull_cdf_weights",
    "weibull_pdf_adstock",
    "weibull_pdf_weights",
]

DEFAULT_MAX_LAG = 13
"""Default window of the finite-lag kernels: lags 0..12, a quarter of weekly data."""

# (t / scale) ** shape is evaluated as exp(z); beyond z = 30 a weight exp(-e^z) is already 0 in
# float64, so exp is continued linearly there: no overflow, finite gradients, same ordering.
_MAX_LOG_POWER = 30.0
# log(alpha) used when alpha == 0 (0 ** 0 == 1, 0 ** d == 0 for d > 0): finite, below the log
# of every positive float64, so weights stay monotone in alpha and gradients stay finite.
_LOG_ZERO = -1e4


def _weight_params(fn: str, max_lag: int, **params: ArrayLike) -> list[jax.Array]:
    """Check ``max_lag``; cast the parameters to one float dtype, each at least 1-D."""
    if int(max_lag) != max_lag or max_lag < 1:
        raise ValueError(f"{fn}: max_lag must be an integer >= 1, got {max_lag!r}; use e.g. 13.")
    dtype = jnp.result_type(*[as_float(p).dtype for p in params.values()])
    return [jnp.atleast_1d(check_param(p, k, dtype, None, fn)) for k, p in params.items()]


def _exp_linear_above(z: jax.Array, z_max: float = _MAX_LOG_POWER) -> jax.Array:
    """``exp(z)`` for ``z <= z_max``, continued as ``e^z_max (1 + z - z_max)`` above (C1)."""
    e_max = jnp.exp(jnp.asarray(z_max, z.dtype))
    return jnp.where(z <= z_max, jnp.exp(jnp.minimum(z, z_max)), e_max * (1 + z - z_max))


def _log_weights_to_weights(log_w: jax.Array, normalize: bool) -> jax.Array:
    # softmax over the lag axis is the overflow-free way to normalise exp(log_w).
    return jax.nn.softmax(log_w, axis=0) if normalize else jnp.exp(log_w)


def lag_convolve(x: ArrayLike, weights: ArrayLike) -> jax.Array:
    """Causal convolution over time with per-channel lag weights.

    ``y[..., t, c] = sum_l weights[l, c] * x[..., t - l, c]`` with ``x`` taken as zero before
    the first period. Implemented as a ``lax.scan`` over lags that adds shifted copies of the
    zero-padded series (fast for lag ~ 13 and long series, memory O(x), elementwise float
    arithmetic so no reduced-precision matmul/conv on accelerators, any leading axes).

    Args:
        x: Media, shape ``(..., time, channel)``.
        weights: Lag weights, shape ``(lag, channel)`` (or ``(lag, 1)`` to share).

    Returns:
        Array of shape and dtype of ``x``.

    Raises:
        ValueError: If ``x`` has fewer than 2 axes or ``weights`` is not 2-D.

    >>> import jax.numpy as jnp
    >>> lag_convolve(jnp.array([[1.0], [0.0], [0.0]]), jnp.array([[0.5], [0.3]]))[:, 0]
    Array([0.5, 0.3, 0. ], dtype=float32)
    """
    x = as_float(x)
    check_series(x, "lag_convolve")
    w = jnp.asarray(weights, dtype=x.dtype)
    if w.ndim != 2:
        raise ValueError(
            f"lag_convolve: weights must have shape (lag, channel), got {w.shape}; "
            "use one column per channel."
        )
    n_lag, n_time = min(w.shape[0], x.shape[-2]), x.shape[-2]
    xp = jnp.pad(x, [(0, 0)] * (x.ndim - 2) + [(n_lag - 1, 0), (0, 0)])

    def add_lag(y, lag_and_weight):
        lag, w_lag = lag_and_weight
        return y + w_lag * lax.dynamic_slice_in_dim(xp, n_lag - 1 - lag, n_time, axis=-2), None

    # A scan over the lags compiles to one small loop (fast to compile, also for gradients).
    y, _ = lax.scan(add_lag, jnp.zeros_like(x), (jnp.arange(n_lag), w[:n_lag]))
    return y


def geometric_weights(
    alpha: ArrayLike, max_lag: int = DEFAULT_MAX_LAG, *, normalize: bool = True
) -> jax.Array:
    """Geometric decay weights ``alpha**l`` (times ``1 - alpha`` if normalised), l < max_lag.

    Args:
        alpha: Retention per period in [0, 1), shape ``(channel,)``.
        max_lag: Number of lags to report.
        normalize: Multiply by ``(1 - alpha)`` (weights of the infinite kernel sum to 1).

    Returns:
        Weights of shape ``(max_lag, channel)``; the first ``max_lag`` weights of the infinite
        kernel used by :func:`geometric_adstock` (they sum to ``1 - alpha**max_lag``).

    Raises:
        ValueError: If ``max_lag < 1`` or ``alpha`` is not 0-D/1-D.

    >>> geometric_weights(jnp.array([0.5]), 3)[:, 0]
    Array([0.5  , 0.25 , 0.125], dtype=float32)
    """
    (alpha,) = _weight_params("geometric_weights", max_lag, alpha=alpha)
    # cumprod of [1, a, a, ...]: 0**0 == 1 and finite gradients at alpha == 0.
    ones = jnp.ones((1,) + alpha.shape, alpha.dtype)
    steps = jnp.concatenate([ones, jnp.broadcast_to(alpha, (max_lag - 1,) + alpha.shape)])
    w = jnp.cumprod(steps, axis=0)
    return w * (1 - alpha) if normalize else w


def geometric_adstock(x: ArrayLike, alpha: ArrayLike, *, normalize: bool = True) -> jax.Array:
    """Geometric adstock ``y_t = x_t + alpha * y_{t-1}`` (``y_{-1} = 0``) via ``lax.scan``.

    The recursion is numerically stable in float32 for any series length (no ``alpha**-t``).
    With ``normalize=True`` the result is multiplied by ``(1 - alpha)``: a unit pulse gets
    weights ``(1 - alpha) * alpha**l`` that sum to 1 over an infinite horizon, so a constant
    media level is preserved in steady state. ``alpha = 0`` is the identity.

    Args:
        x: Media, shape ``(..., time, channel)``.
        alpha: Retention per period in [0, 1), shape ``(channel,)``.
        normalize: Apply the ``(1 - alpha)`` factor.

    Returns:
        Adstocked media, same shape and dtype as ``x``.

    Raises:
        ValueError: If ``x`` has fewer than 2 axes or ``alpha`` does not match the channels.

    >>> geometric_adstock(jnp.array([[1.0], [0.0], [0.0]]), jnp.array([0.5]))[:, 0]
    Array([0.5  , 0.25 , 0.125], dtype=float32)
    """
    x, (alpha,) = prepare("geometric_adstock", x, {"alpha": alpha}, series=True)
    xs = jnp.moveaxis(x, -2, 0)  # (time, ..., channel)

    def step(carry, x_t):
        y_t = x_t + alpha * carry
        return y_t, y_t

    _, ys = lax.scan(step, jnp.zeros_like(xs[0]), xs)
    y = jnp.moveaxis(ys, 0, -2)
    return y * (1 - alpha) if normalize else y


def delayed_weights(
    alpha: ArrayLike,
    theta: ArrayLike,
    max_lag: int = DEFAULT_MAX_LAG,
    *,
    normalize: bool = True,
) -> jax.Array:
    """Delayed-carryover weights ``w_l = alpha ** ((l - theta) ** 2)`` (Jin et al. 2017).

    Computed as ``exp((l - theta)**2 * log(alpha))`` with ``log(0)`` replaced by a large
    finite negative number, so ``alpha = 0`` gives ``0**0 = 1`` at ``l == theta`` and finite
    gradients. Normalisation uses a softmax over lags (overflow-free); with ``alpha = 0`` and
    a non-integer ``theta`` all the weight goes to the lag nearest ``theta`` (the limit).

    Args:
        alpha: Retention in [0, 1), shape ``(channel,)``.
        theta: Delay of the peak in periods (>= 0), shape ``(channel,)``.
        max_lag: Window length; lags ``0 .. max_lag - 1``.
        normalize: Normalise the weights to sum to 1 over the window.

    Returns:
        Weights of shape ``(max_lag, channel)``.

    Raises:
        ValueError: If ``max_lag < 1`` or a parameter is not 0-D/1-D.

    >>> delayed_weights(jnp.array([0.0]), jnp.array([1.0]), 3)[:, 0]
    Array([0., 1., 0.], dtype=float32)
    """
    alpha, theta = _weight_params("delayed_weights", max_lag, alpha=alpha, theta=theta)
    pos = alpha > 0
    log_alpha = jnp.where(pos, jnp.log(jnp.where(pos, alpha, 1)), _LOG_ZERO)
    log_w = (jnp.arange(max_lag, dtype=alpha.dtype)[:, None] - theta) ** 2 * log_alpha
    return _log_weights_to_weights(log_w, normalize)


def delayed_adstock(
    x: ArrayLike,
    alpha: ArrayLike,
    theta: ArrayLike,
    *,
    max_lag: int = DEFAULT_MAX_LAG,
    normalize: bool = True,
) -> jax.Array:
    """Delayed (carryover) adstock of Jin et al. 2017: ``y_t = sum_l w_l x_{t-l}``.

    Weights ``w_l = alpha ** ((l - theta) ** 2)`` over ``l = 0 .. max_lag - 1`` (see
    :func:`delayed_weights`), normalised to sum to 1 over the window when ``normalize``.
    Periods before the start count as zero media. ``alpha = 0, theta = 0`` is the identity.

    Args:
        x: Media, shape ``(..., time, channel)``.
        alpha: Retention in [0, 1), shape ``(channel,)``.
        theta: Peak delay in periods (>= 0), shape ``(channel,)``.
        max_lag: Window length.
        normalize: Normalise the weights to sum to 1.

    Returns:
        Adstocked media, same shape and dtype as ``x``.

    Raises:
        ValueError: If shapes do not match or ``max_lag < 1``.

    >>> x = jnp.array([[1.0], [0.0], [0.0]])
    >>> f = jax.jit(delayed_adstock, static_argnames="max_lag")
    >>> f(x, alpha=jnp.zeros(1), theta=jnp.ones(1), max_lag=3)[:, 0]
    Array([0., 1., 0.], dtype=float32)

    References:
        Jin et al. (2017), Bayesian Methods for Media Mix Modeling with Carryover and Shape
        Effects, eq. (1).
    """
    x, (alpha, theta) = prepare(
        "delayed_adstock", x, {"alpha": alpha, "theta": theta}, series=True
    )
    return lag_convolve(x, delayed_weights(alpha, theta, max_lag, normalize=normalize))


def weibull_cdf_weights(
    shape: ArrayLike, scale: ArrayLike, max_lag: int = DEFAULT_MAX_LAG
) -> jax.Array:
    """Weibull-CDF (survival) weights, normalised to sum to 1.

    ``w_0 = 1`` and ``w_l = prod_{j=1..l} (1 - F(j))`` with Weibull CDF
    ``F(j) = 1 - exp(-(j / scale) ** shape)``, i.e. ``log w_l = -sum_{j<=l} (j/scale)**shape``
    (as in PyMC-Marketing's ``weibull_adstock`` with ``mode="CDF"``). Then normalised.

    Args:
        shape: Weibull shape ``k > 0``, shape ``(channel,)``.
        scale: Weibull scale ``lambda > 0`` in periods, shape ``(channel,)``.
        max_lag: Window length; lags ``0 .. max_lag - 1``.

    Returns:
        Weights of shape ``(max_lag, channel)`` summing to 1 over lags.

    Raises:
        ValueError: If ``max_lag < 1`` or a parameter is not 0-D/1-D.

    >>> w = weibull_cdf_weights(jnp.array([1.0]), jnp.array([1.0]), 3)[:, 0]
    >>> bool(w[0] > w[1] > w[2]), round(float(w.sum()), 6)
    (True, 1.0)
    """
    shape, scale = _weight_params("weibull_cdf_weights", max_lag, shape=shape, scale=scale)
    log_j = jnp.log(jnp.arange(1, max_lag, dtype=shape.dtype))[:, None] - jnp.log(scale)
    hazard = _exp_linear_above(shape * log_j)  # -log(1 - F(j)) = (j / scale) ** shape
    zero = jnp.zeros((1,) + hazard.shape[1:], hazard.dtype)
    log_w = jnp.concatenate([zero, -jnp.cumsum(hazard, axis=0)])  # log w_0 = log 1
    return _log_weights_to_weights(log_w, True)


def weibull_pdf_weights(
    shape: ArrayLike, scale: ArrayLike, max_lag: int = DEFAULT_MAX_LAG
) -> jax.Array:
    """Weibull-PDF weights ``w_l ∝ f(l + 1; shape, scale)``, normalised to sum to 1.

    ``log f(t) = const + (shape - 1) log(t / scale) - (t / scale) ** shape``; the constant
    cancels in the normalisation, which is a softmax over lags (overflow-free). Arguments,
    result (``(max_lag, channel)``, summing to 1 over lags) and errors as in
    :func:`weibull_cdf_weights`; unlike those weights, these peak after lag 0 when
    ``shape > 1``:

    >>> w = weibull_pdf_weights(jnp.array([3.0]), jnp.array([3.0]), 6)[:, 0]
    >>> int(w.argmax()), round(float(w.sum()), 6)
    (2, 1.0)
    """
    shape, scale = _weight_params("weibull_pdf_weights", max_lag, shape=shape, scale=scale)
    log_t = jnp.log(jnp.arange(1, max_lag + 1, dtype=shape.dtype))[:, None] - jnp.log(scale)
    log_w = (shape - 1) * log_t - _exp_linear_above(shape * log_t)
    return _log_weights_to_weights(log_w, True)


def _weibull_adstock(
    fn: str, weights, x: ArrayLike, shape: ArrayLike, scale: ArrayLike, max_lag: int
) -> jax.Array:
    x, (shape, scale) = prepare(fn, x, {"shape": shape, "scale": scale}, series=True)
    return lag_convolve(x, weights(shape, scale, max_lag))


def weibull_cdf_adstock(
    x: ArrayLike, shape: ArrayLike, scale: ArrayLike, *, max_lag: int = DEFAULT_MAX_LAG
) -> jax.Array:
    """Weibull-CDF adstock: convolution with :func:`weibull_cdf_weights` (sum to 1).

    Args:
        x: Media, shape ``(..., time, channel)``.
        shape: Weibull shape ``k > 0``, shape ``(channel,)``.
        scale: Weibull scale ``lambda > 0`` in periods, shape ``(channel,)``.
        max_lag: Window length.

    Returns:
        Adstocked media, same shape and dtype as ``x``.

    Raises:
        ValueError: If shapes do not match or ``max_lag < 1``.

    >>> f = jax.jit(weibull_cdf_adstock)  # callers jit; the kernel itself is plain JAX
    >>> y = f(jnp.ones((20, 2)), jnp.array([1.0, 2.0]), jnp.array([2.0, 3.0]))
    >>> jnp.allclose(y[-1], 1.0)
    Array(True, dtype=bool)
    """
    return _weibull_adstock("weibull_cdf_adstock", weibull_cdf_weights, x, shape, scale, max_lag)


def weibull_pdf_adstock(
    x: ArrayLike, shape: ArrayLike, scale: ArrayLike, *, max_lag: int = DEFAULT_MAX_LAG
) -> jax.Array:
    """Weibull-PDF adstock: convolution with :func:`weibull_pdf_weights` (sum to 1).

    Arguments, result and errors as in :func:`weibull_cdf_adstock`; the weights follow the
    Weibull density at ``l + 1`` instead of its survival, so with ``shape > 1`` a pulse's
    effect peaks after a delay rather than at lag 0. A sustained level is still preserved:

    >>> f = jax.jit(weibull_pdf_adstock)  # callers jit; the kernel itself is plain JAX
    >>> y = f(jnp.ones((20, 2)), jnp.array([1.0, 2.0]), jnp.array([2.0, 3.0]))
    >>> jnp.allclose(y[-1], 1.0)
    Array(True, dtype=bool)
    >>> pulse = jnp.zeros((8, 1)).at[0].set(1.0)
    >>> int(weibull_pdf_adstock(pulse, 3.0, 3.0, max_lag=6)[:, 0].argmax())
    2
    """
    return _weibull_adstock("weibull_pdf_adstock", weibull_pdf_weights, x, shape, scale, max_lag)
