"""Where mmm_jax keeps what it has computed once, and one call to drop all of it.

=======================  ===================================  ===================================
cache                    holds                                bound
=======================  ===================================  ===================================
sampler programs         one compiled NUTS program per model  the last ``SAMPLER_PROGRAMS`` used
(:mod:`mmm_jax.sampler`)  structure, shapes and settings       (least recently used dropped)
allocator setups         per fit result and horizon options:  per fit result, the last few
(:mod:`mmm_jax.allocate`) response terms on the posterior      options; freed with the result
JAX                      jitted output and allocator kernels  JAX's own caches
=======================  ===================================  ===================================

A fit result holds no cache itself: the allocator's entries are keyed weakly by the fit result,
so they go when the model is refitted or dropped. :func:`clear_caches` empties every cache
above (the next fit or allocation compiles again); use it to free memory in a long session.
"""

from __future__ import annotations

from collections.abc import Callable

_CLEARERS: dict[str, Callable[[], None]] = {}


def register(name: str, clear: Callable[[], None]) -> None:
    """Record how to clear the cache ``name`` (called by the module that owns it)."""
    _CLEARERS[name] = clear


def clear_caches() -> None:
    """Empty mmm_jax's caches (compiled sampler programs, allocator setups) and JAX's.

    Example:
        >>> import mmm_jax as mj
        >>> mj.clear_caches()
    """
    import jax

    for clear in list(_CLEARERS.values()):
        clear()
    jax.clear_caches()
