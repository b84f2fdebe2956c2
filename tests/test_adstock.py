"""Adstock kernels vs independent float64 NumPy loop references (RELIABILITY.md tests 1, 3, 4)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_vjp

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
    w = np.zeros((max_lag, len(alpha)))
    for c in range(len(alpha)):
        for lag in range(max_lag):
            w[lag, c] = float(alpha[c]) ** ((lag - float(theta[c])) ** 2)  # Python: 0.0**0 == 1
    return w / w.sum(0) if normalize else w


def ref_weibull_cdf_weights(shape, scale, max_lag=L):
    w = np.ones((max_lag, len(shape)))
    for c, (k, lam) in enumerate(zip(shape, scale, strict=True)):
        for lag in range(1, max_lag):
            cdf = 1 - np.exp(-((lag / lam) ** k))
            w[lag, c] = w[lag - 1, c] * (1 - cdf)
    return w / w.sum(0)


def ref_weibull_pdf_weights(shape, scale, max_lag=L):
    w = np.zeros((max_lag, len(shape)))
    for c, (k, lam) in enumerate(zip(shape, scale, strict=True)):
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


# XLA compilation dominates this file's run time on 2 cores, so most tests run a kernel on three
# series shaped LENGTH_SHAPES in ONE compiled program per dtype (compiling the three lengths
# together roughly halves the cost), compiled without LLVM's expensive optimisations (same
# numerics, ~35% faster to compile), and check the results with NumPy. Eager calls (default
# compilation) are compared with these programs in test_jit_eager_vmap_and_loop_agree.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
MAIN = ["geometric", "delayed", "weibull_cdf", "weibull_pdf"]
RAW = {"geometric": "geometric_raw", "delayed": "delayed_raw"}  # normalize=False
SHAPE = (2, 52, 4)  # (geo, time, channel)
LENGTH_SHAPES = tuple((2, n, 4) for n in LENGTHS)
JIT = {name: jax.jit(case[0], compiler_options=FAST_COMPILE) for name, case in CASES.items()}
THREE = {
    name: jax.jit(lambda xs, *p, f=case[0]: [f(x, *p) for x in xs], compiler_options=FAST_COMPILE)
    for name, case in CASES.items()
}
REF_WEIGHTS = {
    "geometric": lambda a: a ** np.arange(L)[:, None] * (1 - a),
    "delayed": ref_delayed_weights,
    "weibull_cdf": ref_weibull_cdf_weights,
    "weibull_pdf": ref_weibull_pdf_weights,
}


def media(shape, seed=0):
    x = np.random.default_rng(seed).uniform(0.0, 2.0, size=shape)
    x[..., ::7, :] = 0.0  # zero weeks
    return x.astype(np.float32).astype(np.float64)  # exactly representable in float32


def run(name, xs, params, *, x64):
    """Kernel ``name`` on three inputs shaped LENGTH_SHAPES -> three NumPy outputs."""
    assert tuple(x.shape for x in xs) == LENGTH_SHAPES
    dtype = np.float64 if x64 else np.float32
    with jax.enable_x64(x64):
        xs, params = [np.asarray(x, dtype) for x in xs], [np.asarray(p, dtype) for p in params]
        return [np.asarray(y) for y in THREE[name](xs, *params)]


# ----------------------------------------------------------------------------- test 1
@pytest.mark.parametrize("name", MAIN)
def test_matches_float64_reference(name):
    _, ref, params = CASES[name]
    xs = [media(shape) for shape in LENGTH_SHAPES]
    params32 = [p.astype(np.float32) for p in params]  # so both dtypes see the same values
    y64 = run(name, xs, params32, x64=True)
    y32 = run(name, xs, params32, x64=False)
    for x, a, b in zip(xs, y64, y32, strict=True):
        expected = ref(x, *[p.astype(np.float64) for p in params32])
        n_time = x.shape[-2]
        assert a.dtype == np.float64 and b.dtype == np.float32
        assert rel_err(a, expected) < 1e-10, f"float64, T = {n_time}"
        assert rel_err(b, expected) < 1e-4, f"float32, T = {n_time}"


@pytest.mark.parametrize("name", list(RAW.values()))
def test_unnormalised_matches_float64_reference(name):
    fn, ref, params = CASES[name]
    x = media(SHAPE)
    with jax.enable_x64(True):  # eager: shares op compilations with the normalised kernel
        y = fn(x, *params)
    assert rel_err(y, ref(x, *params)) < 1e-10


def test_geometric_float32_long_series_stays_finite():
    x = media((1040, 2), seed=1).astype(np.float32)
    alpha = np.array([0.999, 0.9999], np.float32)
    y = np.asarray(JIT["geometric"](x, alpha))
    assert np.all(np.isfinite(y))
    assert rel_err(y, ref_geometric(x, alpha.astype(np.float64))) < 1e-4


# ----------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("name", MAIN)
def test_zero_media_gives_zero_and_monotone(name):
    _, _, params = CASES[name]
    zeros = [np.zeros(shape) for shape in LENGTH_SHAPES]
    x = media(LENGTH_SHAPES[2])
    base = run(name, [zeros[0], zeros[1], x], params, x64=False)
    bumped = run(name, [zeros[0], zeros[1], x + media(x.shape, seed=3)], params, x64=False)
    assert np.all(base[0] == 0.0) and np.all(base[1] == 0.0)
    assert np.all(bumped[2] >= base[2])


def test_alpha_zero_is_identity():
    xs = [media(shape) for shape in LENGTH_SHAPES]
    zero = np.zeros(4)
    for name in ("geometric", "delayed"):
        params = [zero] * len(CASES[name][2])  # alpha = 0 (and theta = 0)
        for x, y in zip(xs, run(name, xs, params, x64=False), strict=True):
            np.testing.assert_array_equal(y, x.astype(np.float32), err_msg=name)
        raw = CASES[RAW[name]][0](xs[1].astype(np.float32), *params)
        np.testing.assert_array_equal(raw, xs[1].astype(np.float32), err_msg=RAW[name])


@pytest.mark.parametrize("name", MAIN)
def test_unit_pulse_response_and_constant_media(name):
    _, _, params = CASES[name]
    pulse, constant = np.zeros(LENGTH_SHAPES[1]), np.full(LENGTH_SHAPES[2], 3.0)
    pulse[:, 0] = 1.0
    _, y, y_const = run(name, [np.zeros(LENGTH_SHAPES[0]), pulse, constant], params, x64=True)
    ref_w = np.broadcast_to(REF_WEIGHTS[name](*params), (2, L, 4))
    np.testing.assert_allclose(y[:, :L], ref_w, rtol=1e-10, atol=1e-300)  # response = weights
    assert np.all(y >= 0)
    if name != "geometric":  # finite window: normalised to 1, nothing after max_lag
        np.testing.assert_allclose(y.sum(-2), 1.0, rtol=1e-12)
        assert np.all(y[:, L:] == 0.0)
    # normalised kernels preserve a constant level in steady state
    n_steady = 3 if name == "geometric" else 4  # alpha = .999 needs ~20,000 periods
    np.testing.assert_allclose(y_const[:, -1, :n_steady], 3.0, rtol=1e-10)


def test_geometric_unit_pulse_sums_to_one_over_long_horizon():
    pulse = np.zeros((20_000, 4))
    pulse[0] = 1.0
    with jax.enable_x64(True):
        total = np.asarray(JIT["geometric"](pulse, ALPHAS)).sum(0)
    np.testing.assert_allclose(total, 1 - ALPHAS**20_000, rtol=1e-10)
    np.testing.assert_allclose(total[:3], 1.0, rtol=1e-12)


def test_weights_functions():
    """The public *_weights functions (eager, float32) against the NumPy references."""
    weights = {
        "geometric": ad.geometric_weights,
        "delayed": ad.delayed_weights,
        "weibull_cdf": ad.weibull_cdf_weights,
        "weibull_pdf": ad.weibull_pdf_weights,
    }
    for name, fn in weights.items():
        params = CASES[name][2]
        np.testing.assert_allclose(
            fn(*[p.astype(np.float32) for p in params], L), REF_WEIGHTS[name](*params),
            rtol=2e-5, atol=1e-30, err_msg=name,
        )
    raw = ad.geometric_weights(ALPHAS.astype(np.float32), L, normalize=False)
    np.testing.assert_allclose(raw, ALPHAS ** np.arange(L)[:, None], rtol=2e-5)
    # delayed: peak at theta; alpha = 0 puts all weight on lag theta (0**0 == 1) or, for a
    # non-integer theta, on the nearest lag (the alpha -> 0 limit)
    w = np.asarray(ad.delayed_weights(np.array([0.5, 0.8, 0.0, 0.0]), np.array([0, 3, 4, 1.3])))
    assert w.argmax(0).tolist() == [0, 3, 4, 1]
    assert w[4, 2] == 1.0 and w[1, 3] == 1.0 and w[:, 2:].sum() == 2.0
    # Weibull: extreme but valid parameters stay finite and normalised, with the mass where a
    # float64 log-space reference puts it (powers up to 260**50 would overflow float32)
    shape, scale = np.array([0.05, 0.3, 10.0, 50.0]), np.array([0.05, 20.0, 0.3, 0.05])
    log_t = np.log(np.arange(1, L + 1))[:, None] - np.log(scale)
    log_pdf = (shape - 1) * log_t - np.exp(shape * log_t)
    log_cdf = np.concatenate([np.zeros((1, 4)), -np.cumsum(np.exp(shape * log_t[:-1]), 0)])
    for fn, log_ref in ((ad.weibull_cdf_weights, log_cdf), (ad.weibull_pdf_weights, log_pdf)):
        w = np.asarray(fn(shape.astype(np.float32), scale.astype(np.float32), L))
        ref = np.exp(log_ref - log_ref.max(0))
        np.testing.assert_allclose(w, ref / ref.sum(0), rtol=1e-4, atol=1e-7, err_msg=str(fn))
    assert np.all(np.diff(np.asarray(ad.weibull_cdf_weights(shape, scale, L)), axis=0) <= 0)


# ----------------------------------------------------------------------------- test 4
@pytest.mark.parametrize("name", MAIN)
def test_jit_eager_vmap_and_loop_agree(name):
    """jit == eager; vmap over geos and draws == Python loops of (time, channel) calls."""
    fn, _, params = CASES[name]
    xs = [media(shape).astype(np.float32) for shape in LENGTH_SHAPES]
    x = xs[1]  # (geo, time, channel)
    draws = [np.stack([v, v * 0.5 + 0.01 * (v == 0)]).astype(np.float32) for v in params]
    # one program: vmap over parameter draws of vmap over geos
    vmapped = jax.vmap(lambda *q: jax.vmap(lambda xg: fn(xg, *q))(x))
    by_vmap = np.asarray(jax.jit(vmapped, compiler_options=FAST_COMPILE)(*draws))
    assert by_vmap.shape == (2, *SHAPE)
    for d in range(2):
        q = [v[d] for v in draws]
        looped = np.stack([fn(x[g], *q) for g in range(SHAPE[0])])  # eager (time, channel)
        assert looped.shape == SHAPE and looped.dtype == np.float32
        np.testing.assert_allclose(by_vmap[d], looped, rtol=1e-6, atol=1e-7)
        jitted = run(name, xs, q, x64=False)[1]  # one jitted (geo, time, channel) call
        np.testing.assert_allclose(jitted, looped, rtol=1e-6, atol=1e-7)


def test_dtype_follows_x_not_params():
    # float32 / float64 in -> out are checked for every kernel in test_matches_float64_reference
    with jax.enable_x64(True):
        assert ad.geometric_adstock(np.ones((3, 1), np.float32), np.ones(1)).dtype == jnp.float32
        assert ad.lag_convolve(np.ones((3, 1), np.int32), np.ones((2, 1))).dtype == jnp.float64


def test_bad_shapes_raise_value_error():
    with pytest.raises(ValueError, match="ndim >= 2"):
        ad.geometric_adstock(np.ones(5), np.ones(1))
    with pytest.raises(ValueError, match="'alpha' must have shape"):
        ad.geometric_adstock(np.ones((5, 3)), np.ones(2))
    with pytest.raises(ValueError, match="'theta' must have shape"):
        ad.delayed_adstock(np.ones((5, 3)), np.ones(3), np.ones((2, 3)))
    with pytest.raises(ValueError, match="max_lag"):
        ad.weibull_pdf_adstock(np.ones((5, 3)), np.ones(3), np.ones(3), max_lag=0)
    for kernel in (ad.weibull_cdf_adstock, ad.weibull_pdf_adstock):
        with pytest.raises(ValueError, match=rf"^{kernel.__name__}: parameter 'scale' must "
                                             r"have shape \(channel,\) = \(3,\)"):
            kernel(np.ones((5, 3)), np.ones(3), np.ones(2))


def test_series_shorter_than_window():
    xs = [media(shape) for shape in LENGTH_SHAPES]
    y = run("weibull_pdf", xs, WEIBULL, x64=False)[0]  # T = 1 < max_lag
    np.testing.assert_allclose(y, xs[0] * ref_weibull_pdf_weights(*WEIBULL)[0], rtol=1e-5)


# ----------------------------------------------------------------------------- test 3
# edges: alpha = 0, theta = 0, theta on/off the lag grid, extreme Weibull shapes/scales
GRAD_EDGES = {
    "geometric": (np.array([0.0, 0.3, 0.9, 0.999]),),
    "delayed": (np.array([0.0, 0.3, 0.0, 0.999]), np.array([0.0, 1.3, 4.5, 12.0])),
    "weibull_cdf": (np.array([0.05, 1.0, 10.0, 50.0]), np.array([0.05, 2.0, 0.3, 0.05])),
    "weibull_pdf": (np.array([0.05, 1.0, 10.0, 50.0]), np.array([100.0, 2.0, 0.3, 0.05])),
}
SMOOTH = {
    "geometric": (np.array([0.2, 0.5, 0.9, 0.99]),),
    "delayed": (np.array([0.2, 0.5, 0.9, 0.99]), np.array([0.3, 1.5, 3.2, 6.0])),
    "weibull_cdf": (np.array([0.7, 1.0, 2.0, 4.0]), np.array([1.0, 2.0, 5.0, 8.0])),
    "weibull_pdf": (np.array([0.7, 1.0, 2.0, 4.0]), np.array([1.0, 2.0, 5.0, 8.0])),
}


VJP = {  # one program: forward and reverse pass, (args, cotangent) -> cotangents of args
    name: jax.jit(lambda args, ct, f=case[0]: jax.vjp(f, *args)[1](ct),
                  compiler_options=FAST_COMPILE)
    for name, case in CASES.items()
}


@pytest.mark.parametrize("name", MAIN)
def test_gradients_finite_with_zero_media_and_check_grads(name):
    x = media(SHAPE)
    x[..., 1] = 0.0  # a zero channel as well as zero weeks
    others = [np.zeros(LENGTH_SHAPES[0]), np.zeros(LENGTH_SHAPES[2])]

    def f(x, *p):  # the kernel on (2, 52, 4), through the program of the reference test
        return THREE[name]([others[0], x, others[1]], *p)[1]

    def f_vjp(*args):
        return f(*args), lambda ct: VJP[name](args, ct)

    with jax.enable_x64(True):
        # reverse mode (what NUTS uses) against finite differences at smooth points: this is
        # check_grads(f, args, order=1, modes=("rev",)) with the VJP compiled in one program
        check_vjp(f, f_vjp, (x + 0.1, *SMOOTH[name]))
        # at the edges and with zeros in x every gradient is finite (same program)
        grads = VJP[name]((x, *GRAD_EDGES[name]), np.ones(SHAPE))
    assert len(grads) == 1 + len(SMOOTH[name])
    for g in grads:
        assert np.all(np.isfinite(np.asarray(g))), name
    # float32 gradients over prior draws with zero media: tests/test_registry.py
