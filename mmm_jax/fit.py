"""From a specification and data to a :class:`~mmm_jax.result.FitResult`: one NUTS run.

:func:`fit_one` serves ``MMM.fit``; :func:`fit_batch` serves :func:`mmm_jax.fit_many` (K
same-shaped datasets sampled by one compiled program). Both lay the data out on the unit scale
the same way (:func:`_problem`) and hand it to :func:`mmm_jax.sampler.run_nuts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from mmm_jax.data import MMMData
from mmm_jax.features import Scales, compute_scales
from mmm_jax.holdout import holdout_mask
from mmm_jax.lift_tests import check_lift_tests, lift_inputs
from mmm_jax.media_priors import prior_inputs
from mmm_jax.model import Dims, make_model
from mmm_jax.result import FitResult, float_dtype, model_dims, model_inputs, unit_target
from mmm_jax.sampler import run_nuts
from mmm_jax.sampler_config import SamplerConfig
from mmm_jax.spec import ModelSpec


class _Problem(NamedTuple):
    scales: Scales
    dims: Dims
    inputs: dict
    y: np.ndarray


def check_data(data, where: str = "fit(data=...)") -> MMMData:
    if not isinstance(data, MMMData):
        raise ValueError(f"{where} is {type(data).__name__}, not an MMMData; build it with "
                         "mmm_jax.MMMData.from_dataframe(df, date=..., target=..., media=[...])")
    return data


def check_seed(seed, where: str = "seed") -> int:
    """``seed`` as an int; it must be an integer >= 0 (not a bool, float or string)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{where}={seed!r} must be an integer >= 0 (the same seed gives the "
                         "same draws)")
    return int(seed)


def _problem(spec: ModelSpec, data: MMMData, holdout=None, lift_tests=None) -> _Problem:
    scales = compute_scales(data)
    dtype = float_dtype()
    inputs = model_inputs(spec, data, scales, data.dates, data.media, data.controls)
    inputs.update(prior_inputs(spec.media_prior, data, scales, dtype))
    if holdout is not None:  # a traced input: any holdout of this shape shares one program
        inputs["obs_mask"] = ~holdout
    if lift_tests is not None:  # traced too: any table of this length shares one program
        inputs.update(lift_inputs(lift_tests, data, scales, dtype))
    return _Problem(scales, model_dims(spec, data), inputs, unit_target(data, scales))


def _cache_key(spec: ModelSpec, p: _Problem) -> tuple:
    n_lift = int(np.shape(p.inputs["lift_obs"])[-1]) if "lift_obs" in p.inputs else 0
    return (spec.key, p.dims, "obs_mask" in p.inputs, n_lift)


def fit_one(spec: ModelSpec, data: MMMData, sampler: SamplerConfig, seed: int,
            holdout=None, lift_tests=None) -> FitResult:
    """Sample ``spec``'s posterior on ``data`` (see ``MMM.fit``); ``holdout`` as for
    :func:`mmm_jax.holdout.holdout_mask`, ``lift_tests`` as for
    :func:`mmm_jax.lift_tests.check_lift_tests`."""
    seed = check_seed(seed)
    mask = holdout_mask(check_data(data), holdout)
    table = None if lift_tests is None else check_lift_tests(lift_tests, data)
    p = _problem(spec, data, mask, table)
    run = run_nuts(make_model(spec, p.dims), p.inputs, p.y, sampler, seed,
                   cache_key=_cache_key(spec, p))
    return FitResult.create(spec, data, sampler, seed, run.samples, run.stats, holdout=mask,
                            scales=p.scales, lift_tests=table)


def fit_batch(spec: ModelSpec, datasets: Sequence[MMMData], sampler: SamplerConfig,
              seeds: Sequence[int]) -> list[FitResult]:
    """One result per dataset from one vectorised program (see :func:`mmm_jax.fit_many`).

    Raises:
        ValueError: an empty list, a non-``MMMData`` entry, or shapes that differ (names the
            first dataset and field that differ from dataset 0).
    """
    seeds = [check_seed(s) for s in seeds]
    datasets = list(datasets)
    if not datasets:
        raise ValueError("fit_many needs at least one dataset")
    for k, data in enumerate(datasets):
        check_data(data, f"datasets[{k}]")
    problems = [_problem(spec, data) for data in datasets]
    _check_same_shapes(datasets, [p.inputs for p in problems])
    stacked = {k: np.stack([p.inputs[k] for p in problems]) for k in problems[0].inputs}
    run = run_nuts(make_model(spec, problems[0].dims), stacked,
                   np.stack([p.y for p in problems]), sampler, [int(s) for s in seeds],
                   cache_key=_cache_key(spec, problems[0]), many=True)
    return [FitResult.create(spec, data, sampler, seeds[k],
                             {name: v[k] for name, v in run.samples.items()},
                             {name: v[k] for name, v in run.stats.items()},
                             scales=problems[k].scales)
            for k, data in enumerate(datasets)]


def _check_same_shapes(datasets, inputs) -> None:
    ref = datasets[0]
    for k, data in enumerate(datasets[1:], start=1):
        for field in ("freq", "n_geos", "n_channels", "n_controls", "n_time"):
            if getattr(data, field) != getattr(ref, field):
                raise ValueError(
                    f"datasets[{k}] has {field}={getattr(data, field)!r} but datasets[0] has "
                    f"{getattr(ref, field)!r}; fit_many needs same-shaped data (fit it alone "
                    "with MMM().fit, or trim/pad the data)")
        for name, value in inputs[k].items():
            if value.shape != inputs[0][name].shape:
                raise ValueError(f"datasets[{k}] gives {name} of shape {value.shape}, "
                                 f"datasets[0] {inputs[0][name].shape}; use same-shaped data")
