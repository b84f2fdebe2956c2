"""The fit result: one frozen value, set on the model in one step by fit, fit_many and load."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import mmm_jax as mj
from mmm_jax import _schema


def test_the_result_is_frozen_and_the_model_reads_it(small_national):
    result = small_national.result
    assert isinstance(result, mj.FitResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.seed = 1
    with pytest.raises(AttributeError):
        small_national.samples = {}  # read-only view of the result
    assert small_national.samples is result.samples and small_national.data is result.data
    assert small_national.sampler is result.sampler and small_national.seed == result.seed
    assert small_national.spec == result.spec and small_national.config is small_national.spec


def test_diagnostics_are_computed_once(small_national):
    result = small_national.result
    assert result.diagnostics is result.diagnostics
    assert small_national.diagnostics()["max_rhat"] == result.diagnostics["max_rhat"]


def test_a_result_of_another_specification_is_refused(small_national):
    with pytest.raises(ValueError, match="another model specification"):
        mj.MMM(trend=False)._set_result(small_national.result)


def test_unfitted_model_has_no_result():
    model = mj.MMM()
    assert model.result is None and model.data is None and model.samples is None
    with pytest.raises(ValueError, match="not fitted"):
        model.roi()


def test_load_sets_one_result_equal_to_the_saved_one(small_national, tmp_path):
    small_national.save(tmp_path / "m")
    loaded = mj.MMM.load(tmp_path / "m").result
    saved = small_national.result
    assert loaded.spec == saved.spec
    # the progress bar is runtime-only (not saved); every other setting comes back
    assert _schema.to_plain(loaded.sampler) == _schema.to_plain(saved.sampler)
    assert loaded.seed == saved.seed
    for name, value in saved.samples.items():
        np.testing.assert_array_equal(loaded.samples[name], value)
    np.testing.assert_array_equal(loaded.scales.media, saved.scales.media)


def test_unit_scale_inputs_come_from_the_result(small_national):
    result = small_national.result
    inputs = result.inputs()
    assert inputs["media"].shape == (result.data.n_time, result.data.n_channels)
    np.testing.assert_allclose(np.asarray(result.unit_target()).mean(), 1.0, rtol=1e-5)
