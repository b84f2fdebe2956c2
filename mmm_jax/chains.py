"""How NUTS chains are laid out in one compiled program: looped, vectorised, over devices.

:func:`lay_out` takes a one-chain run ``chain(key, inputs, y, on_step=None)`` (see
:func:`mmm_jax.sampler.nuts_chain`) and returns a function of ``(keys, inputs, y)`` that runs
every chain (and, with ``many``, every dataset), arranged as :func:`resolved_chain_method`
says:

* ``"sequential"``: chains one after another with ``lax.map`` inside one program (national
  models on a CPU: half the compile time of a vmapped NUTS, and no chain waits for the longest
  tree of its batch);
* ``"vectorized"``: chains side by side with ``vmap`` (geo models, GPU/TPU);
* ``"parallel"``: chains split over the local devices with ``pmap``, each device running its
  share as above.

With ``many`` the datasets of ``fit_many`` are one more leading axis, looped or vectorised the
same way (and split over devices under ``"parallel"``). The progress bar counts the iterations
one device runs one after another: a looped chain reports after the chains looped before it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from mmm_jax.sampler_config import SamplerConfig

#: ``chain(key, inputs, y, on_step=None)`` -> the pytree of one chain's results; ``on_step(i)``
#: (unless None) is called inside the chain's loop at iteration ``i``.
Chain = Callable


def resolved_chain_method(sampler: SamplerConfig, geo: bool = False) -> str:
    """The method ``"auto"`` stands for here: ``geo`` says a chain's arrays are large
    (geo models), where vectorising pays on a CPU too (measured on 2 cores, compile
    included: 5 geos x 104 weeks 60 s vectorised vs 77 s looped; national models are
    1.3-2.8x faster looped, ``benchmarks/results/speed_options_cpu.md``).

    Example:
        >>> resolved_chain_method(SamplerConfig(chain_method="vectorized"))
        'vectorized'
    """
    if sampler.chain_method != "auto":
        return sampler.chain_method
    if sampler.num_chains > 1 and jax.local_device_count() > 1:
        return "parallel"
    return per_device_method(geo)


def per_device_method(geo: bool) -> str:
    """Loop national chains on a CPU; vectorise geo chains and anything on an accelerator."""
    return "sequential" if jax.default_backend() == "cpu" and not geo else "vectorized"


def inner_method(method: str, geo: bool) -> str:
    """How one device runs its share of chains (or datasets) under ``method``."""
    return per_device_method(geo) if method == "parallel" else method


def parallel_devices(count: int) -> int:
    """Largest device count <= available that divides ``count`` (chains, or datasets).

    Example:
        >>> parallel_devices(1)
        1
    """
    n = min(jax.local_device_count(), count)
    while count % n:
        n -= 1
    return n


def looped_runs(sampler: SamplerConfig, geo: bool, key_shape: tuple) -> int:
    """How many chains one device runs one after another (the progress bar's multiple);
    ``key_shape`` is ``(chain, 2)`` or, for ``fit_many``, ``(dataset, chain, 2)``."""
    method = resolved_chain_method(sampler, geo)
    if inner_method(method, geo) != "sequential":
        return 1
    runs = int(np.prod(key_shape[:-1]))  # datasets x chains
    if method == "parallel":
        runs //= parallel_devices(key_shape[0])
    return runs


def lay_out(chain: Chain, sampler: SamplerConfig, *, geo: bool, many: bool,
            report_every: int) -> Callable:
    """All chains of ``chain`` in one program: ``program(keys, inputs, y)``.

    Args:
        chain: the one-chain run (see :data:`Chain`).
        sampler: settings (``chain_method``, ``num_chains``, run lengths, ``progress_bar``).
        geo: a chain's arrays are large (decides ``"auto"``, see :func:`resolved_chain_method`).
        many: ``keys`` are ``(dataset, chain, 2)`` and ``inputs``/``y`` carry a leading
            dataset axis; else keys are ``(chain, 2)`` and inputs/y are shared by the chains.
        report_every: iterations between progress-bar updates.

    Returns:
        A function of ``(keys, inputs, y)`` (jitted, or pmapped over devices) giving the
        results of ``chain`` stacked on ``(chain, ...)``, or ``(dataset, chain, ...)``.
    """
    total = sampler.num_warmup + sampler.num_samples
    method = resolved_chain_method(sampler, geo)
    inner = inner_method(method, geo)

    def ticker(offset):
        if not sampler.progress_bar:
            return None

        def on_step(i):
            lax.cond((i + 1) % report_every == 0,
                     lambda: jax.debug.callback(_report, offset + i + 1), lambda: None)

        return on_step

    def chains(keys, inputs, y, base=0):  # (chain, ...) keys -> (chain, ...) results
        if inner == "sequential":
            slots = jnp.arange(keys.shape[0])
            return lax.map(lambda a: chain(a[1], inputs, y, on_step=ticker(base + a[0] * total)),
                           (slots, keys))
        return jax.vmap(functools.partial(chain, on_step=ticker(0)), in_axes=(0, None, None))(
            keys, inputs, y)

    if many:
        def datasets(keys, inputs, y):
            if inner == "sequential":
                per_dataset = keys.shape[1] * total
                return lax.map(lambda a: chains(*a[1:], base=a[0] * per_dataset),
                               (jnp.arange(keys.shape[0]), keys, inputs, y))
            return jax.vmap(chains)(keys, inputs, y)

        if method != "parallel":
            return jax.jit(datasets)
        return _across_devices(jax.pmap(datasets), lambda keys: keys.shape[0], shared=False)
    if method == "parallel":
        return _across_devices(jax.pmap(chains, in_axes=(0, None, None)),
                               lambda keys: sampler.num_chains, shared=True)
    return jax.jit(chains)


def _across_devices(mapped, count, shared: bool):
    """Split the leading axis of keys (and, unless ``shared``, of inputs and y) over devices."""

    def split(a, n):
        return a.reshape(n, a.shape[0] // n, *a.shape[1:])

    def run(keys, inputs, y):
        n_dev = parallel_devices(count(keys))
        if shared:
            out = mapped(split(keys, n_dev), inputs, y)
        else:
            out = mapped(*jax.tree_util.tree_map(lambda a: split(jnp.asarray(a), n_dev),
                                                 (keys, inputs, y)))
        return jax.tree_util.tree_map(lambda a: a.reshape(a.shape[0] * a.shape[1], *a.shape[2:]),
                                      out)

    return run


class _Progress:
    """A tqdm bar fed from inside the compiled loop through ``jax.debug.callback``."""

    def __init__(self, total: int, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="NUTS (compiling)", unit="it", leave=True)

    def update(self, i):
        if self.bar is not None:
            i = int(np.max(np.asarray(i)))
            if self.bar.n == 0:
                self.bar.set_description("NUTS")
            if i > self.bar.n:
                self.bar.update(i - self.bar.n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


_ACTIVE: list = []  # the progress bar of the run in flight (the caller serialises runs)


def _report(i):
    if _ACTIVE:
        _ACTIVE[-1].update(i)


@contextlib.contextmanager
def progress_bar(total: int, enabled: bool):
    """Show the bar that the programs of :func:`lay_out` update while the block runs; runs
    must not overlap (:func:`mmm_jax.sampler.run_nuts` holds a lock around each)."""
    bar = _Progress(total, enabled)
    _ACTIVE.append(bar)
    try:
        yield bar
    finally:
        _ACTIVE.pop()
        bar.close()
