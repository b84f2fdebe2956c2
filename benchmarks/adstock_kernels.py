"""Adstock kernel per backend: sequential scan vs associative scan vs a Toeplitz matrix product.

Geometric adstock ``y_t = x_t + alpha * y_{t-1}`` (normalised) can be computed three ways:

* ``scan``: ``lax.scan`` over time (what :func:`mmm_jax.transforms.geometric_adstock` does);
* ``associative``: ``lax.associative_scan`` on the affine maps ``y -> a y + b`` (log depth);
* ``matmul``: a ``(T, T)`` lower-triangular matrix ``alpha**(t - s)`` per channel, applied
  with ``einsum`` (one big product; what accelerators like).

Timed as NUTS uses the kernel: gradient with respect to ``alpha`` of a scalar function of the
adstocked series, ``vmap``-ed over ``B`` chains (each with its own ``alpha``), inside a jitted
``fori_loop``; microseconds per batched evaluation. Every variant is first checked against the
scan to 1e-4 relative. The kernel that wins on this backend is what the package should use.

Usage::

    python -m benchmarks.adstock_kernels [--out benchmarks/results]

Writes ``adstock_kernels_<backend>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from mmm_jax.transforms.adstock import geometric_adstock

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
SIZES = [(52, 1), (52, 4), (52, 64), (156, 1), (156, 4), (156, 64), (520, 1), (520, 4),
         (520, 64), (1040, 4)]


def associative_adstock(x, alpha):
    """Normalised geometric adstock by an associative scan over affine maps."""
    a = jnp.broadcast_to(alpha, x.shape)

    def compose(left, right):
        a1, b1 = left
        a2, b2 = right
        return a1 * a2, a2 * b1 + b2

    _, y = lax.associative_scan(compose, (a, x), axis=-2)
    return y * (1 - alpha)


def matmul_adstock(x, alpha):
    """Normalised geometric adstock as a Toeplitz matrix product, ``(T, T, C)`` weights."""
    n = x.shape[-2]
    lag = jnp.arange(n)[:, None] - jnp.arange(n)[None, :]
    log_alpha = jnp.log(jnp.maximum(alpha, 1e-30))
    w = jnp.where(lag[..., None] >= 0, jnp.exp(jnp.maximum(lag, 0)[..., None] * log_alpha), 0.0)
    return jnp.einsum("tsc,...sc->...tc", w, x) * (1 - alpha)


KERNELS = {"scan": geometric_adstock, "associative": associative_adstock,
           "matmul": matmul_adstock}


def time_kernel(kernel, batch: int, n_time: int, n_channels: int = 3) -> float:
    """Microseconds per batched gradient evaluation (median of 3 timed loops)."""
    x = jax.random.uniform(jax.random.PRNGKey(0), (batch, n_time, n_channels))
    alpha = jnp.linspace(0.2, 0.8, batch * n_channels).reshape(batch, n_channels)
    grad = jax.vmap(jax.grad(lambda a, xx: jnp.sum(jnp.sin(kernel(xx, a)))))
    reps = max(10, min(500, int(2e5 / (batch * n_time))))

    @jax.jit
    def loop(a):
        return lax.fori_loop(0, reps, lambda i, a: a + 1e-9 * grad(a, x), a)

    jax.block_until_ready(loop(alpha))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        jax.block_until_ready(loop(alpha))
        times.append(time.perf_counter() - start)
    return float(np.median(times)) / reps * 1e6


def check_agreement(n_time: int = 156) -> dict:
    x = jax.random.uniform(jax.random.PRNGKey(1), (n_time, 3))
    alpha = jnp.array([0.0, 0.5, 0.95])
    ref = np.asarray(geometric_adstock(x, alpha), np.float64)
    return {name: float(np.max(np.abs(np.asarray(k(x, alpha)) - ref)) / np.max(np.abs(ref)))
            for name, k in KERNELS.items()}


def main(argv=None) -> int:
    from benchmarks._machine import write_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    errors = check_agreement()
    for name, err in errors.items():
        if err > 1e-4:
            raise SystemExit(f"{name} disagrees with the scan: relative error {err:.2e}")
    rows = []
    for n_time, batch in SIZES:
        row = {"periods": n_time, "chains": batch}
        for name, kernel in KERNELS.items():
            if name == "matmul" and n_time * n_time * batch > 2e7:
                row[name + "_us"] = None  # the (T, T, C) weights per chain do not fit the loop
                continue
            row[name + "_us"] = round(time_kernel(kernel, batch, n_time), 1)
        timed = {k: row[k + "_us"] for k in KERNELS if row[k + "_us"] is not None}
        row["fastest"] = min(timed, key=timed.get)
        row["scan_vs_next"] = round(sorted(timed.values())[1] / timed["scan"], 2)
        print(json.dumps(row), flush=True)
        rows.append(row)
    out, stem, info = write_json(args.out, "adstock_kernels",
                                 {"max_rel_error_vs_scan": errors, "results": rows})
    cols = ["periods", "chains", "scan_us", "associative_us", "matmul_us", "fastest",
            "scan_vs_next"]
    lines = [f"# Adstock kernels on {info['backend']} ({info['device_kind']})", "",
             f"Machine: {info['cpu']}, {info['cores']} cores, jax {info['jax']}. Gradient of a "
             "scalar of the adstocked (T, 3) series w.r.t. alpha, vmapped over chains; "
             "microseconds per batched evaluation. scan_vs_next = second-fastest / scan.", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join("" if r[c] is None else str(r[c]) for c in cols) + " |"
              for r in rows]
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / stem}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
