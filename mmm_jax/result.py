"""The fit result: one frozen value holding everything a fit produced.

``MMM.fit``, :func:`mmm_jax.fit_many` and ``MMM.load`` each build one :class:`FitResult` and
set it on the model in one step; the outputs (ROI, contributions, curves, prediction), the
allocator, the report and save/load read it. It holds no cache: the allocator keys its cache
weakly on the result (see :mod:`mmm_jax.caches`), so a refit or a dropped model frees it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

import numpy as np
import pandas as pd

from mmm_jax import diagnostics as diag_mod
from mmm_jax.data import MMMData
from mmm_jax.features import Scales, compute_scales, design, knot_count
from mmm_jax.model import Dims
from mmm_jax.sampler_config import SamplerConfig
from mmm_jax.spec import ModelSpec


def model_dims(spec: ModelSpec, data: MMMData) -> Dims:
    """The static sizes of ``spec``'s model on ``data``."""
    knots = (knot_count(spec.baseline_knots, data.n_time, data.period_days)
             if spec.baseline == "piecewise" or spec.time_varying_media else 0)
    return Dims(n_geos=data.n_geos if data.is_geo else None, n_channels=data.n_channels,
                n_controls=data.n_controls, n_fourier=2 * spec.seasonality_degree,
                n_dow=6 if data.freq == "D" else 0, n_knots=knots)


def float_dtype():
    """JAX's default float dtype right now (float32 unless x64 is enabled)."""
    import jax.numpy as jnp

    return jnp.zeros(()).dtype


def model_inputs(spec: ModelSpec, data: MMMData, scales: Scales, dates, media, controls
                 ) -> dict:
    """The unit-scale design of ``dates`` / ``media`` / ``controls`` (history or beyond)."""
    return design(dates, media, controls, scales, period_days=data.period_days,
                  n_fourier=spec.seasonality_degree, seasonality_period=spec.seasonality_period,
                  dtype=float_dtype(), n_knots=model_dims(spec, data).n_knots)


def unit_target(data: MMMData, scales: Scales) -> np.ndarray:
    """The KPI divided by its scale (per geo for geo data)."""
    scale = scales.target[:, None] if data.is_geo else scales.target
    return np.asarray(data.target / scale, dtype=float_dtype())


@dataclasses.dataclass(frozen=True, eq=False)
class FitResult:
    """A fitted model's state (read-only: build a new one instead of changing it).

    Attributes:
        spec: the :class:`~mmm_jax.ModelSpec` that was fitted.
        data: the :class:`~mmm_jax.MMMData`, in original units.
        scales: the unit-scale factors of ``data`` (:class:`~mmm_jax.features.Scales`).
        sampler: the :class:`~mmm_jax.SamplerConfig` used.
        seed: the integer seed of the run.
        samples: site -> ``(chain, draw, ...)`` constrained posterior draws.
        sample_stats: ``diverging``, ``num_steps``, ``tree_depth``, ``accept_prob``,
            ``potential_energy``, ``energy``, ``step_size`` (each ``(chain, draw)``) and,
            for fresh fits, ``warmup_num_steps``.
        holdout: boolean mask of the observations kept out of the likelihood, shaped like
            ``data.target`` (None: every observation was fitted; see :mod:`mmm_jax.holdout`).
        lift_tests: the checked lift-test table the fit was calibrated with (None: none; see
            :mod:`mmm_jax.lift_tests`).

    Example:
        >>> import mmm_jax as mj
        >>> data = mj.MMMData.from_dataframe(mj.load_example("national"), date="date",
        ...     target="sales", media=["tv", "search", "social"], controls=["price"])
        >>> model = mj.MMM().fit(data, num_warmup=50, num_samples=50, num_chains=1,
        ...                      progress_bar=False, check=False)  # doctest: +SKIP
        >>> model.result.samples["beta"].shape  # doctest: +SKIP
        (1, 50, 3)
    """

    spec: ModelSpec
    data: MMMData
    scales: Scales
    sampler: SamplerConfig
    seed: int
    samples: Mapping[str, np.ndarray]
    sample_stats: Mapping[str, np.ndarray]
    holdout: np.ndarray | None = None
    lift_tests: pd.DataFrame | None = None

    @classmethod
    def create(cls, spec: ModelSpec, data: MMMData, sampler: SamplerConfig, seed: int,
               samples: Mapping, sample_stats: Mapping, holdout=None,
               scales: Scales | None = None, lift_tests=None) -> FitResult:
        """A result with ``data``'s scales (computed unless the caller already has them):
        what every producer calls."""
        scales = compute_scales(data) if scales is None else scales
        return cls(spec=spec, data=data, scales=scales, sampler=sampler,
                   seed=int(seed), samples=dict(samples), sample_stats=dict(sample_stats),
                   holdout=None if holdout is None else np.asarray(holdout, bool),
                   lift_tests=lift_tests)

    @functools.cached_property
    def diagnostics(self) -> dict:
        """Convergence diagnostics (:func:`mmm_jax.diagnostics.compute`), computed once."""
        return diag_mod.compute(self.samples, self.sample_stats, self.sampler.max_tree_depth)

    @property
    def dims(self) -> Dims:
        return model_dims(self.spec, self.data)

    def inputs(self, dates=None, media=None, controls=None) -> dict:
        """The unit-scale design over the history (default) or given periods."""
        data = self.data
        if dates is None:
            dates, media, controls = data.dates, data.media, data.controls
        return model_inputs(self.spec, data, self.scales, dates, media, controls)

    def unit_target(self) -> np.ndarray:
        return unit_target(self.data, self.scales)
