"""NUTS over a numpyro model: the one-chain kernel, and the cached program that runs it.

:func:`nuts_chain` is one chain's whole run (initial point, warmup and sampling in one
``lax.scan``, constraining of the kept draws) as a pure, traceable function of its inputs.
:func:`run_nuts` lays the chains out in one jitted program (:mod:`mmm_jax.chains`) and caches
that program. We own this loop rather than call numpyro's ``MCMC`` for three reasons:

* one compiled program is cached per model structure, settings and shapes, across model
  instances: a new ``MMM`` object fitted on same-shaped data compiles nothing (the cache key is
  the caller's ``cache_key``, not the model function);
* on a CPU the chains run one after another inside that one program (``lax.map``): half the
  compile time of a vmapped NUTS, and no chain waits in lockstep for the longest tree of its
  batch (see :func:`mmm_jax.chains.resolved_chain_method` for when chains are vectorised or
  spread over devices instead);
* ``fit_many`` samples K same-shaped datasets in one program: the datasets are one more
  leading axis (``run_nuts(..., many=True)``).

The cache keeps the last :data:`SAMPLER_PROGRAMS` programs used; :func:`mmm_jax.clear_caches`
empties it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from numpyro import handlers
from numpyro.distributions.transforms import biject_to
from numpyro.infer.hmc import hmc
from numpyro.infer.util import constrain_fn, potential_energy

from mmm_jax import caches
from mmm_jax.chains import lay_out, looped_runs, progress_bar, resolved_chain_method
from mmm_jax.sampler_config import SamplerConfig

__all__ = ["SAMPLER_PROGRAMS", "ChainOutput", "DrawInfo", "SampleResult", "initial_values",
           "nuts_chain", "run_nuts"]

#: How many compiled NUTS programs are kept (least recently used dropped). One program is
#: one model structure at one set of array shapes, sampler settings and chain layout.
SAMPLER_PROGRAMS = 64  # a compiled NUTS program is a few MB; a test session builds ~30


class DrawInfo(NamedTuple):
    """NUTS statistics of each iteration of one chain, each ``(iteration,)``."""

    diverging: jax.Array
    num_steps: jax.Array  #: leapfrog steps of the iteration's tree
    accept_prob: jax.Array
    potential_energy: jax.Array
    energy: jax.Array
    step_size: jax.Array  #: the adapted step size the iteration used


class ChainOutput(NamedTuple):
    """One chain's results: ``samples`` (constrained draws and deterministic sites, each
    ``(draw, ...)``), ``info`` of the kept draws and the warmup's ``(num_warmup,)`` steps."""

    samples: dict
    info: DrawInfo
    warmup_num_steps: jax.Array


class SampleResult(NamedTuple):
    """Posterior draws (constrained, ``(chain, draw, ...)``) and per-draw sampler statistics.

    ``stats`` holds ``diverging``, ``num_steps``, ``accept_prob``, ``potential_energy``,
    ``energy``, ``step_size``, ``warmup_num_steps`` (``(chain, num_warmup)``) and
    ``tree_depth``, each ``(chain, draw)`` unless said (a leading dataset axis with ``many``).
    """

    samples: dict
    stats: dict


def initial_values(model, inputs, y, key, jitter: float) -> dict:
    """Unconstrained starting point of one chain: the prior mean of each site (the centre of
    the support when the mean is undefined) plus uniform jitter. Traceable (runs inside jit).

    Returns:
        dict site -> unconstrained array of the site's shape.
    """
    k_trace, k_jit = jax.random.split(key)
    trace = handlers.trace(handlers.seed(model, k_trace)).get_trace(inputs, y)
    latent = [n for n, s in trace.items() if s["type"] == "sample" and not s["is_observed"]]
    out = {}
    for name, kj in zip(latent, jax.random.split(k_jit, len(latent)), strict=True):
        fn = trace[name]["fn"]
        transform = biject_to(fn.support)
        try:
            centre = transform.inv(jnp.broadcast_to(fn.mean, jnp.shape(trace[name]["value"])))
        except NotImplementedError:
            centre = jnp.zeros_like(transform.inv(trace[name]["value"]))
        centre = jnp.where(jnp.isfinite(centre), centre, 0.0)
        out[name] = centre + jax.random.uniform(kj, jnp.shape(centre), centre.dtype,
                                                -jitter, jitter)
    return out


def nuts_chain(model, inputs, y, key, sampler: SamplerConfig,
               on_step: Callable | None = None) -> ChainOutput:
    """One NUTS chain of ``model(inputs, y)``: start at :func:`initial_values`, adapt for
    ``sampler.num_warmup`` iterations, keep ``sampler.num_samples`` draws. Pure and traceable
    (jit, vmap, ``lax.map``); the same ``key`` gives the same draws.

    Args:
        model: a numpyro model ``model(inputs, y)``. inputs, y: its arguments (arrays).
        key: PRNG key of this chain. sampler: the NUTS settings (run lengths, target
            acceptance, tree depth, mass matrix, jitter).
        on_step: called as ``on_step(i)`` inside the loop before iteration ``i`` (the progress
            bar of :mod:`mmm_jax.chains`); it must not change the state.

    Returns:
        :class:`ChainOutput` of the kept draws.
    """
    k_init, key = jax.random.split(key)
    z0 = initial_values(model, inputs, y, k_init, sampler.init_jitter)
    init_kernel, sample_kernel = hmc(
        potential_fn_gen=lambda inputs, y: lambda z: potential_energy(model, (inputs, y), {}, z),
        algo="NUTS")
    state = init_kernel(
        z0, sampler.num_warmup, target_accept_prob=sampler.target_accept,
        max_tree_depth=sampler.max_tree_depth, dense_mass=sampler.dense_mass,
        model_args=(inputs, y), rng_key=key)

    def step(s, i):
        if on_step is not None:
            on_step(i)
        s = sample_kernel(s, model_args=(inputs, y))
        return s, (s.z, DrawInfo(s.diverging, s.num_steps, s.accept_prob, s.potential_energy,
                                 s.energy, s.adapt_state.step_size))

    # one scan over warmup + sampling (the NUTS step is compiled once); warmup is dropped
    total = sampler.num_warmup + sampler.num_samples
    _, (z, info) = lax.scan(step, state, jnp.arange(total))
    warmup_num_steps = info.num_steps[:sampler.num_warmup]
    z, info = jax.tree_util.tree_map(lambda a: a[sampler.num_warmup:], (z, info))
    samples = jax.vmap(lambda u: constrain_fn(model, (inputs, y), {}, u,
                                              return_deterministic=True))(z)
    return ChainOutput(samples=samples, info=info, warmup_num_steps=warmup_num_steps)


class _Programs:
    """Compiled programs by key, the last ``maxsize`` used (least recently used dropped)."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._programs: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, build: Callable[[], Callable]) -> Callable:
        with self._lock:
            program = self._programs.pop(key, None)
            if program is None:
                program = build()
            self._programs[key] = program
            while len(self._programs) > self.maxsize:
                self._programs.popitem(last=False)
            return program

    def clear(self) -> None:
        with self._lock:
            self._programs.clear()

    def __len__(self) -> int:
        return len(self._programs)

    def __contains__(self, key) -> bool:
        return key in self._programs


_PROGRAMS = _Programs(SAMPLER_PROGRAMS)


def _clear_programs() -> None:
    _PROGRAMS.clear()


caches.register("sampler programs", _clear_programs)
_RUN_LOCK = threading.Lock()  # one run at a time: the progress bar they update is global


def _program(model, settings: SamplerConfig, *, geo: bool, many: bool, report_every: int):
    def chain(key, inputs, y, on_step=None):
        return nuts_chain(model, inputs, y, key, settings, on_step)

    return lay_out(chain, settings, geo=geo, many=many, report_every=report_every)


def run_nuts(model, inputs: dict, y, sampler: SamplerConfig, seed, cache_key, *,
             many: bool = False) -> SampleResult:
    """Sample the posterior of ``model(inputs, y)`` with NUTS.

    Args:
        model: a numpyro model ``model(inputs, y)``.
        inputs: dict of arrays (unit-scale design). y: unit-scale target.
        sampler: NUTS settings. seed: integer seed (same seed -> same draws); with ``many``,
            a sequence of seeds, one per dataset.
        cache_key: hashable identity of the model structure; runs with the same key, sampler
            settings and array shapes reuse one compiled program (the first run's ``model``).
        many: ``inputs`` and ``y`` hold K independent same-shaped datasets stacked on a
            leading axis; they are sampled in one program.

    Returns:
        :class:`SampleResult` with NumPy arrays (a leading dataset axis with ``many``).
    """
    if many:
        keys = jnp.stack([jax.random.split(jax.random.PRNGKey(int(s)), sampler.num_chains)
                          for s in seed])
    else:
        keys = jax.random.split(jax.random.PRNGKey(seed), sampler.num_chains)
    settings = dataclasses.replace(sampler, progress_bar=bool(sampler.progress_bar))
    # a geo model's media is (geo, time, channel): its chains vectorise on a CPU too
    geo = np.ndim(inputs.get("media")) - int(many) == 3
    program_key = (cache_key, settings, many, resolved_chain_method(settings, geo))
    total = sampler.num_warmup + sampler.num_samples
    report_every = max(1, total // 200)
    x64 = sampler.precision == "float64"
    if x64:
        inputs, y = jax.tree_util.tree_map(
            lambda a: np.asarray(a, np.float64) if np.issubdtype(np.asarray(a).dtype, np.floating)
            else a, (inputs, y))
    with _RUN_LOCK, jax.enable_x64(x64):
        program = _PROGRAMS.get(program_key, lambda: _program(
            model, settings, geo=geo, many=many, report_every=report_every))
        with progress_bar(total * looped_runs(settings, geo, np.shape(keys)),
                          sampler.progress_bar):
            out = jax.tree_util.tree_map(np.asarray, program(keys, inputs, y))
    stats = {**out.info._asdict(), "warmup_num_steps": out.warmup_num_steps}
    stats["tree_depth"] = np.floor(np.log2(stats["num_steps"] + 1)).astype(np.int64)
    return SampleResult(samples=out.samples, stats=stats)
