"""Use the CPU's cores: expose them to XLA as host devices so chains run in parallel.

XLA runs one compiled NUTS chain on one core; with ``n`` host devices the chains (and
``fit_many`` datasets) are spread over ``n`` cores with ``pmap``. This must happen before JAX
creates its CPU backend, so :mod:`mmm_jax` does it on import when the backend does not exist
yet and ``XLA_FLAGS`` does not already set a device count. Measured on 2 cores against one
device in the same run (national, 4 chains x (1000 + 1000),
``benchmarks/results/speed_options_host_devices_cpu.md``): ESS/s with compile 1.11-1.22x,
sampling after compile 1.4-2.2x. On a GPU/TPU the extra CPU devices are unused.

Environment: ``MMM_JAX_HOST_DEVICES=<n>`` sets the count (``1`` turns this off); the default
is the number of cores, at most 4 (the default number of chains).
"""

from __future__ import annotations

import os
import sys

_FLAG = "--xla_force_host_platform_device_count"
ENV = "MMM_JAX_HOST_DEVICES"


def _backend_exists() -> bool:
    bridge = sys.modules.get("jax._src.xla_bridge")
    if bridge is None:
        return False
    try:
        return bool(bridge.backends_are_initialized())
    except AttributeError:  # another JAX version: assume it exists, change nothing
        return True


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


def use_host_cores() -> bool:
    """Set the XLA host device count when it is still possible and not set by the user.

    Returns:
        True when ``XLA_FLAGS`` was changed.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    n = host_device_count()
    if n <= 1 or _FLAG in flags or _backend_exists():
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {_FLAG}={n}".strip()
    return True
