"""The :class:`MMM` estimator: configure, fit with NUTS, then read ROI, contributions, curves."""

from __future__ import annotations

import numpy as np

from mmm_jax import diagnostics as diag_mod
from mmm_jax import outputs
from mmm_jax.allocate import AllocatorMixin
from mmm_jax.config import ModelConfig
from mmm_jax.data import MMMData
from mmm_jax.features import Scales, compute_scales, design
from mmm_jax.model import Dims, make_model
from mmm_jax.sampler import SamplerConfig, run_nuts


class MMM(outputs.OutputsMixin, AllocatorMixin):
    """Bayesian media mix model: media -> adstock -> saturation -> contribution, plus baseline.

    Args:
        adstock: adstock kernel name: ``"geometric"`` (default), ``"delayed"``/``"carryover"``,
            ``"weibull_cdf"``, ``"weibull_pdf"`` or ``"none"``.
        saturation: ``"hill"`` (default), ``"logistic"``, ``"michaelis_menten"``, ``"power"``
            or ``"none"``.
        seasonality_degree: yearly Fourier degree (0 = none). seasonality_period: in days.
        trend: include a linear trend. likelihood: ``"normal"`` or ``"student_t"``.
        priors: custom priors by site name, e.g. ``{"beta": dist.HalfNormal(1.0)}``
            (see :mod:`mmm_jax.priors` for the sites and defaults).

    Example:
        >>> import mmm_jax as mj
        >>> df = mj.load_example("national")
        >>> data = mj.MMMData.from_dataframe(df, date="date", target="sales",
        ...                                  media=["tv", "search", "social"], controls=["price"])
        >>> model = mj.MMM(adstock="geometric", saturation="hill")
        >>> model = model.fit(data, num_warmup=100, num_samples=100, num_chains=2, seed=0,
        ...                   progress_bar=False)  # doctest: +SKIP
        >>> model.roi()  # doctest: +SKIP
    """

    def __init__(self, adstock: str = "geometric", saturation: str = "hill", *,
                 seasonality_degree: int = 2, seasonality_period: float = 365.25,
                 trend: bool = True, likelihood: str = "normal", priors: dict | None = None):
        self.config = ModelConfig(adstock=adstock, saturation=saturation,
                                  seasonality_degree=seasonality_degree,
                                  seasonality_period=seasonality_period, trend=trend,
                                  likelihood=likelihood, priors=dict(priors or {}))
        self._reset()

    def _reset(self):
        self.data: MMMData | None = None
        self.scales: Scales | None = None
        self.sampler: SamplerConfig | None = None
        self.seed: int | None = None
        self.samples: dict | None = None
        self.sample_stats: dict | None = None
        self._diagnostics: dict | None = None

    # ----------------------------------------------------------------- fitting
    def _dims(self, data: MMMData) -> Dims:
        n_dow = 6 if data.freq == "D" else 0
        return Dims(n_geos=data.n_geos if data.is_geo else None, n_channels=data.n_channels,
                    n_controls=data.n_controls, n_fourier=2 * self.config.seasonality_degree,
                    n_dow=n_dow)

    def _inputs(self, dates, media, controls) -> dict:
        import jax.numpy as jnp

        return design(dates, media, controls, self.scales, period_days=self.data.period_days,
                      n_fourier=self.config.seasonality_degree,
                      seasonality_period=self.config.seasonality_period,
                      dtype=jnp.zeros(()).dtype)

    def fit(self, data: MMMData, *, num_warmup: int = 1000, num_samples: int = 1000,
            num_chains: int = 4, seed: int = 0, target_accept: float = 0.85,
            max_tree_depth: int = 10, dense_mass: bool = False, chain_method: str = "auto",
            precision: str = "float32", progress_bar: bool = True, check: bool = True) -> MMM:
        """Sample the posterior with NUTS.

        Args:
            data: an :class:`MMMData` (``MMMData.from_dataframe(...)``).
            num_warmup, num_samples: iterations per chain. num_chains: chains (>= 2 for
                R-hat; 4 recommended).
            seed: integer seed; the same seed gives the same draws on the same machine.
            target_accept, max_tree_depth, dense_mass: NUTS settings.
            chain_method: ``"auto"`` spreads chains over devices when there are several,
                else runs them one after another on a CPU and vectorised on a GPU/TPU; or
                ``"sequential"``, ``"vectorized"``, ``"parallel"``.
            precision: ``"float32"`` (default; about twice as fast on a CPU) or
                ``"float64"`` (sampled in 64-bit floats; draws are float64).
            progress_bar: show progress. check: warn (``ConvergenceWarning``) naming the
                parameters when R-hat > 1.01, ESS < 400 or there are divergences.

        Returns:
            self, fitted.

        Raises:
            ValueError: ``data`` is not an ``MMMData``, or a setting is invalid.
        """
        if not isinstance(data, MMMData):
            raise ValueError(f"fit(data=...) needs an MMMData, got {type(data).__name__}; build "
                             "it with mmm_jax.MMMData.from_dataframe(df, date=..., target=..., "
                             "media=[...])")
        sampler = SamplerConfig(num_warmup=num_warmup, num_samples=num_samples,
                                num_chains=num_chains, target_accept=target_accept,
                                max_tree_depth=max_tree_depth, dense_mass=dense_mass,
                                chain_method=chain_method, precision=precision,
                                progress_bar=progress_bar)
        self._reset()
        self.data, self.scales = data, compute_scales(data)
        dims = self._dims(data)
        inputs = self._inputs(data.dates, data.media, data.controls)
        y = self._unit_target()
        result = run_nuts(make_model(self.config, dims), inputs, y, sampler, int(seed),
                          cache_key=(self.config.key, dims))
        self.sampler, self.seed = sampler, int(seed)
        self.samples, self.sample_stats = result.samples, result.stats
        if check:
            diag_mod.check(self._compute_diagnostics())
        return self

    def _unit_target(self):
        target = self.data.target
        scale = self.scales.target[:, None] if self.data.is_geo else self.scales.target
        return np.asarray(target / scale, dtype=self._inputs_dtype())

    @staticmethod
    def _inputs_dtype():
        import jax.numpy as jnp

        return jnp.zeros(()).dtype

    def _require_fit(self):
        if self.samples is None:
            raise ValueError("this MMM is not fitted yet; call model.fit(data) or MMM.load(path)")

    def _compute_diagnostics(self) -> dict:
        if self._diagnostics is None:
            self._diagnostics = diag_mod.compute(self.samples, self.sample_stats,
                                                 self.sampler.max_tree_depth)
        return self._diagnostics

    def diagnostics(self, *, detail: bool = False) -> dict:
        """Convergence diagnostics of the fit.

        Returns:
            dict with ``max_rhat`` (rank-normalised split R-hat), ``min_ess_bulk``,
            ``min_ess_tail``, ``divergences``, ``tree_depth_saturation``, ``mean_steps``,
            ``worst_rhat``/``worst_ess_bulk``/``worst_ess_tail`` (parameter names) and
            ``passed`` (every threshold met). ``detail=True`` adds per-parameter dicts.
        """
        self._require_fit()
        d = dict(self._compute_diagnostics())
        d["passed"] = not diag_mod.problems(d)
        if not detail:
            for k in ("rhat", "ess_bulk", "ess_tail"):
                d.pop(k)
        return d

    # ------------------------------------------------------------ persistence
    def to_inference_data(self):
        """The fit as an ArviZ ``InferenceData`` (posterior, sample_stats, observed_data,
        constant_data) with named coords (channel, geo, date, control, ...)."""
        from mmm_jax.io import to_inference_data

        self._require_fit()
        return to_inference_data(self)

    def save(self, path) -> None:
        """Save to directory ``path`` (NetCDF posterior and data + JSON config; no pickle)."""
        from mmm_jax.io import save

        self._require_fit()
        save(self, path)

    @classmethod
    def load(cls, path) -> MMM:
        """Load a model saved with :meth:`save`; raises ``ValueError`` on a corrupted file or
        another format version."""
        from mmm_jax.io import load

        return load(cls, path)

    def __repr__(self) -> str:
        state = "unfitted" if self.samples is None else (
            f"fitted on {self.data.n_time} periods x {self.data.n_channels} channels"
            + (f" x {self.data.n_geos} geos" if self.data.is_geo else ""))
        return (f"MMM(adstock={self.config.adstock!r}, saturation={self.config.saturation!r}, "
                f"{state})")

