"""Saturation kernels: closed forms, references, gradients at zero (RELIABILITY.md tests 2-4)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_vjp

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
# XLA compilation dominates the run time on 2 cores: tests share a few jitted programs (compiled
# without LLVM's expensive optimisations: same numerics, faster to compile) and check with NumPy.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
JIT = {name: jax.jit(case[0], compiler_options=FAST_COMPILE) for name, case in CASES.items()}
VJP = {  # one program: forward and reverse pass, (args, cotangent) -> cotangents of args
    name: jax.jit(lambda args, ct, f=case[0]: jax.vjp(f, *args)[1](ct),
                  compiler_options=FAST_COMPILE)
    for name, case in CASES.items()
}
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
        y64 = JIT[name](x, *[p.astype(np.float64) for p in p32])
        assert y64.dtype == jnp.float64
    assert rel_err(y64, expected) < 1e-12
    y32 = JIT[name](x.astype(np.float32), *p32)
    assert y32.dtype == jnp.float32
    assert rel_err(y32, expected) < 1e-4


@pytest.mark.parametrize("name", list(CASES))
def test_zero_monotone_and_bounded(name):
    _, _, params = CASES[name]
    with jax.enable_x64(True):
        y = np.asarray(JIT[name](media(), *params))
    assert np.all(y[:, 0] == 0.0)  # f(0) = 0 exactly
    assert np.all(np.diff(y, axis=-2) >= 0)  # monotone
    assert np.all(np.diff(y[:, :30], axis=-2) > 0)  # strictly, before float saturation
    if name != "power":
        assert np.all((y >= 0) & (y <= 1))  # tanh rounds to 1.0 far out


def test_closed_forms():
    k, s, ones = HALF_MAX, SLOPES, np.ones(4)
    at_k = np.broadcast_to(k, SHAPE)
    x = media()
    with jax.enable_x64(True):  # all programs compiled by the reference test
        hill_at_k = np.asarray(JIT["hill"](at_k, k, s))
        mm_at_k = np.asarray(JIT["michaelis_menten"](at_k, k))
        hill_1, mm = np.asarray(JIT["hill"](x, k, ones)), np.asarray(JIT["michaelis_menten"](x, k))
        power_1 = np.asarray(JIT["power"](x, ones))
        # tanh(log(3) / 2) = 1/2 and tanh(log(9) / 2) = 4/5
        logistic_1 = np.asarray(JIT["logistic"](np.ones(SHAPE), np.log([3.0, 9.0, 3.0, 9.0])))
    assert np.all(hill_at_k == 0.5) and np.all(mm_at_k == 0.5)  # Hill(K) = MM(K) = 1/2
    np.testing.assert_allclose(hill_1, mm, rtol=1e-14)  # Hill with slope 1 is MM
    np.testing.assert_allclose(power_1, x, rtol=1e-15)
    np.testing.assert_allclose(logistic_1[0, 0], [0.5, 0.8, 0.5, 0.8], rtol=1e-14)
    f32 = [a.astype(np.float32) for a in (at_k, k, s)]
    assert np.all(np.asarray(JIT["hill"](*f32)) == 0.5)


def test_hill_extreme_ratios_do_not_overflow():
    x = np.broadcast_to(np.array([1e-30, 1e-30, 1e30, 1e30], np.float32), SHAPE)
    y = np.asarray(JIT["hill"](x, np.ones(4, np.float32), np.full(4, 5.0, np.float32)))
    assert np.all(y[..., :2] == 0.0) and np.all(y[..., 2:] == 1.0)


# ----------------------------------------------------------------------------- test 3
@pytest.mark.parametrize("name", list(CASES))
def test_gradients_finite_with_zero_media_and_check_grads(name):
    _, _, params = CASES[name]
    x = media()  # includes x = 0 and 1e-3

    def f_vjp(*args):
        return JIT[name](*args), lambda ct: VJP[name](args, ct)

    with jax.enable_x64(True):
        # reverse mode (what NUTS uses) against finite differences away from 0: this is
        # check_grads(f, args, order=1, modes=("rev",)) with the VJP compiled in one program
        check_vjp(JIT[name], f_vjp, (x + 0.05, *params))
        # with zeros in x (every slope in SLOPES) every gradient is finite (same program)
        grads = VJP[name]((x, *params), np.ones(SHAPE))
    assert len(grads) == 1 + len(params)
    for g in grads:
        assert np.all(np.isfinite(np.asarray(g))), name
    # float32 gradients with zero media over prior draws: tests/test_registry.py


def test_derivative_at_zero_is_the_finite_one_sided_limit():
    k = HALF_MAX.astype(np.float32)

    @functools.partial(jax.jit, compiler_options=FAST_COMPILE)
    def derivatives_at_zero(zero):
        def d(f):
            return jax.grad(lambda x: f(x).sum())(zero)[0]

        return (
            d(lambda x: sat.hill(x, k, SLOPES.astype(np.float32))),
            d(lambda x: sat.michaelis_menten(x, k)),
            d(lambda x: sat.power(x, np.array([0.5, 1.0, 0.9, 0.1], np.float32))),
            d(lambda x: sat.logistic(x, np.full(4, 2.0, np.float32))),
        )

    hill, mm, pw, logi = derivatives_at_zero(np.zeros((1, 4), np.float32))
    # Hill slope .3, .5: +inf in theory, reported 0; slope 1: 1/K; slope 2: 0
    np.testing.assert_allclose(hill, [0.0, 0.0, 1 / HALF_MAX[2], 0.0], rtol=1e-6)
    np.testing.assert_allclose(mm, 1 / HALF_MAX, rtol=1e-6)
    np.testing.assert_allclose(pw, [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(logi, 1.0)  # d/dx tanh(lam x / 2) = lam / 2


# ----------------------------------------------------------------------------- test 4
@pytest.mark.parametrize("name", list(CASES))
def test_jit_eager_vmap_and_shapes(name):
    fn, _, params = CASES[name]
    p = [v.astype(np.float32) for v in params]
    x = media().astype(np.float32)  # (geo, time, channel)
    y = np.asarray(JIT[name](x, *p))  # compiled by the reference test
    np.testing.assert_allclose(fn(jnp.asarray(x), *p), y, rtol=1e-6, atol=1e-7)  # eager == jit
    draws = [np.stack([v, 2 * v]) for v in p]
    # one program: vmap over parameter draws of vmap over geos
    vmapped = jax.vmap(lambda *q: jax.vmap(lambda xg: fn(xg, *q))(x))
    by_vmap = np.asarray(jax.jit(vmapped, compiler_options=FAST_COMPILE)(*draws))
    assert by_vmap.shape == (2, *SHAPE)
    for d in range(2):
        q = [v[d] for v in draws]
        looped = np.stack([JIT[name](x[g], *q) for g in range(SHAPE[0])])  # (time, channel)
        np.testing.assert_allclose(by_vmap[d], looped, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(by_vmap[0], y, rtol=1e-6, atol=1e-7)


def test_dtype_follows_x_not_params():
    # float32 / float64 in -> out are checked for every kernel in test_matches_float64_reference
    with jax.enable_x64(True):
        y = JIT["hill"](media().astype(np.float32), HALF_MAX, SLOPES)
        assert y.dtype == jnp.float32


def test_bad_parameter_shape_raises_value_error():
    with pytest.raises(ValueError, match="'slope' must have shape"):
        sat.hill(np.ones((5, 3)), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="'lam' must have shape"):
        sat.logistic(np.ones((5, 3)), np.ones((2, 3)))
    # elementwise kernels also take a scalar x; a stack of parameter draws is still refused
    assert float(sat.michaelis_menten(3.0, 1.0)) == 0.75
    with pytest.raises(ValueError, match=r"power: parameter 'exponent' must have shape "
                                         r"\(channel,\) or be a scalar, got shape \(2, 1\)"):
        sat.power(2.0, np.ones((2, 1)))
