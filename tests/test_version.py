"""The version is defined once (``mmm_jax/_version.py``); packaging metadata agrees with it."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

import mmm_jax as mj
from mmm_jax._version import __version__

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_package_and_pyproject_read_the_one_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", __version__)
    assert mj.__version__ == __version__
    project = tomllib.loads(PYPROJECT.read_text("utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "mmm_jax._version.__version__"}


def test_installed_metadata_matches_the_version_license_and_typing_marker():
    try:
        meta = importlib.metadata.metadata("mmm_jax")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
        pytest.skip("mmm_jax is not installed")
    assert meta["Version"] == __version__, "reinstall: pip install -e ."
    assert meta["License-Expression"] == "Apache-2.0"
    assert resources.files("mmm_jax").joinpath("py.typed").is_file()
    package_data = tomllib.loads(PYPROJECT.read_text("utf-8"))["tool"]["setuptools"][
        "package-data"]["mmm_jax"]
    assert "py.typed" in package_data
    license_text = (PYPROJECT.parent / "LICENSE").read_text("utf-8")
    assert "Apache License" in license_text and "END OF TERMS AND CONDITIONS" in license_text
