"""Record the machine a benchmark ran on."""

from __future__ import annotations

import os
import platform


def machine() -> dict:
    """CPU model, core count, memory, JAX backend and devices, library versions."""
    import jax
    import numpyro

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo") as fh:
            mem_gb = round(int(fh.readline().split()[1]) / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        pass
    devices = jax.devices()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "numpyro": numpyro.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in devices],
        "device_kind": devices[0].device_kind,
        "local_devices": jax.local_device_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }


def write_json(out_dir, name: str, payload: dict):
    """Write ``<out_dir>/<name>_<backend>.json`` = ``{"machine": ..., **payload}``.

    Returns:
        ``(out_dir as Path, stem, machine info)`` for the Markdown written next to it.
    """
    import json
    import pathlib

    info = machine()
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{name}_{info['backend']}"
    (out / f"{stem}.json").write_text(json.dumps({"machine": info, **payload}, indent=2))
    return out, stem, info
