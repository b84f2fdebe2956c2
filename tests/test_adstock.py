"""Adstock kernels vs independent float64 NumPy loop references (RELIABILITY.md tests 1, 3, 4)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from mmm_jax.transforms import adstock as ad

ALPHAS = np.array([0.0, 0.3, 0.9, 0.999])  # one channel each
LENGTHS = [1, 52, 520]
L = ad.DEFAULT_MAX_LAG


# ----------------------------------------------------------------------------- references
def ref_geometric(x, alpha, normalize=True):
    x = np.asarray(x, np.float64)
    y = np.zeros_like(x)
    for c in range(x.shape[-1]):
        carry = np.zeros(x.shape[:-2])
        for t in range(x.shape[-2]):
            carry = x[..., t, c] + alpha[c] * carry
            y[..., t, c] = carry * (1 - alpha[c]) if normalize else carry
    return y


def ref_convolve(x, w):
    x = np.asarray(x, np.float64)
    y = np.zeros_like(x)
    for c in range(x.shape[-1]):
        for t in range(x.shape[-2]):
            for lag in range(min(w.shape[0], t + 1)):
                y[..., t, c] += w[lag, c] * x[..., t - lag, c]
    return y


def ref_delayed_weights(alpha, theta, max_lag=L, normalize=True):
    w = np.array([[float(a) ** ((lag - th) ** 2) for a, th in zip(alpha, theta)]
                  for lag in range(max_lag)])
    return w / w.sum(0) if normalize else w


def ref_weibull_cdf_weights(shape, scale, max_lag=L):
    w = np.ones((max_lag, len(shape)))
    for c, (k, lam) in enumerate(zip(shape, scale)):
        for lag in range(1, max_lag):
            cdf = 1 - np.exp(-((lag / lam) ** k))
            w[lag, c] = w[lag - 1, c] * (1 - cdf)
    return w / w.sum(0)


def ref_weibull_pdf_weights(shape, scale, max_lag=L):
    w = np.zeros((max_lag, len(shape)))
    for c, (k, lam) in enumerate(zip(shape, scale)):
        for lag in range(max_lag):
            t = lag + 1.0
            w[lag, c] = k / lam * (t / lam) ** (k - 1) * np.exp(-((t / lam) ** k))
    return w / w.sum(0)


def rel_err(y, ref):
    """Max abs error per channel relative to that channel's max |ref| (0 if both are 0)."""
    y, ref = np.asarray(y, np.float64), np.asarray(ref, np.float64)
    axes = tuple(range(ref.ndim - 1))
    scale = np.maximum(np.abs(ref).max(axis=axes), 1e-300)
    return float((np.abs(y - ref).max(axis=axes) / scale).max())


# (name, kernel(x, *params), reference(x64 x, *params), params) — 4 channels each
WEIBULL = (np.array([0.5, 1.0, 2.0, 5.0]), np.array([1.0, 2.0, 5.0, 10.0]))
CASES = {
    "geometric": (ad.geometric_adstock, ref_geometric, (ALPHAS,)),
    "geometric_raw": (
        lambda x, a: ad.geometric_adstock(x, a, normalize=False),
        lambda x, a: ref_geometric(x, a, normalize=False),
        (ALPHAS,),
    ),
    "delayed": (
        ad.delayed_adstock,
        lambda x, a, th: ref_convolve(x, ref_delayed_weights(a, th)),
        (ALPHAS, np.array([2.0, 1.5, 3.0, 6.5])),
    ),
    "delayed_raw": (
        lambda x, a, th: ad.delayed_adstock(x, a, th, normalize=False),
        lambda x, a, th: ref_convolve(x, ref_delayed_weights(a, th, normalize=False)),
        (ALPHAS, np.array([0.0, 0.0, 0.5, 12.0])),
    ),
    "weibull_cdf": (
        ad.weibull_cdf_adstock,
        lambda x, k, s: ref_convolve(x, ref_weibull_cdf_weights(k, s)),
        WEIBULL,
    ),
    "weibull_pdf": (
        ad.weibull_pdf_adstock,
        lambda x, k, s: ref_convolve(x, ref_weibull_pdf_weights(k, s)),
        WEIBULL,
    ),
}


# Tests call jitted kernels on shared shapes, so compiles are reused across tests (compile time
# dominates this file on 2 cores). Eager behaviour is compared in test_jit_equals_eager.
JIT = {name: jax.jit(case[0]) for name, case in CASES.items()}
MAIN = ["geometric", "delayed", "weibull_cdf", "weibull_pdf"]  # the *_raw variants: test 1 only
SHAPE = (2, 52, 4)


def media(shape, seed=0):
    x = np.random.default_rng(seed).uniform(0.0, 2.0, size=shape)
    x[..., ::7, :] = 0.0  # zero weeks
    return x.astype(np.float32).astype(np.float64)  # exactly representable in float32


# ----------------------------------------------------------------------------- test 1
@pytest.mark.parametrize(
    ("name", "n_time"),
    [(n, t) for n in MAIN for t in LENGTHS] + [("geometric_raw", 52), ("delayed_raw", 52)],
)
def test_matches_float64_reference(name, n_time):
    _, ref, params = CASES[name]
    fn = JIT[name]
    x = media((2, n_time, 4))
    params32 = [p.astype(np.float32) for p in params]
    expected = ref(x, *[p.astype(np.float64) for p in params32])
    with jax.enable_x64(True):
        y64 = fn(jnp.asarray(x), *[jnp.asarray(p, jnp.float64) for p in params32])
        assert y64.dtype == jnp.float64
    assert rel_err(y64, expected) < 1e-10
    y32 = fn(jnp.asarray(x, jnp.float32), *[jnp.asarray(p) for p in params32])
    assert y32.dtype == jnp.float32
    assert rel_err(y32, expected) < 1e-4


def test_geometric_float32_long_series_stays_finite():
    x = media((1040, 2), seed=1)
    alpha = np.array([0.999, 0.9999], np.float32)
    y = ad.geometric_adstock(jnp.asarray(x, jnp.float32), jnp.asarray(alpha))
    assert bool(jnp.all(jnp.isfinite(y)))
    assert rel_err(y, ref_geometric(x, alpha.astype(np.float64))) < 1e-4


# ----------------------------------------------------------------------------- closed forms
def test_alpha_zero_is_identity():
    x = jnp.asarray(media((52, 3)), jnp.float32)
    zero = jnp.zeros(3)
    for normalize in (True, False):
        assert jnp.array_equal(ad.geometric_adstock(x, zero, normalize=normalize), x)
        assert jnp.array_equal(ad.delayed_adstock(x, zero, zero, normalize=normalize), x)


@pytest.mark.parametrize("name", list(CASES))
def test_zero_media_gives_zero(name):
    _, _, params = CASES[name]
    fn = JIT[name]
    y = fn(jnp.zeros(SHAPE), *[jnp.asarray(p, jnp.float32) for p in params])
    assert jnp.array_equal(y, jnp.zeros(SHAPE))


@pytest.mark.parametrize("name", ["delayed", "weibull_cdf", "weibull_pdf"])
def test_unit_pulse_weights_sum_to_one_and_match_weights(name):
    _, _, params = CASES[name]
    fn = JIT[name]
    weights_fn = {
        "delayed": ad.delayed_weights,
        "weibull_cdf": ad.weibull_cdf_weights,
        "weibull_pdf": ad.weibull_pdf_weights,
    }[name]
    with jax.enable_x64(True):
        pulse = jnp.zeros(SHAPE).at[:, 0].set(1.0)
        p = [jnp.asarray(v) for v in params]
        y = fn(pulse, *p)
        np.testing.assert_allclose(y.sum(-2), 1.0, rtol=1e-12)
        np.testing.assert_allclose(y[0, :L], weights_fn(*p, L), rtol=1e-12, atol=1e-300)
        assert jnp.array_equal(y[:, L:], jnp.zeros((2, SHAPE[1] - L, 4)))
        assert bool(jnp.all(y >= 0))


def test_geometric_unit_pulse_sums_to_one_over_long_horizon():
    with jax.enable_x64(True):
        alpha = jnp.asarray(ALPHAS)
        pulse = jnp.zeros((20_000, 4)).at[0].set(1.0)
        total = ad.geometric_adstock(pulse, alpha).sum(0)
        np.testing.assert_allclose(total, 1 - alpha**20_000, rtol=1e-10)
        np.testing.assert_allclose(total[:3], 1.0, rtol=1e-12)
        w = ad.geometric_weights(alpha, L)
        np.testing.assert_allclose(w, ad.geometric_adstock(pulse[:L], alpha), rtol=1e-12)
        np.testing.assert_allclose(w, alpha ** jnp.arange(L)[:, None] * (1 - alpha), rtol=1e-12)
        raw = ad.geometric_weights(alpha, L, normalize=False)
        np.testing.assert_allclose(raw, alpha ** jnp.arange(L)[:, None], rtol=1e-12)


@pytest.mark.parametrize("name", [n for n in CASES if not n.endswith("_raw")])
def test_constant_media_is_preserved_in_steady_state(name):
    _, _, params = CASES[name]
    fn = JIT[name]
    with jax.enable_x64(True):
        y = fn(jnp.full((2, 520, 4), 3.0), *[jnp.asarray(p) for p in params])
    n_steady = 3 if name == "geometric" else 4  # alpha = .999 needs ~20,000 periods
    np.testing.assert_allclose(y[:, -1, :n_steady], 3.0, rtol=1e-10)


@pytest.mark.parametrize("name", list(CASES))
def test_monotone_in_media(name):
    _, _, params = CASES[name]
    fn = JIT[name]
    p = [jnp.asarray(v, jnp.float32) for v in params]
    x = jnp.asarray(media(SHAPE), jnp.float32)
    bump = jnp.asarray(media(SHAPE, seed=3), jnp.float32)
    assert bool(jnp.all(fn(x + bump, *p) >= fn(x, *p)))


def test_delayed_peak_at_theta_and_alpha_zero_limits():
    w = ad.delayed_weights(jnp.array([0.5, 0.8, 0.0, 0.0]), jnp.array([0.0, 3.0, 4.0, 1.3]))
    assert w.argmax(0).tolist() == [0, 3, 4, 1]
    np.testing.assert_allclose(w[:, 2:].sum(0), 1.0, rtol=1e-6)  # 0**0 == 1, rest 0
    assert float(w[4, 2]) == 1.0 and float(w[1, 3]) == 1.0


def test_weibull_cdf_weights_non_increasing_and_extreme_params_finite():
    shape = jnp.array([0.05, 0.3, 1.0, 10.0, 50.0])
    scale = jnp.array([0.05, 20.0, 1.0, 0.3, 100.0])
    for fn in (ad.weibull_cdf_weights, ad.weibull_pdf_weights):
        w = fn(shape, scale)
        assert bool(jnp.all(jnp.isfinite(w)))
        np.testing.assert_allclose(w.sum(0), 1.0, rtol=1e-6)
    assert bool(jnp.all(jnp.diff(ad.weibull_cdf_weights(shape, scale), axis=0) <= 0))


# ----------------------------------------------------------------------------- test 4
@pytest.mark.parametrize("name", MAIN)
def test_jit_equals_eager(name):
    fn, _, params = CASES[name]
    p = [jnp.asarray(v, jnp.float32) for v in params]
    x = jnp.asarray(media(SHAPE), jnp.float32)
    np.testing.assert_allclose(JIT[name](x, *p), fn(x, *p), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", MAIN)
def test_vmap_equals_loop_and_leading_axes(name):
    _, _, params = CASES[name]
    fn = JIT[name]
    p = [jnp.asarray(v, jnp.float32) for v in params]
    x = jnp.asarray(media(SHAPE), jnp.float32)  # (geo, time, channel)
    looped = jnp.stack([fn(x[g], *p) for g in range(2)])
    np.testing.assert_allclose(jax.jit(jax.vmap(lambda xg: fn(xg, *p)))(x), looped, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fn(x, *p), looped, rtol=1e-6, atol=1e-7)  # (G, T, C) directly
    assert fn(x[0], *p).shape == (52, 4)
    # draws of the parameters through vmap
    draws = [jnp.stack([v, v * 0.5 + 0.01 * (v == 0)]) for v in p]
    by_draw = jax.jit(jax.vmap(lambda *q: fn(x, *q)))(*draws)
    loop = jnp.stack([fn(x, *[d[i] for d in draws]) for i in range(2)])
    assert by_draw.shape == (2, *SHAPE)
    np.testing.assert_allclose(by_draw, loop, rtol=1e-6, atol=1e-7)


def test_dtype_follows_x_not_params():
    # float32 / float64 in -> out are checked for every kernel in test_matches_float64_reference
    x = jnp.asarray(media(SHAPE), jnp.float32)
    with jax.enable_x64(True):
        for name in MAIN:
            _, _, params = CASES[name]
            p64 = [jnp.asarray(v, jnp.float64) for v in params]
            assert JIT[name](x, *p64).dtype == jnp.float32, name
        assert ad.lag_convolve(jnp.ones((3, 1), jnp.int32), jnp.ones((2, 1))).dtype == jnp.float64


def test_bad_shapes_raise_value_error():
    with pytest.raises(ValueError, match="ndim >= 2"):
        ad.geometric_adstock(jnp.ones(5), jnp.ones(1))
    with pytest.raises(ValueError, match="'alpha' must have shape"):
        ad.geometric_adstock(jnp.ones((5, 3)), jnp.ones(2))
    with pytest.raises(ValueError, match="'theta' must have shape"):
        ad.delayed_adstock(jnp.ones((5, 3)), jnp.ones(3), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="max_lag"):
        ad.weibull_pdf_adstock(jnp.ones((5, 3)), jnp.ones(3), jnp.ones(3), max_lag=0)


def test_short_series_shorter_than_window():
    x = jnp.asarray(media((3, 4)), jnp.float32)
    y = ad.weibull_pdf_adstock(x, *[jnp.asarray(v, jnp.float32) for v in WEIBULL])
    assert y.shape == (3, 4)


# ----------------------------------------------------------------------------- test 3
GRAD_PARAMS = {
    # include the edges: alpha = 0, theta = 0, extreme Weibull shapes/scales
    "geometric": (jnp.array([0.0, 0.3, 0.9, 0.999]),),
    "geometric_raw": (jnp.array([0.0, 0.3, 0.9, 0.999]),),
    "delayed": (jnp.array([0.0, 0.3, 0.9, 0.999]), jnp.array([0.0, 1.3, 0.0, 12.0])),
    "delayed_raw": (jnp.array([0.0, 0.3, 0.9, 0.999]), jnp.array([2.0, 0.0, 4.5, 0.0])),
    "weibull_cdf": (jnp.array([0.05, 1.0, 10.0, 50.0]), jnp.array([0.05, 2.0, 0.3, 100.0])),
    "weibull_pdf": (jnp.array([0.05, 1.0, 10.0, 50.0]), jnp.array([0.05, 2.0, 0.3, 100.0])),
}


@pytest.mark.parametrize("name", MAIN)
def test_gradients_finite_with_zero_media(name):
    fn = CASES[name][0]  # the loss is jitted below
    x = jnp.asarray(media(SHAPE), jnp.float32).at[..., 1].set(0.0)  # a zero channel too
    params = GRAD_PARAMS[name]

    def loss(x, *p):
        return jnp.sum(fn(x, *p) ** 2)

    grads = jax.jit(jax.grad(loss, argnums=tuple(range(1 + len(params)))))(x, *params)
    for g in grads:
        assert bool(jnp.all(jnp.isfinite(g))), name


SMOOTH_PARAMS = {
    "geometric": (np.array([0.2, 0.5, 0.9, 0.99]),),
    "geometric_raw": (np.array([0.2, 0.5, 0.9, 0.99]),),
    "delayed": (np.array([0.2, 0.5, 0.9, 0.99]), np.array([0.3, 1.5, 3.2, 6.0])),
    "delayed_raw": (np.array([0.2, 0.5, 0.9, 0.99]), np.array([0.3, 1.5, 3.2, 6.0])),
    "weibull_cdf": (np.array([0.7, 1.0, 2.0, 4.0]), np.array([1.0, 2.0, 5.0, 8.0])),
    "weibull_pdf": (np.array([0.7, 1.0, 2.0, 4.0]), np.array([1.0, 2.0, 5.0, 8.0])),
}


@pytest.mark.parametrize("name", MAIN)
def test_check_grads_at_smooth_points(name):
    fn = JIT[name]
    with jax.enable_x64(True):
        x = jnp.asarray(media(SHAPE) + 0.1)
        params = tuple(jnp.asarray(p) for p in SMOOTH_PARAMS[name])
        # reverse mode is what NUTS uses; forward mode is covered by jvp inside check_grads
        check_grads(fn, (x, *params), order=1, modes=("rev",))
