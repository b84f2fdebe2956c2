"""Host devices: importing mmm_jax exposes the CPU cores to XLA unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mmm_jax import _host_devices

SCRIPT = "import mmm_jax, jax; print('DEVICES', jax.local_device_count())"


def _devices(env_extra: dict) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", _host_devices.ENV)}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env, timeout=300)
    return out.stdout + out.stderr


def test_env_var_sets_the_count_and_one_turns_it_off():
    assert "DEVICES 3" in _devices({_host_devices.ENV: "3", "JAX_PLATFORMS": "cpu"})
    assert "DEVICES 1" in _devices({_host_devices.ENV: "1", "JAX_PLATFORMS": "cpu"})


def test_a_device_count_in_xla_flags_is_left_alone():
    flags = "--xla_force_host_platform_device_count=5"
    assert "DEVICES 5" in _devices({"XLA_FLAGS": flags, _host_devices.ENV: "2",
                                    "JAX_PLATFORMS": "cpu"})


def test_bad_env_value_names_the_variable(monkeypatch):
    monkeypatch.setenv(_host_devices.ENV, "many")
    with pytest.raises(ValueError, match="MMM_JAX_HOST_DEVICES='many' must be an integer"):
        _host_devices.host_device_count()


def test_nothing_changes_once_the_backend_exists(monkeypatch):
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.setenv(_host_devices.ENV, "2")
    # this test process has already created JAX's backend (mmm_jax is imported)
    assert _host_devices.use_host_cores() is False
    assert "XLA_FLAGS" not in os.environ
