"""Use the CPU's cores: expose them to XLA as host devices so chains run in parallel.

XLA runs one compiled NUTS chain on one core; with ``n`` host devices the chains (and
``fit_many`` datasets) are spread over ``n`` cores with ``pmap``. Measured on 2 cores against
one device in the same run (national, 4 chains x (1000 + 1000),
``benchmarks/results/speed_options_host_devices_cpu.md``): ESS/s with compile 1.11-1.22x,
sampling after compile 1.4-2.2x. On a GPU/TPU the extra CPU devices are unused.

The count is set through JAX's public option ``jax_num_cpu_devices``
(``jax.config.update``), which JAX accepts only before it creates its backends and refuses
with a ``RuntimeError`` afterwards; :mod:`mmm_jax` sets it on import, so nothing changes
when JAX has already run something. A count the user chose is kept: the
``--xla_force_host_platform_device_count`` flag in ``XLA_FLAGS``, the ``JAX_NUM_CPU_DEVICES``
environment variable or an earlier ``jax.config.update("jax_num_cpu_devices", n)``. A later
``jax.config.update`` (after ``import mmm_jax``, before the first JAX operation) still wins.

Environment: ``MMM_JAX_HOST_DEVICES=<n>`` sets the count (``1`` turns this off); the default
is the number of cores, at most 4 (the default number of chains).
"""

from __future__ import annotations

import os

import jax

_FLAG = "--xla_force_host_platform_device_count"
_OPTION = "jax_num_cpu_devices"
ENV = "MMM_JAX_HOST_DEVICES"


def host_device_count() -> int:
    """The number of host devices to ask for (from ``MMM_JAX_HOST_DEVICES`` or the cores)."""
    raw = os.environ.get(ENV)
    if raw is None:
        return max(1, min(os.cpu_count() or 1, 4))
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{ENV}={raw!r} must be an integer >= 1 (1 keeps one CPU device)")
    return n


def user_set_count() -> bool:
    """Whether a CPU device count is already chosen (``XLA_FLAGS``, ``JAX_NUM_CPU_DEVICES``
    or ``jax.config``); JAX's option reads ``JAX_NUM_CPU_DEVICES`` and is -1 when unset."""
    return _FLAG in os.environ.get("XLA_FLAGS", "") or getattr(jax.config, _OPTION) >= 0


def use_host_cores() -> bool:
    """Set JAX's CPU device count when it is still possible and not set by the user.

    Returns:
        True when ``jax_num_cpu_devices`` was set; False when it is turned off, the user
        chose a count, or JAX's backends already exist (JAX then refuses the update).
    """
    n = host_device_count()
    if n <= 1 or user_set_count():
        return False
    try:
        jax.config.update(_OPTION, n)
    except RuntimeError:  # the backends exist: the count can no longer change
        return False
    return True
