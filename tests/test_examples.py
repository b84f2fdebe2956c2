"""The bundled example datasets: shapes, equality with the simulator, rebuilt bit-for-bit."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from mmm_jax.examples import EXAMPLES, _regenerate_examples, load_example, load_example_truth
from mmm_jax.simulate import simulate


@pytest.mark.parametrize(("name", "shape"), [("national", (156, 6)), ("geo", (520, 7))])
def test_load_example_shapes_and_equality_with_simulate(name, shape):
    df = load_example(name)
    truth = load_example_truth(name)
    assert df.shape == shape
    assert list(df.columns) == ["date", *(["geo"] if name == "geo" else []), "sales", "tv",
                                "search", "social", "price"]
    assert truth["settings"]["seed"] == EXAMPLES[name]["seed"]
    expected, expected_truth = simulate(**truth["settings"])
    assert (df["date"].to_numpy() == expected["date"].to_numpy()).all()
    if name == "geo":
        assert df["geo"].tolist() == expected["geo"].tolist()
        assert df["geo"].nunique() == 5
    num = ["sales", "tv", "search", "social", "price"]
    np.testing.assert_allclose(df[num].to_numpy(), expected[num].to_numpy(), rtol=1e-12,
                               atol=1e-300)
    assert truth["roi"] == pytest.approx(expected_truth["roi"], rel=1e-12)


def test_load_example_unknown_name_lists_names():
    with pytest.raises(ValueError, match="national"):
        load_example("nope")
    with pytest.raises(ValueError, match="geo"):
        load_example_truth("nope")


def test_regenerating_the_examples_reproduces_the_shipped_files(tmp_path):
    _regenerate_examples(tmp_path)
    shipped = resources.files("mmm_jax").joinpath("examples")
    names = [f"{n}{suffix}" for n in EXAMPLES for suffix in (".csv", "_truth.json")]
    for name in [*names, "README.md"]:
        assert (tmp_path / name).read_bytes() == shipped.joinpath(name).read_bytes(), name
