"""The :class:`MMM` estimator: configure, fit with NUTS, then read ROI, contributions, curves."""

from __future__ import annotations

from mmm_jax import diagnostics as diag_mod
from mmm_jax import fit as fit_mod
from mmm_jax import outputs
from mmm_jax.allocate import AllocatorMixin
from mmm_jax.data import MMMData
from mmm_jax.model import Dims
from mmm_jax.result import FitResult, float_dtype, model_dims, model_inputs
from mmm_jax.sampler_config import SamplerConfig
from mmm_jax.spec import ModelSpec


class MMM(outputs.OutputsMixin, AllocatorMixin):
    """Bayesian media mix model: media -> adstock -> saturation -> contribution, plus baseline.

    Args:
        adstock: adstock kernel name: ``"geometric"`` (default), ``"delayed"``/``"carryover"``,
            ``"weibull_cdf"``, ``"weibull_pdf"`` or ``"none"``.
        saturation: ``"hill"`` (default), ``"logistic"``, ``"michaelis_menten"``, ``"power"``
            or ``"none"``.
        spec: a whole :class:`~mmm_jax.ModelSpec` (keywords then replace its fields).
        **options: any other field of :class:`~mmm_jax.ModelSpec`: ``media_prior``
            (``"contribution"``, ``"roi"``, ``"mroi"``, ``"coefficient"``), ``baseline``
            (``"piecewise"``, ``"linear"``), ``baseline_knots``, ``time_varying_media``,
            ``seasonality_degree``, ``seasonality_period``, ``trend``, ``likelihood``,
            ``priors`` (custom priors by site name, e.g. ``{"roi": dist.LogNormal(0.2,
            0.9)}`` with ``media_prior="roi"``; see :mod:`mmm_jax.priors`).

    Attributes:
        spec: the model specification (``config`` is the same object).
        result: the :class:`~mmm_jax.FitResult` once fitted (else None); ``data``,
            ``scales``, ``samples``, ``sample_stats``, ``sampler`` and ``seed`` read from it.

    Raises:
        ValueError: an unknown option (with a did-you-mean) or a bad value, naming it.

    Example:
        >>> import mmm_jax as mj
        >>> df = mj.load_example("national")
        >>> data = mj.MMMData.from_dataframe(df, date="date", target="sales",
        ...                                  media=["tv", "search", "social"], controls=["price"])
        >>> model = mj.MMM(adstock="geometric", saturation="hill")
        >>> model.spec.trend
        True
        >>> model = model.fit(data, num_warmup=100, num_samples=100, num_chains=2, seed=0,
        ...                   progress_bar=False)  # doctest: +SKIP
        >>> model.roi()  # doctest: +SKIP
    """

    def __init__(self, adstock: str | None = None, saturation: str | None = None, *,
                 spec: ModelSpec | None = None, **options):
        named = {k: v for k, v in (("adstock", adstock), ("saturation", saturation))
                 if v is not None}
        self.spec = ModelSpec.build(spec, **named, **options)
        self.result: FitResult | None = None

    # ----------------------------------------------------------------- fitted state
    @property
    def config(self) -> ModelSpec:
        """The model specification (the same object as :attr:`spec`)."""
        return self.spec

    def _set_result(self, result: FitResult) -> MMM:
        if result.spec != self.spec:
            raise ValueError("the fit result belongs to another model specification")
        self.result = result
        return self

    def _state(self, name):
        return None if self.result is None else getattr(self.result, name)

    data = property(lambda self: self._state("data"), doc="the fitted MMMData (or None)")
    scales = property(lambda self: self._state("scales"), doc="unit-scale factors (or None)")
    samples = property(lambda self: self._state("samples"), doc="posterior draws (or None)")
    sample_stats = property(lambda self: self._state("sample_stats"),
                            doc="per-draw sampler statistics (or None)")
    sampler = property(lambda self: self._state("sampler"), doc="the SamplerConfig (or None)")
    seed = property(lambda self: self._state("seed"), doc="the fit's seed (or None)")

    # ----------------------------------------------------------------- fitting
    def fit(self, data: MMMData, *, sampler: SamplerConfig | None = None, seed: int = 0,
            holdout=None, lift_tests=None, check: bool = True, **sampler_options) -> MMM:
        """Sample the posterior with NUTS.

        Args:
            data: an :class:`MMMData` (``MMMData.from_dataframe(...)``).
            sampler: a :class:`~mmm_jax.SamplerConfig` (default: its defaults, 4 chains x
                (1000 warmup + 1000 draws)).
            seed: integer seed; the same seed gives the same draws on the same machine.
            holdout: keep observations out of the likelihood to validate out of sample: the
                number of final periods (``holdout=13``), or a boolean mask over periods
                ``(T,)`` or ``(geo, period)`` (True = held out). :meth:`fit_metrics` then
                reports ``train`` and ``test`` rows (see :mod:`mmm_jax.holdout`).
            check: warn (``ConvergenceWarning``) naming the parameters when R-hat > 1.01,
                ESS < 400 or there are divergences.
            **sampler_options: shortcuts for fields of :class:`~mmm_jax.SamplerConfig`
                replacing those of ``sampler``: ``num_warmup``, ``num_samples``,
                ``num_chains``, ``target_accept``, ``max_tree_depth``, ``dense_mass``,
                ``chain_method``, ``init_jitter``, ``precision``, ``progress_bar``.

        Returns:
            self, fitted.

        Raises:
            ValueError: ``data`` is not an ``MMMData``, a setting is invalid (named), or a
                lift-test row breaks a rule (names the row and the rule).
        """
        settings = SamplerConfig.build(sampler, **sampler_options)
        result = fit_mod.fit_one(self.spec, data, settings, seed, holdout=holdout,
                                 lift_tests=lift_tests)
        self._set_result(result)
        if check:
            diag_mod.check(result.diagnostics)
        return self

    # Private views used by the outputs, the allocator and the plots.
    def _dims(self, data: MMMData) -> Dims:
        return model_dims(self.spec, data)

    def _inputs(self, dates, media, controls) -> dict:
        return model_inputs(self.spec, self.data, self.scales, dates, media, controls)

    def _unit_target(self):
        return self.result.unit_target()

    @staticmethod
    def _inputs_dtype():
        return float_dtype()

    def _require_fit(self):
        if self.result is None:
            raise ValueError("this MMM is not fitted yet; call model.fit(data) or MMM.load(path)")

    def diagnostics(self, *, detail: bool = False) -> dict:
        """Convergence diagnostics of the fit.

        Returns:
            dict with ``max_rhat`` (rank-normalised split R-hat), ``min_ess_bulk``,
            ``min_ess_tail``, ``divergences``, ``tree_depth_saturation``, ``mean_steps``,
            ``worst_rhat``/``worst_ess_bulk``/``worst_ess_tail`` (parameter names) and
            ``passed`` (every threshold met). ``detail=True`` adds per-parameter dicts.
        """
        self._require_fit()
        d = dict(self.result.diagnostics)
        d["passed"] = not diag_mod.problems(d)
        if not detail:
            for k in ("rhat", "ess_bulk", "ess_tail"):
                d.pop(k)
        return d

    # ------------------------------------------------------------ persistence
    def to_inference_data(self, *, prior_draws: int = 500, seed: int | None = None,
                          geo_contribution: bool | None = None):
        """The fit as an ArviZ ``InferenceData`` (``xarray.DataTree`` on ArviZ 1.x) with
        every group: posterior (plus ``contribution`` and ``roi`` in KPI units), prior (the
        declared priors), prior_predictive, posterior_predictive, log_likelihood (of the KPI
        in original units), sample_stats, observed_data, constant_data; named coords
        (date, channel, geo, control, ...). See :mod:`mmm_jax.inference_data`.

        Args:
            prior_draws: draws of the prior groups (0 leaves them out).
            seed: seed of the prior draws and predictive noise (default: the fit's seed).
            geo_contribution: keep a geo model's ``contribution`` per geo (True) or sum it
                over geos (False); default: per geo unless it would exceed 1 GiB.

        Example:
            >>> idata = model.to_inference_data(prior_draws=200)  # doctest: +SKIP
            >>> az.loo(idata)  # doctest: +SKIP
        """
        from mmm_jax.inference_data import to_inference_data

        self._require_fit()
        return to_inference_data(self.result, prior_draws=prior_draws, seed=seed,
                                 geo_contribution=geo_contribution)

    def save(self, path) -> None:
        """Save to directory ``path`` (NetCDF posterior and data + JSON config; no pickle)."""
        from mmm_jax.io import save

        self._require_fit()
        save(self.result, path)

    @classmethod
    def load(cls, path) -> MMM:
        """Load a model saved with :meth:`save`; raises ``ValueError`` on a corrupted file or
        another format version."""
        from mmm_jax.io import load

        result = load(path)
        return cls(spec=result.spec)._set_result(result)

    def __repr__(self) -> str:
        data = self.data
        state = "unfitted" if data is None else (
            f"fitted on {data.n_time} periods x {data.n_channels} channels"
            + (f" x {data.n_geos} geos" if data.is_geo else ""))
        return (f"MMM(adstock={self.spec.adstock!r}, saturation={self.spec.saturation!r}, "
                f"{state})")
