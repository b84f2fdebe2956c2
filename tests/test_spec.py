"""Every field of the model specification and the sampler settings round-trips through the
TOML config, save/load and the report's settings table. The fields are walked, not listed, so
a new option is covered without editing this file (a new kind of option fails loudly here)."""

from __future__ import annotations

import dataclasses
import tomllib

import numpyro.distributions as dist
import pytest

import mmm_jax as mj
from mmm_jax import _schema
from mmm_jax._config_file import RunConfig, dumps_config, parse_config
from mmm_jax.report import _settings_section
from tests.prior_fits import prior_result as _prior_result

COLUMNS = {"date": "date", "target": "sales", "media": ["tv", "search", "social"],
           "controls": ["price"]}


def _other_value(field):
    """A valid value different from the field's default, from its kind and rule."""
    rule = field.metadata["rule"]
    default = (field.default if field.default is not dataclasses.MISSING
               else field.default_factory())
    choices = getattr(rule.check, "choices", None)
    if choices:
        return next(c for c in choices if c != default)
    if rule.kind == "bool":
        return not default
    if rule.kind == "int":  # the nearest larger value the rule accepts
        return next(v for v in range(default + 1, default + 10)
                    if rule.check is None or rule.check(v) is None)
    if rule.kind == "float":
        return default * 0.5 if 0 < default * 0.5 < 1 and default < 1 else default + 1.5
    if rule.kind == "priors":
        return {"sigma": dist.HalfNormal(0.3), "gamma": dist.Normal(0.0, 2.0).expand([1])}
    raise AssertionError(f"no test value for option kind {rule.kind!r} ({field.name}); "
                         "teach _other_value this kind")


def _cases(cls):
    return [pytest.param(f, id=f.name) for f in _schema.fields(cls)]


def _same(a, b, name):
    va, vb = getattr(a, name), getattr(b, name)
    if name == "priors":
        assert set(va) == set(vb)
        for site in va:
            assert type(va[site]) is type(vb[site]) and va[site].batch_shape == vb[site].batch_shape
    else:
        assert va == vb and type(va) is type(vb)


@pytest.mark.parametrize("field", _cases(mj.ModelSpec))
def test_every_model_field_round_trips(field, national_data, tmp_path):
    value = _other_value(field)
    spec = mj.ModelSpec(**{field.name: value})
    assert spec != mj.ModelSpec(), f"{field.name}: the test value equals the default"
    # TOML: write the run configuration and read it back
    config = RunConfig(columns=COLUMNS, spec=spec, sampler=mj.SamplerConfig(), seed=3,
                       allocation=None)
    again = parse_config(tomllib.loads(dumps_config(config)))
    assert again.spec == spec
    _same(again.spec, spec, field.name)
    # save/load
    result = _prior_result(spec, national_data)
    mj.MMM(spec=spec)._set_result(result).save(tmp_path / "m")
    loaded = mj.MMM.load(tmp_path / "m")
    assert loaded.spec == spec
    _same(loaded.spec, spec, field.name)
    # the report's settings table names the field with its value
    html = _settings_section(result)
    rows = dict((name, text) for name, text, _ in _schema.rows(spec, mj.spec.ENCODE))
    assert f"model.{field.name}" in html and rows[field.name] != repr(
        getattr(mj.ModelSpec(), field.name))


@pytest.mark.parametrize("field", _cases(mj.SamplerConfig))
def test_every_sampler_field_round_trips(field, national_data, tmp_path):
    value = _other_value(field)
    sampler = mj.SamplerConfig(**{field.name: value})
    config = RunConfig(columns=COLUMNS, spec=mj.ModelSpec(), sampler=sampler, seed=3,
                       allocation=None)
    again = parse_config(tomllib.loads(dumps_config(config)))
    assert again.sampler == sampler and again.seed == 3
    result = _prior_result(mj.ModelSpec(), national_data, sampler)
    mj.MMM()._set_result(result).save(tmp_path / "m")
    assert mj.MMM.load(tmp_path / "m").sampler == sampler
    assert f"sampler.{field.name}" in _settings_section(result)


def test_runtime_only_fields_stay_out_of_saves_and_toml():
    names = {f.name for f in _schema.fields(mj.SamplerConfig)}
    assert "progress_bar" not in names
    text = dumps_config(RunConfig(columns=COLUMNS, spec=mj.ModelSpec(),
                                  sampler=mj.SamplerConfig(progress_bar=False), seed=0,
                                  allocation=None))
    assert "progress_bar" not in text


def test_keyword_shortcuts_build_the_same_values():
    assert mj.MMM(trend=False).spec == mj.ModelSpec(trend=False)
    assert mj.MMM(spec=mj.ModelSpec(trend=False), likelihood="student_t").spec == \
        mj.ModelSpec(trend=False, likelihood="student_t")
    assert mj.SamplerConfig.build(None, num_chains=2) == mj.SamplerConfig(num_chains=2)


@pytest.mark.parametrize("call,match", [
    (lambda: mj.MMM(adstok="geometric"), "unknown model option 'adstok'; did you mean 'adstock'"),
    (lambda: mj.SamplerConfig.build(None, num_chain=2),
     "unknown sampler setting 'num_chain'; did you mean 'num_chains'"),
    (lambda: mj.SamplerConfig(num_warmup=-1), "num_warmup=-1 must be >= 0"),
    (lambda: mj.SamplerConfig(dense_mass="yes"), "dense_mass='yes' must be true or false"),
    (lambda: mj.ModelSpec(seasonality_period=float("nan")), "must be finite"),
])
def test_bad_options_name_the_field(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_unknown_fields_in_a_saved_model_are_named():
    with pytest.raises(ValueError, match="has no option 'adstok'"):
        _schema.from_plain(mj.ModelSpec, {"adstok": "geometric"})
