"""Host devices: importing mmm_jax exposes the CPU cores to XLA unless told otherwise.

Each case runs in a fresh interpreter (the count can only be set before JAX's backends
exist). Only the first imports the whole package; the others load ``_host_devices.py`` on its
own (it needs nothing but JAX), which keeps them quick.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mmm_jax import _host_devices

MODULE = _host_devices.__file__
REPORT = "print('SET', SET); print('DEVICES', jax.local_device_count())"


def _run(code: str, env_extra: dict) -> str:
    drop = ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES", _host_devices.ENV)
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"JAX_PLATFORMS": "cpu", **env_extra})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _standalone(env_extra: dict, before: str = "pass") -> str:
    """Load the module by path, run ``before``, then ``use_host_cores()``; print the outcome."""
    code = (f"import runpy, jax; {before}; "
            f"SET = runpy.run_path({MODULE!r})['use_host_cores'](); {REPORT}")
    return _run(code, env_extra)


def test_importing_mmm_jax_sets_the_count_from_the_env_var():
    out = _run("import mmm_jax, jax; SET = jax.config.jax_num_cpu_devices; " + REPORT,
               {_host_devices.ENV: "3"})
    assert "SET 3\nDEVICES 3\n" in out


def test_default_is_the_cores_at_most_four():
    expected = max(1, min(os.cpu_count() or 1, 4))
    assert f"SET {expected > 1}\nDEVICES {expected}\n" in _standalone({})


def test_one_turns_it_off():
    assert "SET False\nDEVICES 1\n" in _standalone({_host_devices.ENV: "1"})


@pytest.mark.parametrize("env_extra, before", [
    ({"XLA_FLAGS": "--xla_force_host_platform_device_count=5"}, "pass"),
    ({"JAX_NUM_CPU_DEVICES": "5"}, "pass"),
    ({}, "jax.config.update('jax_num_cpu_devices', 5)"),
], ids=["XLA_FLAGS", "JAX_NUM_CPU_DEVICES", "jax.config"])
def test_a_count_the_user_set_is_left_alone(env_extra, before):
    out = _standalone({_host_devices.ENV: "2", **env_extra}, before)
    assert "SET False\nDEVICES 5\n" in out


def test_nothing_changes_once_the_backend_exists():
    out = _standalone({_host_devices.ENV: "3"}, "jax.numpy.zeros(1).block_until_ready()")
    assert "SET False\nDEVICES 1\n" in out


def test_bad_env_value_names_the_variable(monkeypatch):
    for raw in ("many", "0", "-2"):
        monkeypatch.setenv(_host_devices.ENV, raw)
        with pytest.raises(ValueError, match=f"MMM_JAX_HOST_DEVICES='{raw}' must be an integer"):
            _host_devices.host_device_count()


@pytest.mark.parametrize("cores, expected", [(None, 1), (1, 1), (3, 3), (16, 4)])
def test_host_device_count_default(monkeypatch, cores, expected):
    monkeypatch.delenv(_host_devices.ENV, raising=False)
    monkeypatch.setattr(_host_devices.os, "cpu_count", lambda: cores)
    assert _host_devices.host_device_count() == expected
