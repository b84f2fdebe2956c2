"""NUTS over a numpyro model as one compiled program per model structure.

numpyro's ``MCMC`` recompiles its sampling loop on every ``run``; here the whole run (warmup,
sampling, constraining) is a single jitted function of ``(keys, init, inputs, y)`` that is cached
by model structure, so a second fit on same-shaped data reuses the compiled program. Chains run
one after another (``lax.map``) on a CPU, vectorised (``vmap``) on an accelerator, and are spread
with ``pmap`` when there are several devices (see ``SamplerConfig.chain_method``).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from numpyro import handlers
from numpyro.distributions.transforms import biject_to
from numpyro.infer.hmc import hmc
from numpyro.infer.util import constrain_fn, potential_energy

CHAIN_METHODS = ("auto", "vectorized", "parallel", "sequential")
PRECISIONS = ("float32", "float64")


@dataclasses.dataclass(frozen=True)
class SamplerConfig:
    """NUTS settings.

    Attributes:
        num_warmup, num_samples, num_chains: run lengths (per chain) and chain count.
        target_accept: dual-averaging target acceptance probability.
        max_tree_depth: NUTS tree depth cap (``2**depth - 1`` leapfrog steps).
        dense_mass: adapt a dense instead of a diagonal mass matrix.
        chain_method: ``"auto"``: ``"parallel"`` when there are several devices (chains
            spread over them), else ``"sequential"`` for national models on CPU (chains one
            after another inside one compiled program: half the compile time of a vmapped NUTS
            and no chain waiting for the longest tree of its batch) and ``"vectorized"``
            (vmap) for geo models and on GPU/TPU.
        init_jitter: half-width of the uniform jitter (unconstrained scale) around the prior
            median used to start each chain.
        progress_bar: show a progress bar.
        precision: ``"float32"`` (default: about 2x faster on a CPU, and what accelerators
            are built for) or ``"float64"`` (the run is compiled and sampled with 64-bit
            floats, whatever the global ``jax_enable_x64`` setting).
    """

    num_warmup: int = 1000
    num_samples: int = 1000
    num_chains: int = 4
    target_accept: float = 0.85
    max_tree_depth: int = 10
    dense_mass: bool = False
    chain_method: str = "auto"
    init_jitter: float = 0.5
    progress_bar: bool = True
    precision: str = "float32"

    def __post_init__(self):
        for name in ("num_warmup", "num_samples", "num_chains", "max_tree_depth"):
            value = getattr(self, name)
            low = 0 if name == "num_warmup" else 1
            if int(value) != value or value < low:
                raise ValueError(f"{name}={value!r} must be an integer >= {low}")
        if not 0.0 < self.target_accept < 1.0:
            raise ValueError(f"target_accept={self.target_accept!r} must be in (0, 1)")
        if self.chain_method not in CHAIN_METHODS:
            raise ValueError(f"chain_method={self.chain_method!r}; use one of {CHAIN_METHODS}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision={self.precision!r}; use one of {PRECISIONS}")

    def resolved_chain_method(self, geo: bool = False) -> str:
        """The method ``"auto"`` stands for here: ``geo`` says a chain's arrays are large
        (geo models), where vectorising pays on a CPU too (measured on 2 cores, compile
        included: 5 geos x 104 weeks 60 s vectorised vs 77 s looped; national models are
        1.3-2.8x faster looped, ``benchmarks/results/speed_options_cpu.md``)."""
        if self.chain_method != "auto":
            return self.chain_method
        if self.num_chains > 1 and jax.local_device_count() > 1:
            return "parallel"
        return _per_device_method(geo)


class SampleResult(NamedTuple):
    """Posterior draws (constrained, ``(chain, draw, ...)``) and per-draw sampler statistics.

    ``stats`` holds ``diverging``, ``num_steps``, ``tree_depth``, ``accept_prob``,
    ``potential_energy``, ``energy`` and ``step_size``, each ``(chain, draw)``.
    """

    samples: dict
    stats: dict


_RUNNERS: dict = {}
_LOCK = threading.Lock()


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


_ACTIVE: list = []  # the progress bar of the run in flight (runs are serialised by _LOCK)


def _report(i):
    if _ACTIVE:
        _ACTIVE[-1].update(i)


def _build_runner(model, sampler: SamplerConfig, report_every: int, many: bool = False,
                  geo: bool = False):
    total = sampler.num_warmup + sampler.num_samples

    def potential_gen(inputs, y):
        return lambda z: potential_energy(model, (inputs, y), {}, z)

    def tick(i, offset):
        if sampler.progress_bar:
            lax.cond((i + 1) % report_every == 0,
                     lambda: jax.debug.callback(_report, offset + i + 1), lambda: None)

    def one_chain(key, inputs, y, offset=0):
        k_init, key = jax.random.split(key)
        z0 = initial_values(model, inputs, y, k_init, sampler.init_jitter)
        init_kernel, sample_kernel = hmc(potential_fn_gen=potential_gen, algo="NUTS")
        state = init_kernel(
            z0, sampler.num_warmup, target_accept_prob=sampler.target_accept,
            max_tree_depth=sampler.max_tree_depth, dense_mass=sampler.dense_mass,
            model_args=(inputs, y), rng_key=key)

        def step(s, i):
            tick(i, offset)
            s = sample_kernel(s, model_args=(inputs, y))
            return s, (s.z, s.diverging, s.num_steps, s.accept_prob, s.potential_energy,
                       s.energy, s.adapt_state.step_size)

        # one scan over warmup + sampling (the NUTS step is compiled once); warmup is dropped
        _, trace = lax.scan(step, state, jnp.arange(total))
        z, div, steps, acc, pe, energy, step_size = jax.tree_util.tree_map(
            lambda a: a[sampler.num_warmup:], trace)
        warmup_steps = trace[2][:sampler.num_warmup]
        constrained = jax.vmap(lambda u: constrain_fn(model, (inputs, y), {}, u,
                                                           return_deterministic=True))(z)
        stats = {"diverging": div, "num_steps": steps, "accept_prob": acc,
                 "potential_energy": pe, "energy": energy, "step_size": step_size,
                 "warmup_num_steps": warmup_steps}
        return constrained, stats

    method = sampler.resolved_chain_method(geo)
    inner = _inner_method(method, geo)

    # The progress bar counts iterations over the chains (and datasets) a device runs one
    # after another: a looped chain reports its iterations after those of the chains before it.
    def chains(keys, inputs, y, base=0):  # (chain, ...) keys -> (chain, ...) draws, one device
        if inner == "sequential":
            slots = jnp.arange(keys.shape[0])
            return lax.map(lambda a: one_chain(a[1], inputs, y, base + a[0] * total),
                           (slots, keys))
        return jax.vmap(one_chain, in_axes=(0, None, None))(keys, inputs, y)

    if many:  # K datasets stacked on a leading axis
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


def _inner_method(method: str, geo: bool) -> str:
    """How one device runs its share of chains (or datasets) under ``"parallel"``."""
    return _per_device_method(geo) if method == "parallel" else method


def _per_device_method(geo: bool) -> str:
    """Loop national chains on a CPU; vectorise geo chains and anything on an accelerator."""
    return "sequential" if jax.default_backend() == "cpu" and not geo else "vectorized"


def _across_devices(mapped, count, shared: bool):
    """Split the leading axis of keys (and, unless ``shared``, of inputs and y) over devices."""

    def split(a, n):
        return a.reshape(n, a.shape[0] // n, *a.shape[1:])

    def run(keys, inputs, y):
        n_dev = _parallel_devices(count(keys))
        if shared:
            out = mapped(split(keys, n_dev), inputs, y)
        else:
            out = mapped(*jax.tree_util.tree_map(lambda a: split(jnp.asarray(a), n_dev),
                                                 (keys, inputs, y)))
        return jax.tree_util.tree_map(lambda a: a.reshape(a.shape[0] * a.shape[1], *a.shape[2:]),
                                      out)

    return run


def _looped_runs(sampler: SamplerConfig, geo: bool, key_shape: tuple) -> int:
    """How many chains one device runs one after another (the progress bar's multiple)."""
    method = sampler.resolved_chain_method(geo)
    if _inner_method(method, geo) != "sequential":
        return 1
    runs = int(np.prod(key_shape[:-1]))  # datasets x chains
    if method == "parallel":
        runs //= _parallel_devices(key_shape[0])
    return runs


def _parallel_devices(num_chains: int) -> int:
    """Largest device count <= available that divides the number of chains."""
    n = min(jax.local_device_count(), num_chains)
    while num_chains % n:
        n -= 1
    return n


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


def run_nuts(model, inputs: dict, y, sampler: SamplerConfig, seed, cache_key, *,
             many: bool = False) -> SampleResult:
    """Sample the posterior of ``model(inputs, y)`` with NUTS.

    Args:
        model: a numpyro model ``model(inputs, y)``.
        inputs: dict of arrays (unit-scale design). y: unit-scale target.
        sampler: NUTS settings. seed: integer seed (same seed -> same draws); with ``many``,
            a sequence of seeds, one per dataset.
        cache_key: hashable identity of the model structure; runs with the same key, sampler
            settings and array shapes reuse one compiled program.
        many: ``inputs`` and ``y`` hold K independent same-shaped datasets stacked on a
            leading axis; they are sampled in one vectorised program.

    Returns:
        :class:`SampleResult` with NumPy arrays (a leading dataset axis with ``many``).
    """
    if many:
        keys = jnp.stack([jax.random.split(jax.random.PRNGKey(int(s)), sampler.num_chains)
                          for s in seed])
    else:
        keys = jax.random.split(jax.random.PRNGKey(seed), sampler.num_chains)
    settings = dataclasses.replace(sampler, progress_bar=bool(sampler.progress_bar))
    geo = np.ndim(inputs["media"]) - int(many) == 3
    runner_key = (cache_key, settings, many, settings.resolved_chain_method(geo))
    total = sampler.num_warmup + sampler.num_samples
    report_every = max(1, total // 200)
    x64 = sampler.precision == "float64"
    if x64:
        inputs, y = jax.tree_util.tree_map(
            lambda a: np.asarray(a, np.float64) if np.issubdtype(np.asarray(a).dtype, np.floating)
            else a, (inputs, y))
    with _LOCK, jax.enable_x64(x64):
        runner = _RUNNERS.get(runner_key)
        if runner is None:
            runner = _build_runner(model, settings, report_every, many=many, geo=geo)
            _RUNNERS[runner_key] = runner
        progress = _Progress(total * _looped_runs(settings, geo, np.shape(keys)),
                             sampler.progress_bar)
        _ACTIVE.append(progress)
        try:
            samples, stats = runner(keys, inputs, y)
            samples = jax.tree_util.tree_map(np.asarray, samples)
            stats = jax.tree_util.tree_map(np.asarray, stats)
        finally:
            _ACTIVE.pop()
            progress.close()
    stats["tree_depth"] = np.floor(np.log2(stats["num_steps"] + 1)).astype(np.int64)
    return SampleResult(samples=samples, stats=stats)
