"""InferenceData export and save/load (RELIABILITY #11)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import numpyro.distributions as dist
import pandas as pd
import pytest

import mmm_jax as mj


def test_inference_data_has_named_groups_and_coords(small_national, small_geo):
    idata = small_national.to_inference_data()
    for group in ("posterior", "sample_stats", "observed_data", "constant_data"):
        assert group in idata
    post = idata.posterior
    assert list(post["beta"].dims) == ["chain", "draw", "channel"]
    assert list(post.coords["channel"].values) == ["tv", "search", "social"]
    assert list(post["gamma"].coords["control"].values) == ["price"]
    assert int(idata.sample_stats["diverging"].sum()) == small_national.diagnostics()[
        "divergences"]
    assert idata.observed_data["kpi"].shape == (156,)
    g = small_geo.to_inference_data()
    assert list(g.posterior["beta_geo_raw"].dims) == ["chain", "draw", "geo", "channel"]
    assert list(g.observed_data["kpi"].dims) == ["geo", "date"]


def _future(df):
    fut = df.iloc[-4:].drop(columns="sales").copy()
    fut["date"] = fut["date"] + pd.Timedelta(weeks=4)
    return fut


def test_save_load_round_trips_bitwise(small_national, tmp_path):
    small_national.save(tmp_path / "m")
    loaded = mj.MMM.load(tmp_path / "m")
    for name, value in small_national.samples.items():
        assert loaded.samples[name].dtype == value.dtype
        np.testing.assert_array_equal(loaded.samples[name], value)
    for field in ("target", "media", "spend", "controls", "dates"):
        np.testing.assert_array_equal(getattr(loaded.data, field),
                                      getattr(small_national.data, field))
    assert loaded.config == small_national.config
    pd.testing.assert_frame_equal(loaded.roi(), small_national.roi(), check_exact=True)
    fut = _future(mj.load_example("national"))
    np.testing.assert_array_equal(loaded.predict(fut), small_national.predict(fut))
    assert loaded.diagnostics() == small_national.diagnostics()


def test_save_load_geo_and_custom_priors(small_geo, geo_data, tmp_path):
    """Custom priors travel through config.json (the fitted state is the geo fixture's)."""
    model = mj.MMM(media_prior="coefficient",
                   priors={"alpha": dist.Beta(3.0, 3.0), "beta": dist.HalfNormal(0.3)})
    model._set_result(dataclasses.replace(small_geo.result, spec=model.spec))
    model.save(tmp_path / "g")
    loaded = mj.MMM.load(tmp_path / "g")
    assert loaded.config == model.config
    assert float(loaded.config.priors["alpha"].concentration1) == 3.0
    assert loaded.data.geos == geo_data.geos
    pd.testing.assert_frame_equal(loaded.roi(), model.roi(), check_exact=True)
    np.testing.assert_array_equal(loaded.predict(seed=2), model.predict(seed=2))


def test_unsaveable_prior_is_named(small_national, tmp_path):
    model = mj.MMM(media_prior="coefficient",
                   priors={"beta": dist.TruncatedNormal(0.2, 0.1, low=0.0)})
    model._set_result(dataclasses.replace(small_national.result, spec=model.spec))
    with pytest.raises(ValueError, match="prior for site 'beta'"):
        model.save(tmp_path / "x")


def test_other_format_version_and_corruption_fail_clearly(small_national, tmp_path):
    path = tmp_path / "m"
    small_national.save(path)
    config = json.loads((path / "config.json").read_text())
    config["format_version"] = 99
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="format_version=99"):
        mj.MMM.load(path)
    small_national.save(path)
    raw = bytearray((path / "posterior.nc").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (path / "posterior.nc").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="posterior.nc is corrupted"):
        mj.MMM.load(path)
    small_national.save(path)
    (path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="corrupted"):
        mj.MMM.load(path)
    with pytest.raises(ValueError, match="config.json is missing"):
        mj.MMM.load(tmp_path / "nowhere")


def test_saving_an_unfitted_model_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        mj.MMM().save(tmp_path / "m")
