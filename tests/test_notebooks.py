"""The notebooks in ``notebooks/``: committed without outputs, and each runs top to bottom.

Execution uses nbclient + ipykernel with ``MMM_JAX_NOTEBOOK_SMALL=1`` (tiny sampler and
allocator settings, well under a minute each on 2 cores); the test is skipped when those
packages are missing.
"""

from __future__ import annotations

import pathlib

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
NAMES = ["01_quickstart.ipynb", "02_gpu_geo_fitting.ipynb", "03_budget_allocation.ipynb"]


def test_the_three_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == NAMES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_outputs_are_stripped(path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name} has outputs; clear them before committing")
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "MMM_JAX_NOTEBOOK_SMALL" in first.source


@pytest.fixture(scope="module")
def compile_cache(tmp_path_factory):
    """One JAX compilation cache for the notebooks' kernels: 01 and 03 fit the same model."""
    return tmp_path_factory.mktemp("jax-cache")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch, compile_cache):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("MMM_JAX_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("MMM_JAX_NOTEBOOK_OUT", str(tmp_path / "report"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(compile_cache))
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "1")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for o in c.outputs)
    assert images >= 3, f"{path.name} displayed {images} figures"
    if path.name == "01_quickstart.ipynb":
        assert (tmp_path / "report" / "report.html").is_file()
