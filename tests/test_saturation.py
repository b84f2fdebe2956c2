"""Saturation kernels: closed forms, references, gradients at zero (RELIABILITY.md tests 2-4)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from mmm_jax.transforms import saturation as sat

SLOPES = np.array([0.3, 0.5, 1.0, 2.0])  # one channel each
HALF_MAX = np.array([0.5, 1.0, 2.0, 1.5])


# ----------------------------------------------------------------------------- references
def ref_hill(x, k, s):
    return x**s / (x**s + k**s)


def ref_logistic(x, lam):
    e = np.exp(-lam * x)
    return -np.expm1(-lam * x) / (1 + e)


def ref_michaelis_menten(x, k):
    return x / (k + x)


def ref_power(x, p):
    return x**p


CASES = {
    "hill": (sat.hill, ref_hill, (HALF_MAX, SLOPES)),
    "logistic": (sat.logistic, ref_logistic, (np.array([0.2, 1.0, 2.0, 5.0]),)),
    "michaelis_menten": (sat.michaelis_menten, ref_michaelis_menten, (HALF_MAX,)),
    "power": (sat.power, ref_power, (np.array([0.1, 0.5, 0.9, 1.0]),)),
}
JIT = {name: jax.jit(case[0]) for name, case in CASES.items()}
SHAPE = (2, 60, 4)


def media(shape=SHAPE):
    """Sorted media over 0 and 1e-3 .. 1e2 per channel (the same grid in every series)."""
    grid = np.concatenate([[0.0], np.geomspace(1e-3, 1e2, shape[-2] - 1)])
    x = np.broadcast_to(grid[:, None], shape).astype(np.float32)
    return x.astype(np.float64)  # exactly representable in float32


def rel_err(y, ref):
    y, ref = np.asarray(y, np.float64), np.asarray(ref, np.float64)
    err = np.abs(y - ref) / np.maximum(np.abs(ref), 1e-300)
    return float(np.where((ref == 0) & (y == 0), 0.0, err).max())


# ----------------------------------------------------------------------------- test 2
@pytest.mark.parametrize("name", list(CASES))
def test_matches_float64_reference(name):
    _, ref, params = CASES[name]
    x = media()
    p32 = [p.astype(np.float32) for p in params]
    expected = ref(x, *[p.astype(np.float64) for p in p32])
    with jax.enable_x64(True):
        y64 = JIT[name](jnp.asarray(x), *[jnp.asarray(p, jnp.float64) for p in p32])
        assert y64.dtype == jnp.float64
    assert rel_err(y64, expected) < 1e-12
    y32 = JIT[name](jnp.asarray(x, jnp.float32), *[jnp.asarray(p) for p in p32])
    assert y32.dtype == jnp.float32
    assert rel_err(y32, expected) < 1e-4


@pytest.mark.parametrize("name", list(CASES))
def test_zero_monotone_and_bounded(name):
    _, _, params = CASES[name]
    with jax.enable_x64(True):
        y = np.asarray(JIT[name](jnp.asarray(media()), *[jnp.asarray(p) for p in params]))
    assert np.all(y[:, 0] == 0.0)  # f(0) = 0 exactly
    assert np.all(np.diff(y, axis=-2) >= 0)  # monotone
    assert np.all(np.diff(y[:, :30], axis=-2) > 0)  # strictly, before float saturation
    if name != "power":
        assert np.all((y >= 0) & (y <= 1))  # tanh rounds to 1.0 far out


def test_closed_forms():
    with jax.enable_x64(True):
        k, s, ones = jnp.asarray(HALF_MAX), jnp.asarray(SLOPES), jnp.ones(4)
        at_k = jnp.broadcast_to(k, SHAPE)
        assert jnp.array_equal(JIT["hill"](at_k, k, s), jnp.full(SHAPE, 0.5))  # Hill(K) = 1/2
        assert jnp.array_equal(JIT["michaelis_menten"](at_k, k), jnp.full(SHAPE, 0.5))
        x = jnp.asarray(media())
        np.testing.assert_allclose(JIT["hill"](x, k, ones), JIT["michaelis_menten"](x, k),
                                   rtol=1e-14)
        np.testing.assert_allclose(JIT["power"](x, ones), x, rtol=1e-15)
        # tanh(log(3) / 2) = 1/2 and tanh(log(9) / 2) = 4/5
        lam = jnp.log(jnp.array([3.0, 9.0, 3.0, 9.0]))
        np.testing.assert_allclose(
            JIT["logistic"](jnp.ones(SHAPE), lam)[0, 0], [0.5, 0.8, 0.5, 0.8], rtol=1e-14
        )
    assert float(sat.hill(jnp.ones((1, 1)), jnp.ones(1), jnp.full(1, 2.0))[0, 0]) == 0.5


def test_hill_extreme_ratios_do_not_overflow():
    x = jnp.array([[1e-30, 1e30]], jnp.float32)
    y = sat.hill(x, jnp.ones(2), jnp.full(2, 5.0))
    assert jnp.array_equal(y, jnp.array([[0.0, 1.0]], jnp.float32))


# ----------------------------------------------------------------------------- test 3
@pytest.mark.parametrize("name", list(CASES))
def test_gradients_finite_with_zero_media(name):
    _, _, params = CASES[name]
    x = jnp.asarray(media(), jnp.float32).at[..., 1, :].set(0.0)
    p = tuple(jnp.asarray(v, jnp.float32) for v in params)

    def loss(x, *p):
        return jnp.sum(JIT[name](x, *p))

    grads = jax.jit(jax.grad(loss, argnums=tuple(range(1 + len(p)))))(x, *p)
    for g in grads:
        assert bool(jnp.all(jnp.isfinite(g))), name


def test_derivative_at_zero_is_the_finite_one_sided_limit():
    k = jnp.asarray(HALF_MAX, jnp.float32)

    @jax.jit
    def derivatives_at_zero(zero):
        def d(f):
            return jax.grad(lambda x: f(x).sum())(zero)[0]

        return (
            d(lambda x: sat.hill(x, k, jnp.asarray(SLOPES, jnp.float32))),
            d(lambda x: sat.michaelis_menten(x, k)),
            d(lambda x: sat.power(x, jnp.array([0.5, 1.0, 2.0, 0.1]))),
            d(lambda x: sat.logistic(x, jnp.full(4, 2.0))),
        )

    hill, mm, pw, logi = derivatives_at_zero(jnp.zeros((1, 4)))
    # Hill slope .3, .5: +inf in theory, reported 0; slope 1: 1/K; slope 2: 0
    np.testing.assert_allclose(hill, [0.0, 0.0, 1 / HALF_MAX[2], 0.0], rtol=1e-6)
    np.testing.assert_allclose(mm, 1 / HALF_MAX, rtol=1e-6)
    np.testing.assert_allclose(pw, [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(logi, 1.0)  # d/dx tanh(lam x / 2) = lam / 2


@pytest.mark.parametrize("name", list(CASES))
def test_check_grads_at_smooth_points(name):
    _, _, params = CASES[name]
    with jax.enable_x64(True):
        x = jnp.asarray(media()[..., 20:50, :])  # 0.07 .. 10, away from 0
        p = tuple(jnp.asarray(v) for v in params)
        check_grads(JIT[name], (x, *p), order=1, modes=("fwd", "rev"))


# ----------------------------------------------------------------------------- test 4
@pytest.mark.parametrize("name", list(CASES))
def test_jit_vmap_shapes_and_dtypes(name):
    fn, _, params = CASES[name]
    p = [jnp.asarray(v, jnp.float32) for v in params]
    x = jnp.asarray(media(), jnp.float32)  # (geo, time, channel)
    y = JIT[name](x, *p)
    assert y.shape == SHAPE and y.dtype == jnp.float32
    np.testing.assert_allclose(fn(x, *p), y, rtol=1e-6, atol=1e-7)  # eager == jit
    np.testing.assert_allclose(JIT[name](x[0], *p), y[0], rtol=1e-6, atol=1e-7)  # (T, C)
    by_geo = jax.jit(jax.vmap(lambda xg: fn(xg, *p)))(x)
    np.testing.assert_allclose(by_geo, y, rtol=1e-6, atol=1e-7)
    draws = [jnp.stack([v, 2 * v]) for v in p]
    by_draw = jax.jit(jax.vmap(lambda *q: fn(x, *q)))(*draws)
    loop = jnp.stack([JIT[name](x, *[d[i] for d in draws]) for i in range(2)])
    np.testing.assert_allclose(by_draw, loop, rtol=1e-6, atol=1e-7)
    with jax.enable_x64(True):
        p64 = [jnp.asarray(v, jnp.float64) for v in params]
        assert JIT[name](x, *p64).dtype == jnp.float32  # dtype follows x, not the parameters


def test_bad_parameter_shape_raises_value_error():
    with pytest.raises(ValueError, match="'slope' must have shape"):
        sat.hill(jnp.ones((5, 3)), jnp.ones(3), jnp.ones(2))
    with pytest.raises(ValueError, match="'lam' must have shape"):
        sat.logistic(jnp.ones((5, 3)), jnp.ones((2, 3)))
