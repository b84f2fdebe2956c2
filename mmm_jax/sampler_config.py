"""NUTS settings: one frozen dataclass, the only place their defaults are written.

``MMM.fit(data, sampler=SamplerConfig(...))`` takes it whole, and ``MMM.fit(data,
num_chains=2, ...)`` / :func:`mmm_jax.fit_many` take any of its fields as keyword shortcuts
(:meth:`SamplerConfig.build`). The TOML ``[sampler]`` table, the saved model and the report's
settings table are derived from the fields (see :mod:`mmm_jax._schema`).
"""

from __future__ import annotations

import dataclasses

from mmm_jax._schema import at_least, build, one_of, open_unit, option, validate

CHAIN_METHODS = ("auto", "vectorized", "parallel", "sequential")
PRECISIONS = ("float32", "float64")


@dataclasses.dataclass(frozen=True)
class SamplerConfig:
    """NUTS settings, validated on construction.

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
            mean used to start each chain.
        precision: ``"float32"`` (default: about 2x faster on a CPU, and what accelerators
            are built for) or ``"float64"`` (the run is compiled and sampled with 64-bit
            floats, whatever the global ``jax_enable_x64`` setting).
        progress_bar: show a progress bar (not saved: it does not change the draws).

    Raises:
        ValueError: naming the field, e.g. ``num_chains=0 must be >= 1``.

    Example:
        >>> SamplerConfig(num_chains=2).num_warmup
        1000
        >>> SamplerConfig.build(None, num_samples=200).num_samples
        200
    """

    num_warmup: int = option(1000, "int", "warmup iterations per chain", check=at_least(0),
                             toml="warmup")
    num_samples: int = option(1000, "int", "kept draws per chain", check=at_least(1),
                              toml="samples")
    num_chains: int = option(4, "int", "chains", check=at_least(1), toml="chains")
    target_accept: float = option(0.85, "float", "NUTS target acceptance probability",
                                  check=open_unit)
    max_tree_depth: int = option(10, "int", "NUTS tree depth cap", check=at_least(1))
    dense_mass: bool = option(False, "bool", "adapt a dense mass matrix")
    chain_method: str = option("auto", "str", "how chains are laid out over devices",
                               check=one_of(CHAIN_METHODS))
    init_jitter: float = option(0.5, "float", "jitter of the chains' starting points",
                                check=at_least(0.0))
    precision: str = option("float32", "str", "floating-point precision of the run",
                            check=one_of(PRECISIONS))
    progress_bar: bool = option(True, "bool", "show a progress bar", persist=False)

    def __post_init__(self):
        validate(self)

    @classmethod
    def build(cls, sampler: SamplerConfig | None = None, **overrides) -> SamplerConfig:
        """``sampler`` (default: the defaults) with keyword ``overrides`` of its fields.

        Raises:
            ValueError: an override that is not a field (with the valid names), or a bad value.
        """
        return build(cls, sampler, overrides, "sampler setting")
